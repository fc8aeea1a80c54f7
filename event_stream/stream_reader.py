"""Read every shard of a stream and decode the envelopes (the CLI's `tail`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from event_stream.runtime import event_envelope

POLL_INTERVAL = 1.0


def shard_ids(kinesis: Any, stream_name: str) -> list[str]:
    """Every shard of the stream, following pagination."""
    ids, token = [], None
    while True:
        page = (
            kinesis.list_shards(NextToken=token)
            if token
            else kinesis.list_shards(StreamName=stream_name)
        )
        ids += [shard["ShardId"] for shard in page["Shards"]]
        token = page.get("NextToken")
        if not token:
            return ids


def read(
    kinesis: Any,
    stream_name: str,
    *,
    start: str = "TRIM_HORIZON",
    follow: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[str, dict[str, Any] | bytes]]:
    """Yield `(shard_id, envelope)` for every record, shard after shard, then keep polling
    every shard if `follow`. A record that is not an envelope is yielded as raw bytes."""
    iterators = {
        shard: kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard, ShardIteratorType=start
        )["ShardIterator"]
        for shard in shard_ids(kinesis, stream_name)
    }
    while iterators:
        got_any = False
        for shard, iterator in list(iterators.items()):
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page.get("NextShardIterator")
                for record in page["Records"]:
                    got_any = True
                    try:
                        yield shard, event_envelope.decode(record["Data"])
                    except ValueError:
                        yield shard, record["Data"]
                if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                    break
            if iterator:
                iterators[shard] = iterator
            else:
                del iterators[shard]  # the shard was closed (resharding)
        if not follow:
            return
        if not got_any:
            sleep(POLL_INTERVAL)
