"""moto fixes for Kinesis: writing a record only writes it, with a sequence number in AWS's form."""

from __future__ import annotations

from typing import Any

from moto.kinesis import models as kinesis


def put_record_without_invoking(
    self: Any, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    """Fix 3: moto 5.2.5 invokes every function mapped to the stream, through Docker, once
    per record inside PutRecord and PutRecords. With no Docker engine each record logs
    "error running docker" and publishing slows to a crawl (531 instead of 11,589 events/s
    with one consumer deployed). The local AWS's poller delivers to mapped functions
    instead, with Lambda's batching; writing a record only writes it."""
    shard = self.get_shard_for_key(partition_key, explicit_hash_key)
    sequence_number = shard.put_record(partition_key, data, explicit_hash_key)
    return sequence_number, shard.shard_id


def shard_sequence_base(shard: Any) -> int:
    """Where a shard's sequence numbers start: 56 digits, `49`, the shard's number, then a
    counter (AWS's are 56-digit, increasing within a shard, distinct across shards)."""
    index = int(shard.shard_id.rsplit("-", 1)[-1])
    return (49 * 10**12 + index) * 10**42


def put_record_with_aws_sequence_number(
    self: Any, partition_key: str, data: str, explicit_hash_key: str
) -> str:
    """Fix 11: moto 5.2.5 numbers each shard's records "1", "2", ... so the numbers repeat
    across shards and sort wrongly as strings ("10" < "9"); AWS's are 56 digits,
    increasing within a shard ("Kinesis Data Streams terminology": unique per partition
    key within its shard, increasing over time). moto keeps them as ints: only their
    values change."""
    last = self.get_max_sequence_number() if self.records else shard_sequence_base(self)
    sequence_number = last + 1
    self.records[sequence_number] = kinesis.Record(
        partition_key, data, sequence_number, explicit_hash_key
    )
    return str(sequence_number)


_min_sequence_number = kinesis.Shard.get_min_sequence_number


def starting_sequence_number(self: Any) -> int:
    """Fix 11, for DescribeStream: an empty shard's StartingSequenceNumber is 56 digits too."""
    return int(_min_sequence_number(self)) if self.records else shard_sequence_base(self)


FIXES = (
    (kinesis.Stream, "put_record", put_record_without_invoking),
    (kinesis.Shard, "put_record", put_record_with_aws_sequence_number),
    (kinesis.Shard, "get_min_sequence_number", starting_sequence_number),
)
