"""The shard reader: every record present when it starts, shards in resharding order, the
read limit; on moto and on Kinesis' semantics."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.readers import shard_reader
from tests.functional.streams import STREAM


def envelope(n: int, key: str = "k") -> bytes:
    body = {"id": str(n), "type": "t", "timestamp": n, "partitionKey": key, "tags": {}}
    return json.dumps(body).encode()


def no_sleep(seconds: float) -> None:
    pass


def ids(read) -> list[str]:
    return [e["id"] for _, e in read]


class FakeKinesis:
    """Kinesis answers scripted per shard: each page is (records, MillisBehindLatest, more).

    `more=False` answers no NextShardIterator: a closed shard read to its end.
    """

    def __init__(self, shards: dict[str, list[tuple[list[int], int, bool]]], parents=None):
        self.pages = {shard: list(pages) for shard, pages in shards.items()}
        self.parents = parents or {}
        self.calls: list[tuple[str, float]] = []
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def list_shards(self, StreamName):
        return {
            "Shards": [
                {
                    "ShardId": shard,
                    **({"ParentShardId": self.parents[shard]} if shard in self.parents else {}),
                }
                for shard in self.pages
            ]
        }

    def get_shard_iterator(self, StreamName, ShardId, ShardIteratorType):
        return {"ShardIterator": ShardId}

    def get_records(self, ShardIterator, Limit):
        self.calls.append((ShardIterator, self.now))
        records, behind, more = self.pages[ShardIterator].pop(0)
        page = {
            "Records": [{"Data": envelope(n)} for n in records],
            "MillisBehindLatest": behind,
        }
        if more:
            page["NextShardIterator"] = ShardIterator
        return page

    def read(self, **kwargs):
        return shard_reader.read_envelopes(self, "s", sleep=self.sleep, clock=self.clock, **kwargs)


def test_empty_pages_while_behind_do_not_end_the_shard():
    kinesis = FakeKinesis(
        {"a": [([], 5000, True), ([], 3000, True), ([1, 2], 0, True), ([], 0, True)]}
    )
    assert ids(kinesis.read()) == ["1", "2"]


def test_a_shard_ends_only_on_an_empty_page_that_is_caught_up():
    # moto says 0 behind for records written in the same millisecond as the newest.
    kinesis = FakeKinesis({"a": [([1], 0, True), ([2], 0, True), ([], 0, True)]})
    assert ids(kinesis.read()) == ["1", "2"]


def test_a_closed_parent_is_read_before_its_children():
    kinesis = FakeKinesis(
        {
            "child": [([3], 0, True), ([], 0, True)],
            "parent": [([1], 10, True), ([2], 0, False)],
        },
        parents={"child": "parent"},
    )
    assert ids(kinesis.read()) == ["1", "2", "3"]


def test_each_shard_is_read_at_most_five_times_a_second():
    pages = [([n], 100, True) for n in range(10)] + [([], 0, True)]
    kinesis = FakeKinesis({"a": list(pages), "b": list(pages)})
    assert len(ids(kinesis.read())) == 20
    for shard in ("a", "b"):
        times = [t for s, t in kinesis.calls if s == shard]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= shard_reader.READ_INTERVAL - 1e-9


def test_follow_polls_a_caught_up_shard_once_a_second():
    kinesis = FakeKinesis({"a": [([1], 0, True), ([], 0, True), ([], 0, True), ([2], 0, True)]})
    read = kinesis.read(follow=True)
    assert [next(read)[1]["id"], next(read)[1]["id"]] == ["1", "2"]
    times = [t for _, t in kinesis.calls]
    assert times[2] - times[1] == shard_reader.IDLE_INTERVAL


@pytest.fixture
def moto_kinesis(aws_credentials):
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


def test_records_written_within_one_millisecond_are_all_read(moto_kinesis):
    # One invoke, then a 3,000-event replay: tail once printed 3,000 of the 3,001.
    moto_kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=envelope(0))
    for first in range(1, 3001, 500):
        moto_kinesis.put_records(
            StreamName=STREAM,
            Records=[{"PartitionKey": "k", "Data": envelope(n)} for n in range(first, first + 500)],
        )
    assert ids(shard_reader.read_envelopes(moto_kinesis, STREAM, sleep=no_sleep)) == [
        str(n) for n in range(3001)
    ]


def test_a_shard_longer_than_one_page_is_read_to_its_end(moto_kinesis, monkeypatch):
    monkeypatch.setattr(shard_reader, "PAGE_LIMIT", 700)
    for first in range(0, 2000, 500):
        moto_kinesis.put_records(
            StreamName=STREAM,
            Records=[{"PartitionKey": "k", "Data": envelope(n)} for n in range(first, first + 500)],
        )
    assert len(ids(shard_reader.read_envelopes(moto_kinesis, STREAM, sleep=no_sleep))) == 2000


def test_every_shard_is_read(aws_credentials):
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="four", ShardCount=4)
        for i in range(200):
            client.put_record(StreamName="four", PartitionKey=f"k{i}", Data=envelope(i, f"k{i}"))
        read = list(shard_reader.read_envelopes(client, "four", sleep=no_sleep))
    assert len({shard for shard, _ in read}) == 4
    assert sorted(int(e["id"]) for _, e in read) == list(range(200))


def test_follow_prints_records_written_later_until_interrupted(moto_kinesis):
    moto_kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=envelope(1))
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        if len(polls) == 1:
            moto_kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=envelope(2))
        if len(polls) == 3:
            raise KeyboardInterrupt

    seen = []
    with pytest.raises(KeyboardInterrupt):
        for _, record in shard_reader.read_envelopes(
            moto_kinesis, STREAM, follow=True, sleep=sleep
        ):
            seen.append(record["id"])
    assert seen == ["1", "2"]


def test_a_record_that_is_not_an_envelope_comes_back_as_bytes(moto_kinesis):
    moto_kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=b"not json")
    assert [r for _, r in shard_reader.read_envelopes(moto_kinesis, STREAM, sleep=no_sleep)] == [
        b"not json"
    ]


def test_a_range_is_the_records_from_first_to_last_inclusive(moto_kinesis):
    for n in range(5):
        moto_kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=envelope(n))
    every = [r for _, r in shard_reader.read_stream(moto_kinesis, STREAM, sleep=no_sleep)]
    found = shard_reader.read_range(
        moto_kinesis,
        STREAM,
        "shardId-000000000000",
        every[1]["SequenceNumber"],
        every[3]["SequenceNumber"],
    )
    assert [r["Data"] for r in found] == [envelope(n) for n in (1, 2, 3)]


def test_a_range_of_a_shard_the_stream_no_longer_has_is_empty(moto_kinesis):
    assert shard_reader.read_range(moto_kinesis, STREAM, "shardId-000000000009", "1", "2") == []
