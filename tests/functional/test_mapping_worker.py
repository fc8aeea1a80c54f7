"""A mapping's worker on a stream in in-process moto: where each shard starts and resumes,
how often it is read, the event it sends, where discarded batches go. Stepped by hand on a
fake clock, invoking inline; the rules of the batches themselves are in
test_delivery_parity.py."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.local.mapping_worker import MappingWorker
from tests.functional.mapping_harness import (
    FUNCTION_ARN,
    QUEUE_ARN,
    ROLE_ARN,
    Clock,
    Consumer,
    envelope,
    ids_of,
)

STREAM = "worker-s1"


@pytest.fixture(name="kinesis")
def stream(aws_credentials):
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


def put(kinesis, *datas: bytes) -> None:
    for data in datas:
        kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=data)


class Run:
    """A worker of one mapping on STREAM, stepped as its thread would step it."""

    def __init__(self, kinesis, function, checkpoints=None, sent=None, **overrides):
        arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        self.clock = Clock(1000.0)
        self.sent = [] if sent is None else sent
        mapping = EventSourceMapping.from_api(
            {
                "UUID": "m-1",
                "FunctionArn": FUNCTION_ARN,
                "EventSourceArn": arn,
                "StartingPosition": "TRIM_HORIZON",
                "MaximumRetryAttempts": 0,
                "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
                **overrides,
            }
        )
        self.worker = MappingWorker(
            mapping,
            kinesis=kinesis,
            invoke=function,
            send=lambda destination, record: self.sent.append((destination, record)),
            checkpoints={} if checkpoints is None else checkpoints,
            region="us-east-1",
            role_arn=ROLE_ARN,
            clock=self.clock,
        )
        self.worker.discover()

    def run(self, seconds: float = 5.0) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            for shard in self.worker.ready():
                if shard.next_time <= self.clock.now:
                    self.worker.step(shard)
            upcoming = [shard.next_time for shard in self.worker.ready()] or [end]
            self.clock.now = min(end, max(min(upcoming), self.clock.now + 0.001))


def test_the_event_has_lambdas_kinesis_shape(kinesis):
    put(kinesis, envelope(1))
    events = []
    Run(kinesis, lambda event: events.append(event) or Invocation({})).run()
    (record,) = events[0]["Records"]
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert record["invokeIdentityArn"] == ROLE_ARN
    assert ids_of(events[0]) == ["1"]


def test_a_restarted_worker_resumes_after_its_checkpoint(kinesis):
    checkpoints: dict[str, str] = {}
    put(kinesis, envelope(1), envelope(2))
    first = Consumer()
    Run(kinesis, first, checkpoints).run()
    put(kinesis, envelope(3))
    second = Consumer()
    Run(kinesis, second, checkpoints).run()
    assert (first.handled, second.handled) == (["1", "2"], ["3"])


def test_latest_starts_after_what_is_already_there(kinesis):
    put(kinesis, envelope(1))
    consumer = Consumer()
    run = Run(kinesis, consumer, StartingPosition="LATEST")
    run.run(1)
    put(kinesis, envelope(2))
    run.run()
    assert consumer.handled == ["2"]


def test_a_latest_mapping_restarted_before_its_first_record_misses_nothing(kinesis):
    checkpoints: dict[str, str] = {}
    Run(kinesis, Consumer(), checkpoints, StartingPosition="LATEST").run(1)
    put(kinesis, envelope(1))  # arrives while the mapping is stopped
    consumer = Consumer()
    Run(kinesis, consumer, checkpoints, StartingPosition="LATEST").run()
    assert consumer.handled == ["1"]


class CountingKinesis:
    """The Kinesis client, counting GetRecords calls."""

    def __init__(self, kinesis):
        self.kinesis = kinesis
        self.reads = 0

    def get_records(self, **kwargs):
        self.reads += 1
        return self.kinesis.get_records(**kwargs)

    def __getattr__(self, name):
        return getattr(self.kinesis, name)


def test_an_idle_shard_is_read_once_a_second(kinesis):
    counting = CountingKinesis(kinesis)
    Run(counting, Consumer()).run(5.05)
    assert counting.reads == 6  # at 0, 1, 2, 3, 4 and 5 s, as Lambda polls an idle shard


def test_discarded_batches_go_to_the_mappings_on_failure_destination(kinesis):
    put(kinesis, envelope(1))
    run = Run(kinesis, Consumer(poison={"1"}))
    run.run()
    ((destination, record),) = run.sent
    assert destination == QUEUE_ARN
    assert record["KinesisBatchInfo"]["shardId"] == "shardId-000000000000"


def test_the_status_says_where_each_shard_stands(kinesis):
    put(kinesis, envelope(1), envelope(2))
    run = Run(kinesis, Consumer())
    run.run()
    (shard,) = run.worker.status()
    assert shard["shardId"] == "shardId-000000000000"
    assert shard["recordsBehind"] == 0
    assert shard["lastResult"] == "OK: 2 records"
    assert shard["checkpoint"] == run.worker.checkpoints["shardId-000000000000"]


def test_a_child_shard_is_read_only_after_its_parent(aws_credentials):
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        put(kinesis, envelope(1))
        kinesis.update_shard_count(
            StreamName=STREAM, TargetShardCount=2, ScalingType="UNIFORM_SCALING"
        )
        put(kinesis, envelope(2))
        consumer = Consumer()
        Run(kinesis, consumer).run()
        assert consumer.handled == ["1", "2"]
