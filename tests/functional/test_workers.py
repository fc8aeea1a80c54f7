"""A Python function's execution environment here: answers, errors, logs and timeouts as
Lambda reports them."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from event_stream.tools.lambda_model import workers
from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.local import launcher

CODE = """
import logging, os, time
logger = logging.getLogger("fake")

def echo(event, context):
    logger.info("echoing", extra={"event": event})
    return {"event": event, "function": context.function_name, "stream": os.environ["STREAM_NAME"]}

def fail(event, context):
    raise ValueError("type: required, must be a non-empty string")

def region(event, context):
    import boto3
    return {"boto3": boto3.Session().region_name, "AWS_REGION": os.environ["AWS_REGION"]}

CALLS = []

def count(event, context):
    CALLS.append(event)
    print("printed line")
    return len(CALLS)

def environment(event, context):
    import boto3
    credentials = boto3.Session().get_credentials()
    return {"variables": dict(os.environ), "access_key": credentials and credentials.access_key}

def crash(event, context):
    os._exit(3)

def hang(event, context):
    time.sleep(30)
"""


def function(handler: str, timeout: int = 3) -> DeployedFunction:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fake_handler.py", CODE)
    return DeployedFunction(
        name="cncb-event-stream-test-publish",
        handler=f"fake_handler.{handler}",
        environment={"STREAM_NAME": "test-s1"},
        log_group="/aws/lambda/x",
        log_level="INFO",
        timeout=timeout,
        code_zip=buffer.getvalue(),
    )


def run_once(function: DeployedFunction, event, *, region: str) -> Invocation:
    """One invocation in a fresh execution environment, then the environment is gone."""
    worker = workers.Worker(function, region=region)
    try:
        return worker.invoke(event)
    finally:
        worker.stop()


def test_answer_comes_from_the_zip_with_its_environment_and_context():
    invocation = run_once(function("echo"), {"type": "t"}, region="us-east-1")
    assert invocation.error is None
    assert invocation.answer == {
        "event": {"type": "t"},
        "function": "cncb-event-stream-test-publish",
        "stream": "test-s1",
    }


def test_the_code_gets_the_region_it_runs_in_as_lambda_sets_it(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    invocation = run_once(function("region"), {}, region="eu-west-1")
    assert invocation.answer == {"boto3": "eu-west-1", "AWS_REGION": "eu-west-1"}


def test_log_lines_are_lambda_json_with_extras():
    invocation = run_once(function("echo"), {"type": "t"}, region="us-east-1")
    (line,) = [json.loads(x) for x in invocation.log_lines if '"echoing"' in x]
    assert line["level"] == "INFO" and line["event"] == {"type": "t"} and line["requestId"]


def test_exception_is_reported_as_lambda_reports_it():
    invocation = run_once(function("fail"), {}, region="us-east-1")
    error = dict(invocation.error)
    trace = error.pop("stackTrace")
    assert error == {
        "errorType": "ValueError",
        "errorMessage": "type: required, must be a non-empty string",
        "requestId": invocation.request_id,
    }
    # The handler's own frames, as Lambda's Python runtime lists them (no bootstrap frame).
    assert len(trace) == 1 and "fake_handler.py" in trace[0] and "in fail" in trace[0]
    assert any('"errorType": "ValueError"' in line for line in invocation.log_lines)


def test_a_hung_function_times_out_like_lambda(monkeypatch):
    monkeypatch.setattr(workers, "INTERPRETER_START", 1)
    invocation = run_once(function("hang", timeout=1), {}, region="us-east-1")
    assert invocation.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1 seconds",
    }


@pytest.mark.parametrize(
    "handler,error_type,message",
    [
        ("fake_handler.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module"),
        ("nope.handler", "Runtime.ImportModuleError", "Unable to import module 'nope': "),
    ],
)
def test_a_wrong_handler_setting_is_lambdas_runtime_error_not_a_crash(handler, error_type, message):
    fn = DeployedFunction(**{**function("echo").__dict__, "handler": handler})
    invocation = run_once(fn, {}, region="us-east-1")
    assert invocation.answer is None and invocation.error["errorType"] == error_type
    assert invocation.error["errorMessage"].startswith(message)


def test_a_warm_worker_keeps_the_module_loaded_between_invocations():
    worker = workers.Worker(function("count"), region="us-east-1")
    try:
        answers = [worker.invoke({"n": n}).answer for n in range(3)]
    finally:
        worker.stop()
    assert answers == [1, 2, 3]


def test_prints_are_log_lines_of_their_own_invocation():
    worker = workers.Worker(function("count"), region="us-east-1")
    try:
        first, second = worker.invoke({}), worker.invoke({})
    finally:
        worker.stop()
    assert first.log_lines == ["printed line"] and second.log_lines == ["printed line"]


def test_a_timed_out_worker_is_gone_and_a_new_one_starts_cold(monkeypatch):
    monkeypatch.setattr(workers, "INTERPRETER_START", 1)
    worker = workers.Worker(function("hang", timeout=1), region="us-east-1")
    assert worker.invoke({}).error["errorType"] == "Sandbox.Timedout"
    assert not worker.alive


def test_an_interpreter_that_exits_is_a_runtime_exit_error():
    worker = workers.Worker(function("crash"), region="us-east-1")
    invocation = worker.invoke({})
    assert invocation.error["errorType"] == "Runtime.ExitError" and not worker.alive
    worker.stop()


def test_a_function_on_the_local_aws_sees_none_of_the_shell_that_started_it(monkeypatch):
    # The shell holds a profile and real-looking keys, and no endpoint.
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
    monkeypatch.setenv("SOME_SHELL_VARIABLE", "x")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    sealed = launcher.function_environment("http://localhost:4999")
    worker = workers.Worker(function("environment"), region="us-east-1", environment=sealed)
    try:
        answer = worker.invoke({}).answer
    finally:
        worker.stop()
    variables = answer["variables"]
    assert not {"AWS_PROFILE", "SOME_SHELL_VARIABLE"} & variables.keys()
    assert "real-looking-secret" not in variables.values()
    assert answer["access_key"] == "test"  # what boto3 inside the function signs with
    assert variables["AWS_ENDPOINT_URL"] == "http://localhost:4999"
    assert variables["AWS_SHARED_CREDENTIALS_FILE"] == variables["AWS_CONFIG_FILE"] == os.devnull
    assert variables["STREAM_NAME"] == "test-s1"  # the function's own variables
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == "cncb-event-stream-test-publish"


def test_invoke_local_against_aws_runs_as_the_developer(monkeypatch):
    monkeypatch.setenv("SOME_SHELL_VARIABLE", "x")
    worker = workers.Worker(function("environment"), region="us-east-1")
    try:
        assert worker.invoke({}).answer["variables"]["SOME_SHELL_VARIABLE"] == "x"
    finally:
        worker.stop()
