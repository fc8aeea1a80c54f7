"""Reading a lake as the lake writes it (GZIP lake lines under hourly prefixes), on
in-process moto: order per shard, the time window, types, a Firehose retry's duplicate."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.readers.lake_reader import hour_prefixes, read_lines

BUCKET = "lake"
STREAM = "dev-cncb-event-stream-s1"


def line(n: int, shard: str = "shardId-000000000000", type_: str = "thing-created", at: float = 0):
    return {
        "event": {"id": f"id-{n}", "type": type_, "timestamp": n, "partitionKey": "k", "tags": {}},
        "kinesis": {
            "shardId": shard,
            "sequenceNumber": str(100 + n),
            "partitionKey": "k",
            "approximateArrivalTimestamp": at
            or datetime(2026, 11, 29, 10, n, tzinfo=UTC).timestamp(),
        },
    }


@pytest.fixture
def s3(aws_credentials):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def write(s3, key: str, *lines: dict) -> None:
    body = "".join(json.dumps(x) + "\n" for x in lines).encode()
    s3.put_object(Bucket=BUCKET, Key=f"{STREAM}/{key}", Body=gzip.compress(body))


def ids(lines: list[dict]) -> list[str]:
    return [x["event"]["id"] for x in lines]


def test_lines_come_back_ordered_by_shard_and_sequence_number(s3):
    write(s3, "2026/11/29/10/b.gz", line(3), line(1, shard="shardId-000000000001"))
    write(s3, "2026/11/29/10/a.gz", line(2), line(0, shard="shardId-000000000001"))
    assert ids(read_lines(s3, BUCKET, STREAM)) == ["id-2", "id-3", "id-0", "id-1"]


def test_a_record_written_twice_by_a_retry_comes_back_once(s3):
    write(s3, "2026/11/29/10/a.gz", line(1))
    write(s3, "2026/11/29/10/b.gz", line(1))
    assert ids(read_lines(s3, BUCKET, STREAM)) == ["id-1"]


def test_a_window_reads_only_records_that_arrived_in_it(s3):
    write(s3, "2026/11/29/10/a.gz", *(line(n) for n in range(5)))
    since = datetime(2026, 11, 29, 10, 1, tzinfo=UTC)
    until = datetime(2026, 11, 29, 10, 3, tzinfo=UTC)
    assert ids(read_lines(s3, BUCKET, STREAM, since=since, until=until)) == ["id-1", "id-2", "id-3"]


def test_types_filter_the_events(s3):
    write(s3, "2026/11/29/10/a.gz", line(0), line(1, type_="thing-updated"), line(2))
    assert ids(read_lines(s3, BUCKET, STREAM, types={"thing-updated"})) == ["id-1"]


def test_a_window_lists_only_its_hours_and_the_one_before():
    since = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)
    until = datetime(2026, 11, 29, 12, 5, tzinfo=UTC)
    assert hour_prefixes(STREAM, since, until) == [
        f"{STREAM}/2026/11/29/09/",
        f"{STREAM}/2026/11/29/10/",
        f"{STREAM}/2026/11/29/11/",
        f"{STREAM}/2026/11/29/12/",
    ]
