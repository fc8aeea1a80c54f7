"""The developer CLI's own logic: real-AWS invoke answers, tail --follow, log lines."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from event_stream import cli, stream_reader
from event_stream.errors import UserError
from tests.functional.streams import STREAM


def _payload(value) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def target(aws_credentials, monkeypatch):
    """A real-AWS target whose Lambda client answers from a botocore Stubber."""
    client = boto3.client("lambda", region_name="us-east-1")
    stubber = Stubber(client)
    target = cli.Target(endpoint=None, region="us-east-1")
    monkeypatch.setattr(cli.Target, "client", lambda self, service: client)
    with stubber:
        yield target, stubber


def test_invoke_on_aws_prints_what_the_function_answered(target):
    target, stubber = target
    answer = {"ShardId": "shardId-000000000000", "SequenceNumber": "4955", "id": "x"}
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": _payload(answer)},
        {"FunctionName": "fn", "Payload": b'{"type": "t"}'},
    )
    assert cli._invoke_lambda(target, "fn", {"type": "t"}) == answer


def test_invoke_on_aws_turns_a_function_error_into_one_line(target):
    target, stubber = target
    error = {
        "errorType": "InvalidEvent",
        "errorMessage": "type: required, must be a non-empty string",
    }
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(error)},
        {"FunctionName": "fn", "Payload": b"{}"},
    )
    with pytest.raises(UserError) as raised:
        cli._invoke_lambda(target, "fn", {})
    assert (
        str(raised.value) == "fn failed: InvalidEvent: type: required, must be a non-empty string"
    )


def test_tail_follow_polls_every_shard_until_interrupted(kinesis):
    kinesis.put_record(
        StreamName=STREAM,
        PartitionKey="k",
        Data=b'{"id":"1","type":"t","timestamp":1,"partitionKey":"k","tags":{}}',
    )
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        if len(polls) == 1:
            kinesis.put_record(
                StreamName=STREAM,
                PartitionKey="k",
                Data=b'{"id":"2","type":"t","timestamp":2,"partitionKey":"k","tags":{}}',
            )
        if len(polls) == 3:
            raise KeyboardInterrupt

    seen = []
    with pytest.raises(KeyboardInterrupt):
        for _, envelope in stream_reader.read(kinesis, STREAM, follow=True, sleep=sleep):
            seen.append(envelope["id"])
    assert seen == ["1", "2"]


def test_tail_reads_every_shard(aws_credentials):
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="four", ShardCount=4)
        for i in range(200):
            body = {"id": str(i), "type": "t", "timestamp": i, "partitionKey": f"k{i}", "tags": {}}
            client.put_record(
                StreamName="four", PartitionKey=f"k{i}", Data=json.dumps(body).encode()
            )
        read = list(stream_reader.read(client, "four"))
    assert len({shard for shard, _ in read}) == 4
    assert sorted(int(e["id"]) for _, e in read) == list(range(200))


def test_log_line_shows_level_message_and_fields():
    event = {
        "timestamp": 0,
        "message": json.dumps(
            {
                "timestamp": "x",
                "level": "INFO",
                "message": "event received",
                "logger": "publisher",
                "requestId": "r",
                "event": {"type": "t"},
            }
        ),
    }
    assert (
        cli._log_line(event) == '1970-01-01 00:00:00 INFO event received {"event": {"type": "t"}}'
    )


def test_plain_log_lines_pass_through():
    assert cli._log_line({"timestamp": 0, "message": "START RequestId: r\n"}) == (
        "1970-01-01 00:00:00 START RequestId: r"
    )
