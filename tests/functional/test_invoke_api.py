"""The local AWS's Invoke API under Lambda's documented rules, with a fake clock and a fake
function: the synchronous answer's shape and limits, the asynchronous queue's retries and
pacing, the event age limit, and the invocation record each destination receives."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.lambda_model.invocation import PAYLOAD_LIMIT, Invocation
from event_stream.tools.local.invoke_api import (
    EVENT_LIMIT,
    InvokeApi,
    QueuedEvent,
    invocation_record,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"
SYNC: dict[str, str] = {}
EVENT = {"X-Amz-Invocation-Type": "Event"}


class Function:
    """A fake function: fails its first `failures` invocations, then answers its event."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[str, object, str | None]] = []

    def __call__(self, name: str, event: object, request_id: str | None = None) -> Invocation:
        self.calls.append((name, event, request_id))
        if len(self.calls) <= self.failures:
            error = {"errorType": "ValueError", "errorMessage": f"try {len(self.calls)}"}
            return Invocation(None, error, ["START", "boom"], request_id or "r-1")
        return Invocation({"ok": event}, None, ["START", "fine", "REPORT"], request_id or "r-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        yield lambda service: boto3.client(service, region_name="us-east-1")


def api(aws, function: Function, clock: Clock | None = None) -> InvokeApi:
    return InvokeApi(function, aws, clock=clock or Clock())


def queue_arn(aws, name: str) -> tuple[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def with_event_invoke_config(aws, **config) -> None:
    iam = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    lambda_.create_function(
        FunctionName="orders",
        Runtime="python3.13",
        Role=iam,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    lambda_.put_function_event_invoke_config(FunctionName="orders", **config)


def messages(aws, url: str) -> list[dict]:
    found = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def drain(invoke_api: InvokeApi, clock: Clock, until: float) -> None:
    """Run every attempt that falls due up to `until`, moving the clock to each."""
    while (due := invoke_api.next_due()) is not None and due <= until:
        clock.now = max(clock.now, due)
        for queued in invoke_api.due(clock.now):
            invoke_api.attempt(queued)


# RequestResponse


def test_a_synchronous_answer_is_the_functions_result(aws):
    answer = api(aws, Function()).answer(ARN, None, b'{"a": 1}', SYNC)
    assert answer.status == 200 and json.loads(answer.body) == {"ok": {"a": 1}}
    assert answer.headers["X-Amz-Executed-Version"] == "$LATEST"
    assert "X-Amz-Function-Error" not in answer.headers


def test_a_function_error_is_unhandled_with_the_error_as_payload(aws):
    answer = api(aws, Function(failures=1)).answer(ARN, None, b"{}", SYNC)
    assert answer.status == 200 and answer.headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(answer.body) == {"errorType": "ValueError", "errorMessage": "try 1"}


def test_log_type_tail_gives_the_last_4_kb_of_the_log_base64(aws):
    class Chatty(Function):
        def __call__(self, name, event, request_id=None):
            return Invocation(None, None, ["x" * 3000, "y" * 3000], "r")

    answer = api(aws, Chatty()).answer(ARN, None, b"{}", {"X-Amz-Log-Type": "Tail"})
    tail = base64.b64decode(answer.headers["X-Amz-Log-Result"])
    assert len(tail) == 4096 and tail.endswith(b"y" * 3000)


def test_an_empty_payload_is_an_empty_event(aws):
    function = Function()
    api(aws, function).answer(ARN, None, b"", SYNC)
    assert function.calls[0][1] == {}


def test_a_payload_that_is_not_json_is_refused_before_running(aws):
    function = Function()
    answer = api(aws, function).answer(ARN, None, b"not json", SYNC)
    assert answer.status == 400
    assert answer.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert function.calls == []


@pytest.mark.parametrize("headers,limit", [(SYNC, PAYLOAD_LIMIT), (EVENT, EVENT_LIMIT)])
def test_a_payload_over_the_limit_is_refused_with_413(aws, headers, limit):
    payload = b'"' + b"x" * limit + b'"'
    answer = api(aws, Function()).answer(ARN, None, payload, headers)
    assert answer.status == 413
    assert answer.headers["x-amzn-ErrorType"] == "RequestTooLargeException"


def test_a_response_over_6_mb_is_a_function_error(aws):
    class Large(Function):
        def __call__(self, name, event, request_id=None):
            return Invocation("x" * 6_300_000, None, [], "r")

    answer = api(aws, Large()).answer(ARN, None, b"{}", SYNC)
    assert answer.headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(answer.body)["errorType"] == "Function.ResponseSizeTooLarge"


def test_dry_run_answers_204_without_running(aws):
    function = Function()
    answer = api(aws, function).answer(ARN, None, b"{}", {"X-Amz-Invocation-Type": "DryRun"})
    assert answer.status == 204 and function.calls == []


def test_a_version_qualifier_runs_that_version(aws):
    function = Function()
    answer = api(aws, function).answer(ARN, "3", b"{}", SYNC)
    assert function.calls[0][0] == "orders:3"
    assert answer.headers["X-Amz-Executed-Version"] == "3"


# Event


def test_an_event_is_answered_202_and_queued_not_run(aws):
    function = Function()
    invoke_api = api(aws, function)
    assert invoke_api.answer(ARN, None, b'{"a": 1}', EVENT).status == 202
    assert function.calls == [] and invoke_api.next_due() is not None


def test_a_failing_event_is_retried_twice_after_one_then_two_minutes(aws):
    clock, function = Clock(), Function(failures=5)
    invoke_api = api(aws, function, clock)
    invoke_api.enqueue(ARN, {"a": 1})
    started = clock.now
    attempts_at = []
    while (due := invoke_api.next_due()) is not None:
        clock.now = due
        for queued in invoke_api.due(clock.now):
            attempts_at.append(clock.now - started)
            invoke_api.attempt(queued)
    assert attempts_at == [0.0, 60.0, 180.0]


def test_retries_keep_the_request_id(aws):
    clock, function = Clock(), Function(failures=1)
    invoke_api = api(aws, function, clock)
    request_id = invoke_api.enqueue(ARN, {})
    drain(invoke_api, clock, until=clock.now + 600)
    assert [call[2] for call in function.calls] == [request_id, request_id]


def test_maximum_retry_attempts_zero_makes_one_attempt(aws):
    with_event_invoke_config(aws, MaximumRetryAttempts=0)
    clock, function = Clock(), Function(failures=5)
    invoke_api = api(aws, function, clock)
    invoke_api.enqueue(ARN, {})
    drain(invoke_api, clock, until=clock.now + 600)
    assert len(function.calls) == 1


def test_a_discarded_event_goes_to_the_on_failure_queue_with_lambdas_record(aws):
    url, arn = queue_arn(aws, "failures")
    with_event_invoke_config(aws, DestinationConfig={"OnFailure": {"Destination": arn}})
    clock, function = Clock(), Function(failures=5)
    invoke_api = api(aws, function, clock)
    request_id = invoke_api.enqueue(ARN, {"order": 7})
    drain(invoke_api, clock, until=clock.now + 600)
    (record,) = messages(aws, url)
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"{ARN}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"] == {"errorType": "ValueError", "errorMessage": "try 3"}


def test_a_successful_event_goes_to_the_on_success_queue(aws):
    url, arn = queue_arn(aws, "successes")
    with_event_invoke_config(aws, DestinationConfig={"OnSuccess": {"Destination": arn}})
    clock = Clock()
    invoke_api = api(aws, Function(), clock)
    invoke_api.enqueue(ARN, {"order": 8})
    drain(invoke_api, clock, until=clock.now)
    (record,) = messages(aws, url)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": {"order": 8}}


def test_an_event_older_than_its_maximum_age_is_discarded_unrun(aws):
    url, arn = queue_arn(aws, "expired")
    with_event_invoke_config(
        aws,
        MaximumEventAgeInSeconds=90,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    clock, function = Clock(), Function(failures=5)
    invoke_api = api(aws, function, clock)
    invoke_api.enqueue(ARN, {})
    drain(invoke_api, clock, until=clock.now + 600)
    assert len(function.calls) == 2  # at 0 s and 60 s; the third, at 180 s, is too old
    (record,) = messages(aws, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_the_record_names_the_version_that_ran():
    queued = QueuedEvent(0.0, 0, f"{ARN}:4", {}, "r", 0.0, attempts=1)
    queued.last = Invocation("done")
    record = invocation_record(queued, "Success", 0.0)
    assert record["requestContext"]["functionArn"] == f"{ARN}:4"
    assert record["responseContext"]["executedVersion"] == "4"
