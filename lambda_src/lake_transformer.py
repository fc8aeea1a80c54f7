"""The event lake's Firehose transformer: one JSON line per stream record. Stdlib only.

Firehose hands a batch of the stream's records ("Transform source data in Amazon Data
Firehose": `records[]` with `recordId`, base64 `data` and, for a Kinesis source,
`kinesisRecordMetadata`) and takes back each record's `result` and new `data`. Each event
becomes one line

    {"event": <envelope>, "kinesis": {"shardId", "sequenceNumber", "partitionKey",
                                      "approximateArrivalTimestamp"}}

(`approximateArrivalTimestamp` in epoch seconds, as Lambda's Kinesis events carry it), so a
reader of the lake can order a shard's events and replay them as Lambda would deliver them.
A record that is not an envelope is `ProcessingFailed`: Firehose writes it, untouched, under
the error prefix ("Handle failure in data transformation"); nothing is dropped.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_envelope import decode
    from .metrics import UNREADABLE_METRIC, emf_line
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import decode
    from metrics import UNREADABLE_METRIC, emf_line

logger = logging.getLogger("lake_transformer")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    """Firehose's transformation call: every record answered, in order, by its recordId.
    Records that are not envelopes are counted in the `UnreadableRecords` metric."""
    records = [transform(record) for record in event["records"]]
    failed = sum(1 for record in records if record["result"] == "ProcessingFailed")
    if failed:
        function_name = getattr(context, "function_name", None) or os.environ.get(
            "AWS_LAMBDA_FUNCTION_NAME", "local"
        )
        print(emf_line(UNREADABLE_METRIC, failed, function_name=function_name, level="ERROR"))
    return {"records": records}


def transform(record: dict[str, Any]) -> dict[str, str]:
    """One Firehose record: its lake line (`Ok`), or `ProcessingFailed` with its data as is."""
    metadata = record.get("kinesisRecordMetadata") or {}
    try:
        envelope = decode(base64.b64decode(record["data"], validate=True))
    except (KeyError, TypeError, ValueError) as error:
        logger.error(
            "a record goes to the error prefix: %s",
            error,
            extra={
                "shardId": metadata.get("shardId"),
                "sequenceNumber": metadata.get("sequenceNumber"),
            },
        )
        return {
            "recordId": record["recordId"],
            "result": "ProcessingFailed",
            "data": record["data"],
        }
    line = {
        "event": envelope,
        "kinesis": {
            "shardId": metadata.get("shardId"),
            "sequenceNumber": metadata.get("sequenceNumber"),
            "partitionKey": metadata.get("partitionKey"),
            "approximateArrivalTimestamp": (
                metadata.get("approximateArrivalTimestamp", record["approximateArrivalTimestamp"])
                / 1000
            ),
        },
    }
    data = json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
    return {
        "recordId": record["recordId"],
        "result": "Ok",
        "data": base64.b64encode(data.encode("utf-8")).decode("ascii"),
    }
