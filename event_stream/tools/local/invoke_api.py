"""Lambda's Invoke API on the local AWS, for every caller: boto3, the AWS CLI, the SDK for
JavaScript and our own CLI all reach it through moto's Lambda endpoint (moto fix 9), and
every invocation runs in the same warm workers as the event source mappings (`Invoker`).

Sources: the Lambda API reference, "Invoke" (invocation types, headers, the 6 MB limits);
"Invoking a Lambda function asynchronously" and "How Lambda handles errors and retries with
asynchronous invocation" (the queue; on a function error "two more times, with a one-minute
wait between the first two attempts, and two minutes between the second and third";
`MaximumRetryAttempts` 0-2, `MaximumEventAgeInSeconds` up to 6 hours, both defaults the
maximum); "Capturing records of Lambda asynchronous invocations" (the invocation record and
where it goes: SQS and SNS as the message, Lambda as the payload, EventBridge as `detail`
with source `lambda`).
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from event_stream.tools import arns
from event_stream.tools.lambda_model.invocation import PAYLOAD_LIMIT, Invocation
from event_stream.tools.lambda_model.kinesis_event import iso_time
from event_stream.tools.local.destinations import Destinations

RESPONSE_LIMIT = 6_291_556  # the response payload, as Lambda's error message states it
EVENT_LIMIT = 1024 * 1024  # an asynchronous invocation's payload ("Lambda quotas")
LOG_TAIL_BYTES = 4096  # LogType=Tail: "the last 4 KB of the execution log"
RETRY_DELAYS = (60.0, 120.0)  # seconds before the second and the third attempt
DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = 21_600
LATEST = "$LATEST"
RESULT_DETAIL_TYPE = "Lambda Function Invocation Result - {}"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the Invoke API: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def api_error(status: int, code: str, message: str) -> Answer:
    """An error as Lambda's REST API answers it (botocore reads the code from the header)."""
    body = json.dumps({"Type": "User", "message": message}).encode()
    return Answer(status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, body)


@dataclass(order=True)
class QueuedEvent:
    """An asynchronous invocation waiting in the function's queue."""

    due: float
    order: int
    function_arn: str = field(compare=False)
    event: Any = field(compare=False)
    request_id: str = field(compare=False)
    queued_at: float = field(compare=False)
    attempts: int = field(default=0, compare=False)
    last: Invocation | None = field(default=None, compare=False)


