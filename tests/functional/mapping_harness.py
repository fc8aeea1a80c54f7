"""One shard of an event source mapping under Lambda's rules, driven by hand: records in
memory, the batch state machine (`ShardBatches`) stepped on two fake clocks (monotonic and
wall), the function a Python stand-in. No AWS at all, so every run is deterministic and
fast; `test_mapping_worker.py` runs the same machine through the worker against moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.local.batch_parts import invocation_event
from event_stream.tools.local.batch_state import ShardBatches
from event_stream.tools.readers.shard_reader import READ_INTERVAL

SHARD = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/harness-s1"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:consumer"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:consumer-dlq"
ROLE_ARN = "arn:aws:iam::123456789012:role/consumer"


def envelope(n: int, event_type: str = "wanted", key: str = "k", **fields: Any) -> bytes:
    body = {"id": str(n), "type": event_type, "timestamp": n, "partitionKey": key, "tags": {}}
    return json.dumps({**body, **fields}).encode()


def ids_of(event: dict[str, Any]) -> list[str]:
    """The envelope ids of a Lambda Kinesis event's records."""
    return [json.loads(base64.b64decode(r["kinesis"]["data"]))["id"] for r in event["Records"]]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def mapping(**overrides: Any) -> EventSourceMapping:
    """A mapping as the Lambda API answers it, StreamProcessor's settings unless overridden."""
    return EventSourceMapping.from_api(
        {
            "UUID": "m-1",
            "FunctionArn": FUNCTION_ARN,
            "EventSourceArn": STREAM_ARN,
            "BatchSize": 100,
            "StartingPosition": "TRIM_HORIZON",
            "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRetryAttempts": 2,
            "MaximumRecordAgeInSeconds": -1,
            "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
            **overrides,
        }
    )


class Consumer:
    """Stands in for a deployed consumer. `mode`: "process" answers as
    `event_consumer.process` does (a report, or an exception when nothing was handled before
    the poison record); "report" always reports; "raise" always fails the invocation."""

    def __init__(self, poison: set[str] = frozenset(), mode: str = "process"):
        self.poison = set(poison)
        self.mode = mode
        self.calls: list[list[str]] = []
        self.handled: list[str] = []

    def __call__(self, event: dict[str, Any]) -> Invocation:
        ids = ids_of(event)
        self.calls.append(ids)
        for handled_now, (record, event_id) in enumerate(zip(event["Records"], ids, strict=True)):
            if event_id in self.poison:
                if self.mode == "raise" or (self.mode == "process" and not handled_now):
                    return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "x"})
                failure = {"itemIdentifier": record["kinesis"]["sequenceNumber"]}
                return Invocation({"batchItemFailures": [failure]})
            self.handled.append(event_id)
        return Invocation({"batchItemFailures": []})


class Harness:
    """A shard, its mapping's batches, and the function; `run` steps them on fake time."""

    def __init__(self, function: Any, **overrides: Any) -> None:
        self.clock = Clock(1000.0)
        self.wall = Clock(1_800_000_000.0)
        self.function = function
        self.mapping = mapping(**overrides)
        self.batches = ShardBatches(self.mapping, clock=self.clock, wall_clock=self.wall)
        self.records: list[dict[str, Any]] = []  # on the shard
        self.read = 0  # how many of them the mapping has read
        self.sent: list[dict[str, Any]] = []  # on-failure records, in order

    def put(self, *datas: bytes, key: str = "k", age: float = 0.0) -> list[str]:
        """Records arriving now (or `age` seconds ago); their sequence numbers."""
        arrival = datetime.fromtimestamp(self.wall.now - age, tz=UTC)
        added = []
        for data in datas:
            sequence = str(49_000_000_000_000 + len(self.records))
            self.records.append(
                {
                    "SequenceNumber": sequence,
                    "PartitionKey": key,
                    "Data": data,
                    "ApproximateArrivalTimestamp": arrival,
                }
            )
            added.append(sequence)
        return added

    @property
    def checkpoint(self) -> str | None:
        return self.batches.checkpoint

    def run(self, seconds: float = 10.0) -> None:
        """Step the shard for `seconds` of fake time, as the mapping's worker would."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            unread = self.read < len(self.records)
            if unread and self.batches.wants_records():
                self.batches.add(self.records[self.read :], self.clock.now)
                self.read = len(self.records)
            for lane, batch in self.batches.start_due():
                event = invocation_event(
                    batch,
                    shard_id=SHARD,
                    stream_arn=STREAM_ARN,
                    region="us-east-1",
                    role_arn=ROLE_ARN,
                )
                self.batches.finish(lane, batch, self.function(event))
            self.sent += [
                d.on_failure_record(self.mapping, SHARD) for d in self.batches.take_discards()
            ]
            times = [end]
            if self.batches.next_due() is not None:
                times.append(self.batches.next_due())
            if self.read < len(self.records) and self.batches.wants_records():
                times.append(self.clock.now + READ_INTERVAL)
            before = self.clock.now
            self.clock.now = min(end, max(min(times), before + 0.001))
            self.wall.now += self.clock.now - before
