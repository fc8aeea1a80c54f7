"""moto fixes for Kinesis: writing a record only writes it, with a sequence number in AWS's
form, and a shard's reads and writes cost the same at its ten-thousandth record as at its
first."""

from __future__ import annotations

import json
from bisect import bisect_right
from typing import Any

from moto.kinesis import models as kinesis
from moto.kinesis import responses


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
    last = newest_sequence_number(self) if self.records else shard_sequence_base(self)
    sequence_number = last + 1
    self.records[sequence_number] = kinesis.Record(
        partition_key, data, sequence_number, explicit_hash_key
    )
    _sequence_numbers(self).append(sequence_number)
    return str(sequence_number)


def starting_sequence_number(self: Any) -> int:
    """Fix 11, for DescribeStream: an empty shard's StartingSequenceNumber is 56 digits too.
    Fix 16: the oldest key, without copying every key into a list as moto 5.2.5 does."""
    return next(iter(self.records)) if self.records else shard_sequence_base(self)


def newest_sequence_number(self: Any) -> int:
    """Fix 16: moto 5.2.5 copies every key of the shard into a list to find its newest, once
    per record written, so writing grows with the shard: 100,000 records took 240 s to put,
    a PutRecords of 500 into a full shard 3.2 s against 0.06 s into an empty one (AWS's
    writes cost the same whatever the shard holds: 1,000 records/s per shard)."""
    return next(reversed(self.records)) if self.records else 0


def _sequence_numbers(shard: Any) -> list[int]:
    """The shard's sequence numbers in order, kept beside its records (rebuilt if moto
    changed the records itself, as resharding and retention do)."""
    numbers: list[int] | None = shard.__dict__.get("_sequence_numbers")
    if numbers is None or len(numbers) != len(shard.records):
        numbers = shard.__dict__["_sequence_numbers"] = list(shard.records)
    return numbers


def records_after(
    self: Any, last_sequence_id: str, limit: int | None
) -> tuple[list[Any], int, int]:
    """Fix 16: moto 5.2.5 reads a shard from its first record on every GetRecords call to
    find the iterator's place; this finds it by bisection. Same answer: the records after
    `last_sequence_id`, at most `limit`, the last one's number, and how far (ms) the last
    returned record is behind the shard's newest."""
    numbers = _sequence_numbers(self)
    first = bisect_right(numbers, int(last_sequence_id))
    chosen = numbers[first : first + limit if limit else None]
    records = [self.records[number] for number in chosen]
    if not records:
        return [], int(last_sequence_id), 0
    newest = self.records[numbers[-1]]
    return records, chosen[-1], int((newest.created_at - records[-1].created_at) * 1000)


def get_records_response(self: Any) -> str:
    """Fix 16: moto 5.2.5 serializes GetRecords through its generic, model-driven serializer
    at about 100 us a record (a 10,000-record page: 1 s), base64-decoding each record's data
    only for the serializer to encode it again; moto keeps the data as the base64 text it
    was sent, so the answer is written as it is. The same JSON: `Data` base64,
    `ApproximateArrivalTimestamp` in epoch seconds to the millisecond."""
    iterator, records, millis_behind = self.kinesis_backend.get_records(
        self._get_param("StreamARN"), self._get_param("ShardIterator"), self._get_param("Limit")
    )
    return json.dumps(
        {
            "NextShardIterator": iterator,
            "Records": [
                {
                    "SequenceNumber": str(record.sequence_number),
                    "ApproximateArrivalTimestamp": round(record.created_at, 3),
                    "Data": record.data,
                    "PartitionKey": record.partition_key,
                }
                for record in records
            ],
            "MillisBehindLatest": millis_behind,
        }
    )


FIXES = (
    (kinesis.Stream, "put_record", put_record_without_invoking),
    (kinesis.Shard, "put_record", put_record_with_aws_sequence_number),
    (kinesis.Shard, "get_min_sequence_number", starting_sequence_number),
    (kinesis.Shard, "get_max_sequence_number", newest_sequence_number),
    (kinesis.Shard, "get_records", records_after),
    (responses.KinesisResponse, "get_records", get_records_response),
)