class InvokeApi:
    """Answers Invoke requests by running functions through `invoke(function, event,
    request_id)` (the server's `Invoker.invoke`); asynchronous ones wait in a queue of their
    own, retried and recorded as Lambda does. `client(service)` reaches the local AWS (the
    function's EventInvokeConfig, its destinations); `clock` is wall time, injected;
    `flush_logs` puts the invoker's gathered log lines before a synchronous answer."""

    def __init__(
        self,
        invoke: Callable[..., Invocation],
        client: Callable[[str], Any],
        *,
        clock: Callable[[], float] = time.time,
        concurrency: int = 4,
        flush_logs: Callable[[], None] = lambda: None,
    ) -> None:
        self._invoke = invoke
        self._flush_logs = flush_logs
        self.client = client
        self.clock = clock
        self.destinations = Destinations(client)
        self._queue: list[QueuedEvent] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="async-invoke")
        self._thread = threading.Thread(target=self._run, name="async-invoke", daemon=True)

    def answer(
        self,
        function_arn: str,
        qualifier: str | None,
        payload: bytes | str,
        headers: Mapping[str, str],
    ) -> Answer:
        """One Invoke request: `headers` as the caller sent them (`X-Amz-Invocation-Type`,
        `X-Amz-Log-Type`)."""
        body = payload.encode() if isinstance(payload, str) else payload or b""
        kind = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        limit = EVENT_LIMIT if kind == "Event" else PAYLOAD_LIMIT
        if len(body) > limit:
            return api_error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        try:
            event = json.loads(body) if body.strip() else {}
        except ValueError as error:
            return api_error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )
        version = qualifier or LATEST
        target = function_arn if version == LATEST else f"{function_arn}:{version}"
        if kind == "DryRun":
            return Answer(204, {}, b"")
        if kind == "Event":
            self.enqueue(target, event)
            return Answer(202, {}, b"")
        if kind != "RequestResponse":
            return api_error(
                400,
                "InvalidParameterValueException",
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[RequestResponse, Event, DryRun]",
            )
        invocation = self._invoke(runnable(target), event)
        self._flush_logs()  # the caller may read the log group as soon as it has its answer
        return self._sync_answer(invocation, version, tail=headers.get("X-Amz-Log-Type") == "Tail")

    def _sync_answer(self, invocation: Invocation, version: str, *, tail: bool) -> Answer:
        headers = {"X-Amz-Executed-Version": version, "Content-Type": "application/json"}
        if invocation.request_id:
            headers["x-amzn-RequestId"] = invocation.request_id
        if tail:
            log = "\n".join(invocation.log_lines).encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(log).decode()
        if invocation.error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return Answer(200, headers, json.dumps(invocation.error).encode())
        body = json.dumps(invocation.answer).encode()
        if len(body) > RESPONSE_LIMIT:
            headers["X-Amz-Function-Error"] = "Unhandled"
            too_large = {
                "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum "
                f"allowed payload size ({RESPONSE_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
            return Answer(200, headers, json.dumps(too_large).encode())
        return Answer(200, headers, body)

    # The asynchronous queue.

    def enqueue(self, function_arn: str, event: Any) -> str:
        """Queue one asynchronous invocation; its request id."""
        now = self.clock()
        queued = QueuedEvent(now, next(self._order), function_arn, event, str(uuid.uuid4()), now)
        with self._lock:
            heapq.heappush(self._queue, queued)
        self._wake.set()
        return queued.request_id

    def due(self, now: float) -> list[QueuedEvent]:
        """Take every queued invocation due at `now`."""
        taken = []
        with self._lock:
            while self._queue and self._queue[0].due <= now:
                taken.append(heapq.heappop(self._queue))
        return taken

    def next_due(self) -> float | None:
        with self._lock:
            return self._queue[0].due if self._queue else None

    def attempt(self, queued: QueuedEvent) -> None:
        """Run one attempt of a queued invocation: it succeeds, is queued again after
        Lambda's delay, or is discarded (its record to the on-failure destination)."""
        settings = self._settings(queued.function_arn)
        now = self.clock()
        if now - queued.queued_at > settings["MaximumEventAgeInSeconds"]:
            self._record(queued, "EventAgeExceeded", settings)
            return
        invocation = self._invoke(
            runnable(queued.function_arn), queued.event, request_id=queued.request_id
        )
        queued.attempts += 1
        queued.last = invocation
        if invocation.error is None:
            self._record(queued, "Success", settings)
        elif queued.attempts > settings["MaximumRetryAttempts"]:
            self._record(queued, "RetriesExhausted", settings)
        else:
            queued.due = self.clock() + RETRY_DELAYS[queued.attempts - 1]
            with self._lock:
                heapq.heappush(self._queue, queued)
            self._wake.set()

    def _settings(self, function_arn: str) -> dict[str, Any]:
        """The function's EventInvokeConfig, with Lambda's defaults."""
        name = arns.function_name(function_arn)
        try:
            config = self.client("lambda").get_function_event_invoke_config(FunctionName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            config = {}
        return {
            "MaximumRetryAttempts": config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS),
            "MaximumEventAgeInSeconds": config.get(
                "MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE
            ),
            "DestinationConfig": config.get("DestinationConfig") or {},
        }

    def _record(self, queued: QueuedEvent, condition: str, settings: dict[str, Any]) -> None:
        """Send the invocation record where the function's EventInvokeConfig says."""
        success = condition == "Success"
        where = settings["DestinationConfig"].get("OnSuccess" if success else "OnFailure") or {}
        destination = where.get("Destination")
        if not destination:
            return
        record = invocation_record(queued, condition, self.clock())
        if arns.service(destination) == "events":
            self.client("events").put_events(
                Entries=[
                    {
                        "Source": "lambda",
                        "DetailType": RESULT_DETAIL_TYPE.format(
                            "Success" if success else "Failure"
                        ),
                        "Detail": json.dumps(record),
                        "EventBusName": destination,
                        "Resources": [record["requestContext"]["functionArn"]],
                    }
                ]
            )
        elif arns.service(destination) == "lambda":
            self.client("lambda").invoke(
                FunctionName=destination, InvocationType="Event", Payload=json.dumps(record)
            )
        else:
            self.destinations.send(destination, record)

    def start(self) -> InvokeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for queued in self.due(self.clock()):
                self._pool.submit(self._attempt_logged, queued)
            upcoming = self.next_due()
            wait = 1.0 if upcoming is None else max(0.0, min(1.0, upcoming - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()

    def _attempt_logged(self, queued: QueuedEvent) -> None:
        try:
            self.attempt(queued)
        except Exception as error:  # the function or a destination is gone: say so, go on
            print(f"async invocation of {queued.function_arn} dropped: {error}", flush=True)


def runnable(function_arn: str) -> str:
    """What the invoker runs: the function's name, qualified unless it is $LATEST."""
    parts = function_arn.split(":")
    name = arns.function_name(function_arn)
    return name if len(parts) < 8 or parts[7] == LATEST else f"{name}:{parts[7]}"


def invocation_record(queued: QueuedEvent, condition: str, now: float) -> dict[str, Any]:
    """The record Lambda writes of an asynchronous invocation ("Capturing records of Lambda
    asynchronous invocations", the example records)."""
    version = queued.function_arn.split(":")[7] if queued.function_arn.count(":") > 6 else LATEST
    base_arn = ":".join(queued.function_arn.split(":")[:7])
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_time(now),
        "requestContext": {
            "requestId": queued.request_id,
            "functionArn": f"{base_arn}:{version}",
            "condition": condition,
            "approximateInvokeCount": queued.attempts,
        },
        "requestPayload": queued.event,
    }
    if queued.last is not None:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
        if queued.last.error is not None:
            response["functionError"] = "Unhandled"
        record["responseContext"] = response
        record["responsePayload"] = (
            queued.last.error if queued.last.error is not None else queued.last.answer
        )
    return record
