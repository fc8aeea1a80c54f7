"""Kinesis records as Lambda delivers them: the event of a Kinesis event source mapping.

Used wherever the tools invoke a consumer themselves (`dlq --redrive`, the local AWS's
poller), so the function sees exactly what Lambda would send it (the "Using AWS Lambda
with Amazon Kinesis" page's example event).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def lambda_event(
    records: list[dict[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    region: str,
    role_arn: str,
) -> dict[str, Any]:
    """`{"Records": [...]}` for records as GetRecords answers them (boto3 shapes)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": epoch_seconds(
                        record["ApproximateArrivalTimestamp"]
                    ),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def epoch_seconds(moment: datetime | float) -> float:
    """Epoch seconds with milliseconds, as Lambda writes `approximateArrivalTimestamp`."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    return round(seconds, 3)
