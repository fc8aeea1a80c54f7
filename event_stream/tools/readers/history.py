"""A stage's history: the lake for what Firehose has written, the stream for the rest.

Firehose buffers records before it writes them (`BufferingHints.IntervalInSeconds`, 300 s
by default: "Amazon Data Firehose buffers incoming data before delivering it"), so the lake
always lags the stream. A window that reaches the present is read from both: the lake's
lines, then, per shard, the stream from just after the newest sequence number the lake holds
for that shard (`AFTER_SEQUENCE_NUMBER`), or from the window's start (`AT_TIMESTAMP`) when
the lake holds none. A record is keyed by shard and sequence number, so one found in both
places is kept once.

A part of the window is in neither place only when the stream has already dropped it
(older than its retention) and the lake does not have it yet: the lake is behind by more
than the retention, or a shard has records the Firehose never wrote. `gaps` names such a
part; callers refuse to act on a window with a gap unless told to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from event_stream.lambda_src import event_envelope
from event_stream.tools.lambda_model.kinesis_event import iso_time
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.readers import lake_reader
from event_stream.tools.readers.shard_reader import GONE, ShardCursor, list_shards

Line = dict[str, Any]  # a lake line: {"event": envelope, "kinesis": {...}}


@dataclass(frozen=True)
class Window:
    """Arrival times, inclusive; None is open-ended. Only events of `types` when given."""

    since: datetime | None = None
    until: datetime | None = None
    types: frozenset[str] | None = None

    def holds(self, arrived: datetime, event_type: Any) -> bool:
        if (self.since and arrived < self.since) or (self.until and arrived > self.until):
            return False
        return not self.types or event_type in self.types


@dataclass(frozen=True)
class Gap:
    """A stretch of arrival times that is in neither the lake nor the stream."""

    start: datetime | None  # None: from the beginning
    end: datetime
    why: str

    def describe(self) -> str:
        start = iso_time(self.start.timestamp()) if self.start else "the beginning"
        return (
            f"events that arrived from {start} to {iso_time(self.end.timestamp())} "
            f"may be in neither the lake nor the stream: {self.why}"
        )


@dataclass
class History:
    """Every event of a window, in order per shard, and where each came from."""

    lines: list[Line]
    from_stream: frozenset[tuple[str, int]]  # (shard, sequence number) the lake lacks
    gaps: list[Gap] = field(default_factory=list)

    @property
    def unwritten(self) -> list[Line]:
        """The window's events on the stream that Firehose has not written yet."""
        return [line for line in self.lines if key_of(line) in self.from_stream]


def read_history(
    s3: Any,
    kinesis: Any,
    bucket: str,
    stream_name: str,
    window: Window,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], Any] = lambda objects: None,
) -> History:
    """The window's events from the lake and, past what the lake holds, from the stream."""
    lake_lines = lake_reader.read_lines(
        s3,
        bucket,
        stream_name,
        since=window.since,
        until=window.until,
        types=set(window.types) if window.types else None,
        progress=progress,
    )
    newest: dict[str, int] = {}
    for line in lake_lines:
        where = line["kinesis"]
        newest[where["shardId"]] = int(where["sequenceNumber"])  # lines are in order
    lines = {key_of(line): line for line in lake_lines}
    unwritten: list[Line] = []
    for shard in list_shards(kinesis, stream_name):
        shard_id = shard["ShardId"]
        for line in _stream_tail(
            kinesis, stream_name, shard_id, newest.get(shard_id), window, sleep
        ):
            if key_of(line) not in lines:
                lines[key_of(line)] = line
                unwritten.append(line)
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    return History(
        lines=[lines[key] for key in sorted(lines)],
        from_stream=frozenset(key_of(line) for line in unwritten),
        gaps=_gaps(s3, bucket, stream_name, window, lake_lines, summary, now()),
    )


def _stream_tail(
    kinesis: Any,
    stream_name: str,
    shard_id: str,
    after: int | None,
    window: Window,
    sleep: Callable[[float], None],
) -> list[Line]:
    """The shard's records after sequence number `after` (or from the window's start) that
    fall in the window, as lake lines; records that are not envelopes are left out, as the
    lake's transformer leaves them out of the lake."""
    start: dict[str, Any]
    if after is not None:
        start = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": str(after)}
    elif window.since is not None:
        start = {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": window.since}
    else:
        start = {"ShardIteratorType": "TRIM_HORIZON"}
    cursor = ShardCursor(kinesis, stream_name, shard_id, start)
    found: list[Line] = []
    try:
        while not cursor.closed:
            wait = cursor.next_read(busy=True) - cursor.clock()
            if wait > 0:  # within the shard's 5 reads a second
                sleep(wait)
            for record in cursor.read():
                arrived = record["ApproximateArrivalTimestamp"]
                if window.until and arrived > window.until:
                    return found
                line = _as_line(shard_id, record)
                if line is not None and window.holds(arrived, line["event"].get("type")):
                    found.append(line)
            if cursor.caught_up:
                break
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE:  # a closed shard past retention
            return found
        raise
    return found


def _gaps(
    s3: Any,
    bucket: str,
    stream_name: str,
    window: Window,
    lake_lines: list[Line],
    summary: dict[str, Any],
    now: datetime,
) -> list[Gap]:
    """The part of the window older than the stream's retention and newer than what the
    lake is known to hold, if the two do not meet."""
    retention = int(summary["RetentionPeriodHours"])
    stream_from = now - timedelta(hours=retention)
    if summary["StreamCreationTimestamp"] >= stream_from:
        return []  # the stream still holds every record it was ever given
    end = min(window.until or now, stream_from)
    if window.since is not None and window.since >= end:
        return []  # the stream holds the whole window
    # The lake holds everything before its newest object: Firehose reads each shard in
    # order. An object filed in an hour at or after the end means the lake reaches it.
    if _lake_has_objects_from(s3, bucket, stream_name, end):
        return []
    newest = max((arrival(line) for line in lake_lines), default=None)
    start = max((t for t in (window.since, newest) if t is not None), default=None)
    if start is not None and start >= end:
        return []
    why = f"the stream keeps {retention} h (records since {iso_time(stream_from.timestamp())}) " + (
        f"and the lake's newest event in the window arrived at {iso_time(newest.timestamp())}"
        if newest
        else "and the lake holds nothing from that time"
    )
    return [Gap(start, end, why)]


def _lake_has_objects_from(s3: Any, bucket: str, stream_name: str, moment: datetime) -> bool:
    # Keys sort by hour (`<stream>/YYYY/MM/dd/HH/`): the first key from that hour on, if any.
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    page = s3.list_objects_v2(
        Bucket=bucket,
        Prefix=f"{stream_name}/",
        StartAfter=f"{stream_name}/{hour:%Y/%m/%d/%H}/",
        MaxKeys=1,
    )
    return bool(page.get("Contents"))


def _as_line(shard_id: str, record: KinesisRecord) -> Line | None:
    try:
        envelope = event_envelope.decode(record["Data"])
    except ValueError:
        return None
    return {
        "event": envelope,
        "kinesis": {
            "shardId": shard_id,
            "sequenceNumber": record["SequenceNumber"],
            "partitionKey": record["PartitionKey"],
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
    }


def key_of(line: Line) -> tuple[str, int]:
    """A line's place on the stream: shard and sequence number."""
    return line["kinesis"]["shardId"], int(line["kinesis"]["sequenceNumber"])


def arrival(line: Line) -> datetime:
    """When a line's record arrived on the stream."""
    return datetime.fromtimestamp(line["kinesis"]["approximateArrivalTimestamp"], UTC)
