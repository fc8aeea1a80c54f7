"""Read a stage's event lake: the lines Firehose wrote, in order per shard.

Objects sit under `<stream name>/YYYY/MM/dd/HH/` (the UTC hour of their oldest record, see
EventLake), GZIP, one line per event: `{"event": <envelope>, "kinesis": {"shardId",
"sequenceNumber", "partitionKey", "approximateArrivalTimestamp"}}`. A window of arrival
times reads only the hours it covers (one hour earlier too: an object is filed under its
oldest record's hour and may hold later ones).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools.lambda_model.wire import KinesisRecord


def hour_prefixes(stream_name: str, since: datetime | None, until: datetime | None) -> list[str]:
    """The key prefixes that can hold records that arrived in [since, until]."""
    if since is None:
        return [f"{stream_name}/"]
    end = until or datetime.now(UTC)
    hour = (since - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour <= end:
        prefixes.append(f"{stream_name}/{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    return prefixes


def read_lines(
    s3: Any,
    bucket: str,
    stream_name: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: set[str] | None = None,
    progress: Callable[[int], Any] = lambda objects: None,
) -> list[dict[str, Any]]:
    """Every lake line in the window (arrival time), of the given types, ordered by shard
    and sequence number; a sequence number seen twice (a Firehose retry) appears once.
    `progress(1)` is called after each object read."""
    lines: dict[tuple[str, int], dict[str, Any]] = {}
    for key in _keys(s3, bucket, hour_prefixes(stream_name, since, until)):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        progress(1)
        for raw in gzip.decompress(body).splitlines():
            line = json.loads(raw)
            arrived = datetime.fromtimestamp(line["kinesis"]["approximateArrivalTimestamp"], UTC)
            if (since and arrived < since) or (until and arrived > until):
                continue
            if types and line["event"].get("type") not in types:
                continue
            where = line["kinesis"]
            lines[(where["shardId"], int(where["sequenceNumber"]))] = line
    return [lines[key] for key in sorted(lines)]


def as_record(line: dict[str, Any]) -> KinesisRecord:
    """A lake line as GetRecords answers the record (the data re-encoded as published:
    compact JSON of the envelope, its fields in their order)."""
    where = line["kinesis"]
    return {
        "PartitionKey": where["partitionKey"],
        "SequenceNumber": where["sequenceNumber"],
        "Data": event_envelope.encode(line["event"]),
        "ApproximateArrivalTimestamp": datetime.fromtimestamp(
            where["approximateArrivalTimestamp"], UTC
        ),
    }


def records_in_range(
    s3: Any,
    bucket: str,
    stream_name: str,
    shard_id: str,
    start: str,
    end: str,
    arrivals: tuple[datetime | None, datetime | None],
) -> list[KinesisRecord]:
    """A shard's records from `start` to `end` (sequence numbers, inclusive) as the lake
    keeps them, reading only around their arrival times (a second wider each side: the
    times are to the millisecond)."""
    first, last = arrivals
    lines = read_lines(
        s3,
        bucket,
        stream_name,
        since=first - timedelta(seconds=1) if first else None,
        until=last + timedelta(seconds=1) if last else None,
    )
    return [
        as_record(line)
        for line in lines
        if line["kinesis"]["shardId"] == shard_id
        and int(start) <= int(line["kinesis"]["sequenceNumber"]) <= int(end)
    ]


def objects_per_hour(
    s3: Any, bucket: str, stream_name: str, since: datetime | None, until: datetime | None
) -> dict[str, int]:
    """How many objects the lake holds per UTC hour (`YYYY/MM/DD/HH`) of the window."""
    counts: dict[str, int] = {}
    for key in _keys(s3, bucket, hour_prefixes(stream_name, since, until)):
        hour = "/".join(key.split("/")[1:5])
        counts[hour] = counts.get(hour, 0) + 1
    return dict(sorted(counts.items()))


def buffering_interval(firehose: Any, delivery_stream: str) -> int:
    """How long the delivery stream buffers records before it writes them (seconds, as
    DescribeDeliveryStream reports its BufferingHints; Firehose's default 300)."""
    description = firehose.describe_delivery_stream(DeliveryStreamName=delivery_stream)
    destination = description["DeliveryStreamDescription"]["Destinations"][0]
    hints = destination.get("ExtendedS3DestinationDescription", {}).get("BufferingHints", {})
    return int(hints.get("IntervalInSeconds", 300))


def _keys(s3: Any, bucket: str, prefixes: list[str]) -> Iterator[str]:
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for listed in page.get("Contents", []):
                yield listed["Key"]


def lake_of_stream(cloudformation: Any, stream_arn: str) -> str | None:
    """The lake bucket of the stage whose stream this is, found through the stage's exports
    (`<stack>-streamArn` = the ARN, then `<stack>-lakeBucketName`); None without a lake."""
    exports = {
        export["Name"]: export["Value"]
        for page in cloudformation.get_paginator("list_exports").paginate()
        for export in page["Exports"]
    }
    for name, value in exports.items():
        if name.endswith("-streamArn") and value == stream_arn:
            return exports.get(name.removesuffix("streamArn") + "lakeBucketName")
    return None
