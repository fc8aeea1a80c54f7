"""A local event source mapping on in-process moto, stepped by hand on a fake clock.

`Harness` runs a `MappingRunner` as its thread would, but invoking inline and on a clock the
test moves, so every run is deterministic; `Consumer` stands in for a deployed function.
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.local.mapping_runner import MappingRunner, MappingSettings
from event_stream.tools.local.runner import Invocation

STREAM = "runner-s1"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:consumer-dlq"


def envelope(n: int, event_type: str = "wanted", key: str = "k", **fields) -> bytes:
    body = {"id": str(n), "type": event_type, "timestamp": n, "partitionKey": key, "tags": {}}
    return json.dumps({**body, **fields}).encode()


class Consumer:
    """Stands in for a deployed consumer. `mode`: "process" answers as
    `event_consumer.process` does (a report, or an exception when nothing was handled before
    the poison record); "report" always reports; "raise" always fails the invocation."""

    def __init__(self, poison: set[str] = frozenset(), mode: str = "process"):
        self.poison = set(poison)
        self.mode = mode
        self.calls: list[list[str]] = []
        self.handled: list[str] = []

    def __call__(self, event):
        records = event["Records"]
        ids = [json.loads(base64.b64decode(r["kinesis"]["data"]))["id"] for r in records]
        self.calls.append(ids)
        for handled_now, (record, event_id) in enumerate(zip(records, ids, strict=True)):
            if event_id in self.poison:
                if self.mode == "raise" or (self.mode == "process" and not handled_now):
                    return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "x"}, [])
                failure = {"itemIdentifier": record["kinesis"]["sequenceNumber"]}
                return Invocation({"batchItemFailures": [failure]}, None, [])
            self.handled.append(event_id)
        return Invocation({"batchItemFailures": []}, None, [])


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(name="kinesis")
def runner_stream(aws_credentials):
    """In-process moto with the 1-shard stream STREAM (import it to use it as `kinesis`)."""
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


def put(kinesis, *datas: bytes, key: str = "k"):
    for data in datas:
        kinesis.put_record(StreamName=STREAM, PartitionKey=key, Data=data)


def settings(kinesis, **overrides) -> MappingSettings:
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    mapping = {
        "UUID": "m-1",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
        "EventSourceArn": arn,
        "BatchSize": 100,
        "StartingPosition": "TRIM_HORIZON",
        "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": -1,
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
        **overrides,
    }
    return MappingSettings.from_api(mapping)


class Harness:
    def __init__(self, kinesis, consumer, checkpoints=None, **overrides):
        self.clock = Clock()
        self.sent: list[dict] = []
        self.consumer = consumer
        self.runner = MappingRunner(
            settings(kinesis, **overrides),
            kinesis=kinesis,
            destinations=lambda arn, record: self.sent.append(record),
            invoke=consumer,
            checkpoints={} if checkpoints is None else checkpoints,
            region="us-east-1",
            role_arn="arn:aws:iam::123456789012:role/consumer",
            clock=self.clock,
        )
        self.runner._discover_shards()
        (self.shard,) = self.runner.shards.values()

    def run(self, seconds: float = 10.0):
        """Step the shard as the runner's thread would, for `seconds` of fake time."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            if self.shard.next_time >= end:
                self.clock.now = end
                return
            self.clock.now = max(self.clock.now, self.shard.next_time)
            self.runner.step(self.shard)
            self.clock.now += 0.001
