"""Fault injection at the HTTP layer, below botocore's retry logic and the publisher."""

from __future__ import annotations

import base64
import json
import random
from typing import Any, ClassVar

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard shardId-000000000000 (injected)",
}


class Fault:
    """A before-send handler that takes the place of moto's own on one client.

    botocore runs every before-send handler, so both cannot be there: the fault handles
    the calls it targets and hands the rest to moto's handler.
    """

    def attach(self, client: Any) -> Fault:
        client.meta.events.unregister("before-send", botocore_stubber)
        client.meta.events.register("before-send", self)
        return self


class ThrottleEntries(Fault):
    """Throttles a share of the entries of every PutRecords request (in-process moto).

    For PutRecords the chosen entries are cut out of the request body, moto answers the
    rest, and throttling errors are spliced into the HTTP response body at the cut
    positions. A throttled entry never reaches the stream, as on Kinesis, and botocore sees
    an ordinary HTTP 200 answer.
    """

    def __init__(self, share: float, seed: int = 7) -> None:
        self.share = share
        self.rng = random.Random(seed)
        self.requests = 0
        self.throttled = 0

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        if event_name != "before-send.kinesis.PutRecords":
            return botocore_stubber(event_name, request, **kwargs)
        body = json.loads(request.body)
        entries = body["Records"]
        cut = {i for i in range(len(entries)) if self.rng.random() < self.share}
        self.requests += 1
        self.throttled += len(cut)
        answered: list[dict[str, Any]] = []
        if len(cut) < len(entries):
            request.body = json.dumps(
                {**body, "Records": [e for i, e in enumerate(entries) if i not in cut]}
            ).encode()
            _status, _headers, answer = botocore_stubber.process_request(request)
            answered = json.loads(answer)["Records"]
        rest = iter(answered)
        records = [THROTTLED if i in cut else next(rest) for i in range(len(entries))]
        payload = {"FailedRecordCount": len(cut), "Records": records}
        return AWSResponse(
            request.url,
            200,
            {"Content-Type": "application/x-amz-json-1.1"},
            MockRawResponse(json.dumps(payload)),
        )


class FailRequests(Fault):
    """Fails whole PutRecords requests, in-process: those carrying the event with `"n": marked`.

    `how`: "timeout" (the request never reaches the stream, the client times out),
    "lost-answer" (the stream writes the records, then the answer is lost to a timeout),
    "500" (InternalFailure), "throttled" (the whole request throttled). `times`: how many
    requests fail before the marked event's requests go through (None: never).
    """

    ERRORS: ClassVar[dict[str, tuple[int, str, str]]] = {
        "500": (500, "InternalFailure", "Internal service failure (injected)"),
        "throttled": (400, "ProvisionedThroughputExceededException", "Rate exceeded (injected)"),
    }

    def __init__(self, how: str, marked: int, times: int | None = 1) -> None:
        self.how = how
        self.marked = marked
        self.times = times
        self.requests = 0
        self.failed = 0

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        if event_name != "before-send.kinesis.PutRecords":
            return botocore_stubber(event_name, request, **kwargs)
        self.requests += 1
        numbers = [
            json.loads(base64.b64decode(entry["Data"])).get("n")
            for entry in json.loads(request.body)["Records"]
        ]
        if self.marked not in numbers or (self.times is not None and self.failed >= self.times):
            return botocore_stubber(event_name, request, **kwargs)
        self.failed += 1
        if self.how in ("timeout", "lost-answer"):
            if self.how == "lost-answer":
                botocore_stubber.process_request(request)  # written; the answer never comes
            raise ReadTimeoutError(endpoint_url=request.url, error="injected read timeout")
        status, code, message = self.ERRORS[self.how]
        return AWSResponse(
            request.url,
            status,
            {"Content-Type": "application/x-amz-json-1.1"},
            MockRawResponse(json.dumps({"__type": code, "message": message})),
        )
