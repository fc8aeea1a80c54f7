"""Kinesis records as Lambda delivers them: the event of a Kinesis event source mapping,
how Lambda reads the function's answer, and the on-failure record.

Used wherever the tools stand in for Lambda (the local AWS's mappings, `dlq --redrive`,
replay), so the function sees exactly what Lambda would send it and the on-failure
destination gets what Lambda would send it (the "Using AWS Lambda with Amazon Kinesis"
page's examples).
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime

from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.wire import KinesisEvent, KinesisRecord, OnFailureRecord


def lambda_event(
    records: list[KinesisRecord],
    *,
    shard_id: str,
    stream_arn: str,
    region: str,
    role_arn: str,
) -> KinesisEvent:
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


def first_failed(
    records: list[KinesisRecord], invocation: Invocation, *, reports_item_failures: bool
) -> int | None:
    """Where Lambda would retry a Kinesis batch from, given the invocation: None when
    it succeeded, else the index of the first record to retry ("Configuring partial batch
    response with Kinesis Data Streams and Lambda", and LocalStack's recordings of real AWS).

    A function error fails the whole batch. With ReportBatchItemFailures the lowest reported
    sequence number is the checkpoint; an empty, null, missing or unknown `itemIdentifier`
    fails the whole batch; no answer, `[]`, `{}` or an empty `batchItemFailures` is success.
    Without it, the answer is ignored."""
    if invocation.error:
        return 0
    answer = invocation.answer
    if not reports_item_failures or not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures")
    if not failures:
        return None
    positions = {record["SequenceNumber"]: i for i, record in enumerate(records)}
    identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if not all(isinstance(i, str) and i in positions for i in identifiers):
        return 0
    return min(positions[str(identifier)] for identifier in identifiers)


def epoch_seconds(moment: datetime | float) -> float:
    """Epoch seconds with milliseconds, as Lambda writes `approximateArrivalTimestamp`."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    return round(seconds, 3)


def on_failure_record(
    records: list[KinesisRecord],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None = None,
) -> OnFailureRecord:
    """What Lambda sends an on-failure destination for a discarded Kinesis batch: where the
    batch was, not its records ("Retain discarded batch records for a Kinesis Data Streams
    event source"). `condition`: RetryAttemptsExhausted or RecordAgeExceeded.

    As recorded on real AWS (LocalStack's test_lambda_integration_kinesis.snapshot.json):
    `approximateInvokeCount` counts the invocations that held these records;
    RetryAttemptsExhausted carries `responseContext`, whose `functionError` is "Unhandled"
    after a function error and null after a partial batch response; RecordAgeExceeded has no
    `responseContext`, however often the records were invoked."""
    record: OnFailureRecord = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "version": "1.0",
        "timestamp": iso_time(time.time()),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": iso_time(
                epoch_seconds(records[0]["ApproximateArrivalTimestamp"])
            ),
            "approximateArrivalOfLastRecord": iso_time(
                epoch_seconds(records[-1]["ApproximateArrivalTimestamp"])
            ),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
    if condition == "RetryAttemptsExhausted":
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        }
    return record


def iso_time(seconds: float) -> str:
    """`2019-11-14T00:38:06.021Z`, as the on-failure record writes its times."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
