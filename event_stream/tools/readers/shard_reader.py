"""The one way the tools read a Kinesis stream: shards in resharding order, each read in
order from a starting position, at most 5 times a second.

Every reader of a stream goes through here: the local AWS's event source mappings and its
Firehose, `tail`, `dlq` (a failed batch's range), replay. The rules, from the Kinesis
Developer Guide and API reference:
- a shard allows 5 GetRecords calls a second, shared by all of its readers (`READ_INTERVAL`);
  a caught-up shard is polled once a second, as Lambda polls one (`IDLE_INTERVAL`);
- a child shard is read only after its parents are read to their end, so one partition
  key's records come out in order ("Resharding a stream": parents, then children);
- a closed shard ends when GetRecords returns no `NextShardIterator`;
- Kinesis may answer empty pages while records still lie ahead, and moto reports
  `MillisBehindLatest` 0 for records written within a millisecond of the newest, so a shard
  is caught up only on an empty page with `MillisBehindLatest` 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from event_stream.lambda_src import event_envelope
from event_stream.tools.lambda_model.wire import KinesisRecord

READ_INTERVAL = 0.2
IDLE_INTERVAL = 1.0
PAGE_LIMIT = 10_000  # the most GetRecords returns in one call
# What Kinesis answers for a shard, or a sequence number, past the stream's retention.
GONE = ("ResourceNotFoundException", "InvalidArgumentException")


def list_shards(kinesis: Any, stream_name: str) -> list[dict[str, Any]]:
    """Every shard of the stream (open and closed), following pagination."""
    shards, token = [], None
    while True:
        page = (
            kinesis.list_shards(NextToken=token)
            if token
            else kinesis.list_shards(StreamName=stream_name)
        )
        shards += page["Shards"]
        token = page.get("NextToken")
        if not token:
            return shards


def parents_of(shard: dict[str, Any]) -> set[str]:
    """The shards a shard was split or merged from."""
    parents = (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
    return {parent for parent in parents if parent}


@dataclass
class ShardCursor:
    """One shard, read in order from `start` (GetShardIterator's arguments: its
    `ShardIteratorType` and, where it takes one, `StartingSequenceNumber` or `Timestamp`)."""

    kinesis: Any
    stream_name: str
    shard_id: str
    start: dict[str, Any]
    parents: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    iterator: str | None = None
    closed: bool = False  # read to its end after resharding
    caught_up: bool = False  # the last page was empty with nothing behind it
    behind_millis: int = 0
    last_read: float = -math.inf

    def may_read(self) -> bool:
        """Whether a read now keeps within the shard's 5 reads a second."""
        return not self.closed and self.clock() - self.last_read >= READ_INTERVAL

    def next_read(self, *, busy: bool) -> float:
        """When to read next: as soon as allowed while records are coming, once a second
        when caught up."""
        return self.last_read + (READ_INTERVAL if busy else IDLE_INTERVAL)

    def read(self, limit: int | None = None) -> list[KinesisRecord]:
        """One GetRecords page of at most `limit` records (default: as many as Kinesis
        gives); the iterator is taken on the first read."""
        if self.iterator is None:
            self.iterator = self.kinesis.get_shard_iterator(
                StreamName=self.stream_name, ShardId=self.shard_id, **self.start
            )["ShardIterator"]
        page = self.kinesis.get_records(ShardIterator=self.iterator, Limit=limit or PAGE_LIMIT)
        self.last_read = self.clock()
        records: list[KinesisRecord] = page["Records"]
        self.behind_millis = int(page.get("MillisBehindLatest", 0))
        self.caught_up = not records and self.behind_millis == 0
        self.iterator = page.get("NextShardIterator")
        self.closed = self.iterator is None
        return records


def cursors(
    kinesis: Any,
    stream_name: str,
    start: Callable[[str], dict[str, Any]],
    *,
    clock: Callable[[], float] = time.monotonic,
    known: Collection[str] = (),
) -> list[ShardCursor]:
    """A cursor for each shard of the stream not in `known`, starting where `start(shard
    id)` says."""
    return [
        ShardCursor(
            kinesis,
            stream_name,
            shard["ShardId"],
            start(shard["ShardId"]),
            parents_of(shard),
            clock,
        )
        for shard in list_shards(kinesis, stream_name)
        if shard["ShardId"] not in known
    ]


def ready(shards: dict[str, ShardCursor], done: Callable[[str], bool]) -> list[ShardCursor]:
    """The shards that may be read now: not done, and every parent done."""
    return [
        cursor
        for shard_id, cursor in shards.items()
        if not done(shard_id) and all(done(p) for p in cursor.parents if p in shards)
    ]


def read_stream(
    kinesis: Any,
    stream_name: str,
    *,
    start: str = "TRIM_HORIZON",
    follow: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[str, KinesisRecord]]:
    """Yield `(shard_id, record)` for every record of every shard, each shard in order.

    Without `follow` it ends when every shard is caught up; with `follow` it keeps polling.
    """
    shards = {
        c.shard_id: c
        for c in cursors(kinesis, stream_name, lambda _: {"ShardIteratorType": start}, clock=clock)
    }
    finished: set[str] = set()
    while len(finished) < len(shards):
        due = ready(shards, finished.__contains__)
        cursor = min(due, key=lambda c: c.next_read(busy=not c.caught_up))
        wait = cursor.next_read(busy=not cursor.caught_up) - clock()
        if wait > 0:
            sleep(wait)
        for record in cursor.read():
            yield cursor.shard_id, record
        if cursor.closed or (cursor.caught_up and not follow):
            finished.add(cursor.shard_id)


def read_envelopes(
    kinesis: Any, stream_name: str, **options: Any
) -> Iterator[tuple[str, dict[str, Any] | bytes]]:
    """`read_stream`, each record decoded as an envelope (one that is not: its raw bytes)."""
    for shard_id, record in read_stream(kinesis, stream_name, **options):
        try:
            yield shard_id, event_envelope.decode(record["Data"])
        except ValueError:
            yield shard_id, record["Data"]


def read_range(
    kinesis: Any, stream_name: str, shard_id: str, first: str, last: str
) -> list[KinesisRecord]:
    """A shard's records from sequence number `first` to `last` (inclusive) that the stream
    still holds; none when the shard or the records are past retention."""
    cursor = ShardCursor(
        kinesis,
        stream_name,
        shard_id,
        {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": first},
    )
    found: list[KinesisRecord] = []
    try:
        while not cursor.closed:
            for record in cursor.read():
                if int(record["SequenceNumber"]) > int(last):
                    return found
                found.append(record)
            if cursor.caught_up:
                break
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE and not found:
            return []
        raise
    return found
