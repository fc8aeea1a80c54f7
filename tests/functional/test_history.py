"""A stage's history is its lake and its stream together (in-process moto): what Firehose
has not written yet comes from the stream, nothing is taken twice, the window and the types
hold on both sides, and a stretch in neither place is named as a gap."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_stream.lambda_src import event_envelope
from event_stream.tools.readers.history import Window, key_of, read_history

BUCKET = "lake"
STREAM = "prod-cncb-event-stream-s1"


@pytest.fixture
def aws(aws_credentials: None):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        yield s3, kinesis


def publish(kinesis: Any, n: int, type_: str = "thing-created") -> dict[str, Any]:
    """Put event `n` on the stream; its lake line as Firehose would write it."""
    envelope = event_envelope.prepare({"type": type_, "id": f"id-{n}", "n": n}, region="r").envelope
    put = kinesis.put_record(
        StreamName=STREAM,
        Data=event_envelope.encode(envelope),
        PartitionKey="k",
    )
    return {
        "event": envelope,
        "kinesis": {
            "shardId": put["ShardId"],
            "sequenceNumber": put["SequenceNumber"],
            "partitionKey": "k",
            "approximateArrivalTimestamp": datetime.now(UTC).timestamp(),
        },
    }


def write_lake(s3: Any, *lines: dict[str, Any], hour: datetime | None = None) -> None:
    """One lake object holding `lines`, filed under `hour` (default: the current one)."""
    hour = hour or datetime.now(UTC)
    body = gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())
    s3.put_object(
        Bucket=BUCKET, Key=f"{STREAM}/{hour:%Y/%m/%d/%H}/obj-{uuid.uuid4().hex}.gz", Body=body
    )


def read(aws: Any, window: Window | None = None, **options: Any):
    s3, kinesis = aws
    return read_history(
        s3, kinesis, BUCKET, STREAM, window or Window(), sleep=lambda s: None, **options
    )


def ns(history) -> list[int]:
    return [line["event"]["n"] for line in history.lines]


def test_events_firehose_has_not_written_yet_come_from_the_stream(aws):
    s3, kinesis = aws
    written = [publish(kinesis, n) for n in range(3)]
    write_lake(s3, *written)
    [publish(kinesis, n) for n in range(3, 5)]  # still in the Firehose buffer
    history = read(aws)
    assert ns(history) == [0, 1, 2, 3, 4]
    assert len(history.from_stream) == 2
    assert [line["event"]["n"] for line in history.unwritten] == [3, 4]


def test_an_event_in_both_the_lake_and_the_stream_is_taken_once(aws):
    s3, kinesis = aws
    lines = [publish(kinesis, n) for n in range(4)]
    write_lake(s3, *lines[:2])
    write_lake(s3, *lines[1:3])  # a Firehose retry writes a record again
    history = read(aws)
    assert ns(history) == [0, 1, 2, 3]
    assert [key_of(line) for line in history.unwritten] == [key_of(lines[3])]


def test_the_stream_is_read_from_the_window_start_when_the_lake_has_nothing(aws):
    _, kinesis = aws
    publish(kinesis, 0)
    since = datetime.now(UTC) + timedelta(milliseconds=5)
    time.sleep(0.02)
    publish(kinesis, 1)
    assert ns(read(aws, Window(since=since))) == [1]


def test_stream_events_after_the_window_are_left_out(aws):
    _, kinesis = aws
    publish(kinesis, 0)
    until = datetime.now(UTC)
    time.sleep(0.02)
    publish(kinesis, 1)
    assert ns(read(aws, Window(until=until))) == [0]


def test_the_types_asked_for_hold_for_stream_events_too(aws):
    _, kinesis = aws
    publish(kinesis, 0, "thing-created")
    publish(kinesis, 1, "thing-deleted")
    assert ns(read(aws, Window(types=frozenset({"thing-deleted"})))) == [1]


def test_a_record_that_is_not_an_envelope_is_left_out_as_the_lake_leaves_it_out(aws):
    _, kinesis = aws
    kinesis.put_record(StreamName=STREAM, Data=b"not json", PartitionKey="k")
    publish(kinesis, 1)
    assert ns(read(aws)) == [1]


def test_a_stream_younger_than_its_retention_leaves_no_gap(aws):
    _, kinesis = aws
    publish(kinesis, 0)
    assert read(aws).gaps == []


def test_a_lake_behind_the_streams_retention_leaves_a_named_gap(aws):
    s3, kinesis = aws
    write_lake(s3, publish(kinesis, 0))
    later = datetime.now(UTC) + timedelta(hours=30)  # the stream keeps 24 h
    (gap,) = read(aws, now=lambda: later).gaps
    assert gap.end == later - timedelta(hours=24)
    assert "the stream keeps 24 h" in gap.describe()


def test_a_lake_that_reaches_the_streams_retention_leaves_no_gap(aws):
    s3, kinesis = aws
    write_lake(s3, publish(kinesis, 0))
    later = datetime.now(UTC) + timedelta(hours=30)
    write_lake(s3, publish(kinesis, 1), hour=later - timedelta(hours=2))
    assert read(aws, now=lambda: later).gaps == []


def test_a_window_the_stream_holds_whole_has_no_gap_whatever_the_lake(aws):
    _, kinesis = aws
    publish(kinesis, 0)
    later = datetime.now(UTC) + timedelta(hours=30)
    window = Window(since=later - timedelta(hours=1))
    assert read(aws, window, now=lambda: later).gaps == []
