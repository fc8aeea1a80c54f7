"""The local Firehose's records and names, as Firehose writes them (no I/O): the event its
Lambda transformer receives, the error record of what failed, and the S3 key prefix.
Sources in the Amazon Data Firehose developer guide: "Transform source data", "Handle
failure in data transformation", "Custom Prefixes for Amazon S3 Objects"."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from event_stream.tools.lambda_model.kinesis_event import epoch_seconds
from event_stream.tools.lambda_model.wire import FirehoseRecord, KinesisRecord

_JAVA_TIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


@dataclass
class Buffered:
    """A record read from the source stream and not yet written."""

    shard_id: str
    record: KinesisRecord

    @property
    def record_id(self) -> str:
        return f"{self.shard_id}:{self.record['SequenceNumber']}"

    @property
    def arrival(self) -> datetime:
        seconds = epoch_seconds(self.record["ApproximateArrivalTimestamp"])
        return datetime.fromtimestamp(seconds, tz=UTC)


def evaluate_prefix(prefix: str, oldest: datetime, error_type: str = "") -> str:
    """A Firehose S3 prefix with its expressions evaluated (UTC), or the default one."""
    if not prefix:
        return oldest.strftime("%Y/%m/%d/%H/")

    def timestamp(match: re.Match[str]) -> str:
        java = match[1]
        return oldest.strftime(re.sub("yyyy|MM|dd|HH|mm|ss", lambda m: _JAVA_TIME[m[0]], java))

    evaluated = re.sub(r"!\{timestamp:([^}]*)\}", timestamp, prefix)
    evaluated = evaluated.replace("!{firehose:error-output-type}", error_type)
    return evaluated.replace("!{firehose:random-string}", uuid.uuid4().hex[:11])


def firehose_record(buffered: Buffered) -> FirehoseRecord:
    """The record as Firehose hands it to a Lambda transformer."""
    record = buffered.record
    arrival_ms = round(epoch_seconds(record["ApproximateArrivalTimestamp"]) * 1000)
    return {
        "recordId": buffered.record_id,
        "approximateArrivalTimestamp": arrival_ms,
        "data": base64.b64encode(record["Data"]).decode("ascii"),
        "kinesisRecordMetadata": {
            "sequenceNumber": record["SequenceNumber"],
            "subsequenceNumber": 0,
            "partitionKey": record["PartitionKey"],
            "shardId": buffered.shard_id,
            "approximateArrivalTimestamp": arrival_ms,
        },
    }


def chunks(buffered: list[Buffered], limit: int) -> list[list[Buffered]]:
    """The buffer in transformer invocations of at most `limit` bytes of data."""
    found: list[list[Buffered]] = []
    size = 0
    for item in buffered:
        if not found or size + len(item.record["Data"]) > limit:
            found.append([])
            size = 0
        found[-1].append(item)
        size += len(item.record["Data"])
    return found
