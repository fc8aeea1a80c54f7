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
from event_stream.tools.cli import logs as logs_command
from event_stream.tools.cli import output
from event_stream.tools.cli.cdk_cli import deploy_hint
from event_stream.tools.cli.invoke import function_invoker
from event_stream.tools.cli.target import INVOKE_CONFIG, Target
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.invocation import Invocation


def _payload(value) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def target(aws_credentials, monkeypatch):
    """A real-AWS target whose Lambda client answers from a botocore Stubber."""
    client = boto3.client("lambda", region_name="us-east-1")
    stubber = Stubber(client)
    target = Target(endpoint=None, region="us-east-1")
    monkeypatch.setattr(Target, "client", lambda self, service, config=None: client)
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
    assert function_invoker(target, "fn", here=False)({"type": "t"}) == Invocation(answer)


def test_invoke_on_aws_answers_a_function_error_as_one_line(target):
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
    assert function_invoker(target, "fn", here=False)({}) == Invocation(None, error)
    assert (
        output.function_error("fn", error)
        == "fn failed: InvalidEvent: type: required, must be a non-empty string"
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
        output.log_line(event) == '1970-01-01 00:00:00 INFO event received {"event": {"type": "t"}}'
    )


def test_plain_log_lines_pass_through():
    assert output.log_line({"timestamp": 0, "message": "START RequestId: r\n"}) == (
        "1970-01-01 00:00:00 START RequestId: r"
    )


@pytest.mark.parametrize(
    "text,seconds", [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800), ("1w", 604800)]
)
def test_since_reads_durations_as_aws_logs_tail_does(text, seconds):
    assert output.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10", "m", "1y", "-5m", "1.5h"])
def test_a_bad_since_is_one_clear_error(text):
    with pytest.raises(UserError, match=rf"^--since '{re.escape(text)}': must be a duration"):
        output.parse_duration(text)


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
        args.target = Target(endpoint=None, region="us-east-1")
        logs_command.run(args)
        recent = capsys.readouterr().out
        assert "a minute ago" in recent and "an hour ago" not in recent
        args = cli.build_parser().parse_args(["logs", "--function", "fn", "--since", "2h"])
        args.target = Target(endpoint=None, region="us-east-1")
        logs_command.run(args)
    out = capsys.readouterr().out
    assert "an hour ago" in out and "a minute ago" in out


def test_invoke_on_aws_never_sends_the_invocation_twice(aws_credentials, monkeypatch):
    """A retried Invoke runs the function again: one request, whatever the answer."""
    import http.server
    import threading

    from botocore.exceptions import ClientError

    hits = []

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"message": "Service Unavailable"}')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    try:
        run = function_invoker(Target(endpoint=None, region="us-east-1"), "fn", here=False)
        with pytest.raises(ClientError):
            run({"type": "t"})
    finally:
        server.shutdown()
    assert len(hits) == 1
    assert INVOKE_CONFIG.read_timeout > 15 * 60  # longer than any function may run


def test_the_deploy_hint_names_the_make_target_inside_this_repository():
    from tests.conftest import ROOT

    local = "http://localhost:4566"
    assert deploy_hint("john", endpoint=local, app_dir=ROOT) == "make local-deploy STAGE=john"
    assert deploy_hint("john", endpoint=None, app_dir=ROOT) == "make deploy STAGE=john"


def test_the_deploy_hint_keeps_a_port_that_is_not_the_default():
    from tests.conftest import ROOT

    assert deploy_hint("alice", endpoint="http://localhost:4850", app_dir=ROOT) == (
        "make local-deploy STAGE=alice PORT=4850"
    )


def test_the_deploy_hint_names_the_cdk_command_in_another_app(tmp_path):
    (tmp_path / "Makefile").write_text("build:\n\ttrue\n")  # an app's own Makefile, no target
    assert deploy_hint("john", endpoint=None, app_dir=tmp_path) == (
        "npx cdk deploy --context stage=john"
    )


def test_the_local_deploy_hint_in_another_app_points_the_cdk_cli_at_that_local_aws(tmp_path):
    assert deploy_hint("john", endpoint="http://localhost:4850", app_dir=tmp_path) == (
        'eval "$(python -m event_stream local env --port 4850)" && npx cdk bootstrap '
        "aws://123456789012/us-east-1 && npx cdk deploy --context stage=john --method=direct"
    )


def test_a_stage_without_a_lake_is_one_clear_line():
    from event_stream.tools.cli.lake import lake_bucket
    from event_stream.tools.readers.deployed import DeployedStack

    stack = DeployedStack("cncb-event-stream-john", "id", "CREATE_COMPLETE", {"streamName": "s"})
    with pytest.raises(UserError, match=r"^stack cncb-event-stream-john keeps no event lake"):
        lake_bucket(stack)


def test_the_stage_defaults_to_event_stream_stage_when_it_is_set(monkeypatch):
    monkeypatch.setenv("EVENT_STREAM_STAGE", "alice")
    assert cli.build_parser().parse_args(["tail"]).stage == "alice"


def test_the_stage_defaults_to_dev_without_event_stream_stage(monkeypatch):
    monkeypatch.delenv("EVENT_STREAM_STAGE", raising=False)
    assert cli.build_parser().parse_args(["tail"]).stage == "dev"


def test_s_and_d_are_short_for_stage_and_data(monkeypatch):
    args = cli.build_parser().parse_args(["invoke", "-s", "bob", "-d", '{"type":"t"}'])
    assert (args.stage, args.data) == ("bob", '{"type":"t"}')


def test_a_bad_stage_in_event_stream_stage_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("EVENT_STREAM_STAGE", "Bad_Stage")
    assert cli.main(["info"]) == 1
    assert capsys.readouterr().err.startswith("error: invalid stage 'Bad_Stage'")
