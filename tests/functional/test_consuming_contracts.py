"""A consumer with event contracts shipped (the runtime a StreamProcessor runs) under
in-process moto: a violating event goes to the dead-letter queue as one message holding its
record and the violation, the records behind it are handled, and `dlq` reads the message
back and redrives it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from event_stream.contracts.compiler import write_package
from event_stream.contracts.files import load
from event_stream.lambda_src import event_consumer
from event_stream.tools.actions.redrive import redrive
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.kinesis_event import lambda_event
from event_stream.tools.readers.contract_package import from_folder
from event_stream.tools.readers.dead_letters import failed_batch
from tests.conftest import FIXTURES

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/dev-cncb-event-stream-s1"
SHARD = "shardId-000000000000"


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """The runtime with the processor's validators (thing-created's), as its asset has them."""
    contracts = load(FIXTURES / "contracts")
    write_package(contracts, ["thing-created"], tmp_path)
    monkeypatch.setattr(event_consumer, "_shipped", [from_folder(tmp_path, strict=False)])
    monkeypatch.setattr(event_consumer, "_sqs", [])


@pytest.fixture
def queue(aws_credentials, monkeypatch):
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="listener-dlq")["QueueUrl"]
        monkeypatch.setenv(event_consumer.VIOLATIONS_QUEUE_ENV, url)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "listener")
        yield sqs, url


def records(*bodies):
    return [
        {
            "SequenceNumber": str(49_000 + n),
            "PartitionKey": "k",
            "Data": json.dumps(
                {
                    "id": str(n),
                    "type": "thing-created",
                    "timestamp": n,
                    "partitionKey": "k",
                    "tags": {},
                    **body,
                }
            ).encode(),
            "ApproximateArrivalTimestamp": datetime(2026, 12, 6, tzinfo=UTC),
        }
        for n, body in enumerate(bodies)
    ]


def event_of(kinesis_records):
    return lambda_event(
        kinesis_records,
        shard_id=SHARD,
        stream_arn=STREAM_ARN,
        region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/listener",
    )


def messages(sqs, url):
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])


def test_a_violation_is_dead_lettered_and_the_records_behind_it_are_handled(shipped, queue):
    sqs, url = queue
    handled = []
    batch = records({"name": "a"}, {"name": 42}, {"name": "c"})
    answer = event_consumer.process(event_of(batch), lambda e: handled.append(e["id"]))
    assert answer == {"batchItemFailures": []}
    assert handled == ["0", "2"]
    (message,) = messages(sqs, url)
    violation = json.loads(message["Body"])["contractViolation"]
    assert violation["violation"] == "thing-created v2: /name: must be string"
    assert violation["sequenceNumber"] == "49001" and violation["shardId"] == SHARD
    assert json.loads(base64.b64decode(violation["data"]))["name"] == 42


def test_violations_are_counted_in_a_metric(shipped, queue, capsys):
    event_consumer.process(event_of(records({"name": 42})), lambda e: None)
    (line,) = [json.loads(out) for out in capsys.readouterr().out.splitlines()]
    assert line["ContractViolations"] == 1 and line["FunctionName"] == "listener"


def test_an_event_is_checked_against_the_version_its_tag_names(shipped, queue):
    sqs, url = queue
    (record,) = records({"name": "a", "parts": [{"sku": 1}]})
    envelope = json.loads(record["Data"])
    envelope["tags"]["contract"] = "thing-created/v1"  # v1 has no "parts" and is closed
    record["Data"] = json.dumps(envelope).encode()
    event_consumer.process(event_of([record]), lambda e: None)
    (message,) = messages(sqs, url)
    assert json.loads(message["Body"])["contractViolation"]["violation"].startswith(
        "thing-created v1: /: must not contain"
    )


def test_a_violation_that_cannot_be_sent_fails_its_record(shipped, queue, monkeypatch):
    monkeypatch.setenv(
        event_consumer.VIOLATIONS_QUEUE_ENV, "https://sqs.us-east-1.amazonaws.com/123456789012/gone"
    )
    handled = []
    batch = records({"name": "a"}, {"name": 42}, {"name": "c"})
    answer = event_consumer.process(event_of(batch), lambda e: handled.append(e["id"]), retries=0)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "49001"}]}
    assert handled == ["0"]


def test_dlq_reads_the_violation_back_and_redrives_its_record(shipped, queue):
    sqs, url = queue
    event_consumer.process(event_of(records({"name": 42})), lambda e: None)
    (message,) = messages(sqs, url)
    batch = failed_batch(kinesis=None, consumer=None, message=message)
    summary = batch.summary()
    assert summary["condition"] == "ContractViolation"
    assert summary["violation"] == "thing-created v2: /name: must be string"
    assert summary["events"][0]["name"] == 42
    received = []

    def invoke(event):
        received.append(event)
        return Invocation({"batchItemFailures": []})

    assert redrive(batch, invoke, region="us-east-1", role_arn="r") == (
        True,
        "redelivered 1 records",
    )
    (delivered,) = received[0]["Records"]
    assert delivered["kinesis"]["sequenceNumber"] == "49000"
