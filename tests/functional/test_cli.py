"""The developer CLI's own logic: real-AWS invoke answers, log lines."""

from __future__ import annotations

import io
import json
import re
import time

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from event_stream.tools import cli
from event_stream.tools.errors import UserError


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


@pytest.mark.parametrize(
    "text,seconds", [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800), ("1w", 604800)]
)
def test_since_reads_durations_as_aws_logs_tail_does(text, seconds):
    assert cli.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10", "m", "1y", "-5m", "1.5h"])
def test_a_bad_since_is_one_clear_error(text):
    with pytest.raises(UserError, match=rf"^--since '{re.escape(text)}': must be a duration"):
        cli.parse_duration(text)


def test_logs_show_a_recent_window_by_default(aws_credentials, capsys):
    from moto import mock_aws

    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName="/aws/lambda/fn")
        logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s")
        now = int(time.time() * 1000)
        logs.put_log_events(
            logGroupName="/aws/lambda/fn",
            logStreamName="s",
            logEvents=[
                {"timestamp": now - 3_600_000, "message": "an hour ago"},
                {"timestamp": now - 60_000, "message": "a minute ago"},
            ],
        )
        args = cli.build_parser().parse_args(["logs", "--function", "fn"])
        args.target = cli.Target(endpoint=None, region="us-east-1")
        cli.cmd_logs(args)
        recent = capsys.readouterr().out
        assert "a minute ago" in recent and "an hour ago" not in recent
        args = cli.build_parser().parse_args(["logs", "--function", "fn", "--since", "2h"])
        args.target = cli.Target(endpoint=None, region="us-east-1")
        cli.cmd_logs(args)
    out = capsys.readouterr().out
    assert "an hour ago" in out and "a minute ago" in out
