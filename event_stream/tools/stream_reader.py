"""Read every shard of a stream and decode the envelopes (the CLI's `tail`).

A shard is read until it is caught up: an empty page with `MillisBehindLatest` 0. Kinesis
may answer empty pages while records still lie ahead (the GetRecords documentation), and
moto reports 0 for records written within one millisecond of the newest, so neither an
empty page alone nor `MillisBehindLatest` 0 alone means the end. A closed shard (after
resharding) ends when Kinesis returns no next iterator; its children are read after it, so
one partition key's records come out in order. Each shard is read at most 5 times a second,
the GetRecords limit that every consumer of the shard shares.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from event_stream.lambda_src import event_envelope

# The one home of how the tools read a shard (tail, the poller, dlq).
# Kinesis allows 5 GetRecords calls per second per shard, shared by all of its readers.
READ_INTERVAL = 0.2
# A caught-up shard is polled once a second, as Lambda polls a shard.
IDLE_INTERVAL = 1.0
PAGE_LIMIT = 10_000  # the most GetRecords returns in one call


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


def read(
    kinesis: Any,
    stream_name: str,
    *,
    start: str = "TRIM_HORIZON",
    follow: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[str, dict[str, Any] | bytes]]:
    """Yield `(shard_id, envelope)` for every record of every shard, each shard in order.

    Without `follow` it ends when every shard is caught up; with `follow` it keeps polling.
    A record that is not an envelope is yielded as its raw bytes.
    """
    shards = list_shards(kinesis, stream_name)
    parents = {
        shard["ShardId"]: {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")}
        for shard in shards
    }
    iterators: dict[str, str] = {}
    next_read: dict[str, float] = {}
    for shard in shards:
        shard_id = shard["ShardId"]
        iterators[shard_id] = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard_id, ShardIteratorType=start
        )["ShardIterator"]
        next_read[shard_id] = 0.0
    while iterators:
        # A child shard waits until its parents, still being read, are done.
        ready = [s for s in iterators if not parents[s] & iterators.keys()]
        shard_id = min(ready, key=next_read.__getitem__)
        wait = next_read[shard_id] - clock()
        if wait > 0:
            sleep(wait)
        page = kinesis.get_records(ShardIterator=iterators[shard_id], Limit=PAGE_LIMIT)
        for record in page["Records"]:
            try:
                yield shard_id, event_envelope.decode(record["Data"])
            except ValueError:
                yield shard_id, record["Data"]
        iterator = page.get("NextShardIterator")
        caught_up = not page["Records"] and page.get("MillisBehindLatest", 0) == 0
        if iterator is None or (caught_up and not follow):
            del iterators[shard_id]  # closed and fully read, or read to its end
            continue
        iterators[shard_id] = iterator
        next_read[shard_id] = clock() + (IDLE_INTERVAL if caught_up else READ_INTERVAL)
