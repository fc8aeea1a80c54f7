"""Put envelopes on a Kinesis stream: one with PutRecord, many with PutRecords.

One implementation for both handlers and the CLI's `replay`. Every call is bounded: the
client never retries by itself (botocore's retries would hide how long a call may take),
so this module makes every attempt, and starts one only when it can finish before the
deadline: at most `call_seconds` (connect + read timeout) each, with exponential backoff
and full jitter between them.

PutRecords answers HTTP 200 even when some entries failed, and a whole request can fail
(a timeout, a 5xx, a throttled request). Either way the entries concerned are re-sent if
the failure is worth retrying, as the same records with the same envelope ids, so a copy
written by a request whose answer was lost is recognisable by its id. `put_many` always
answers, in input order: each entry landed (shard, sequence number) or failed (error code
and message); nothing is dropped silently.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_envelope import PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, Record
    from .metrics import UNPUBLISHED_METRIC, emf_line
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, Record
    from metrics import UNPUBLISHED_METRIC, emf_line

# Error codes worth another attempt, for an entry or a whole request; anything else (an
# access denied, a stream that does not exist) is final.
RETRYABLE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "InternalFailure",
        "KMSThrottlingException",
        "LimitExceededException",
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalServerError",
    }
)
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_BASE_DELAY = 0.05
DEFAULT_MAX_DELAY = 2.0
# Time kept back before the Lambda deadline to build the answer and print the metric.
ANSWER_MARGIN = 0.5
NOT_SENT = {
    "ErrorCode": "NotSent",
    "ErrorMessage": "not sent: no time left before the function's deadline",
}
# The metric of events a batch could not publish (the construct alarms on it).


def call_timeouts(function_timeout: float) -> tuple[float, float]:
    """Connect and read timeouts of one Kinesis call made by a function with this timeout.

    The one place they are derived: a tenth and a quarter of the function's time, at most
    2 s and 5 s (a Kinesis write answers in well under a second), so that several attempts
    fit in the function's time.
    """
    return min(2.0, function_timeout / 10), min(5.0, function_timeout / 4)


def kinesis_client(function_timeout: float) -> Any:
    """A Kinesis client for a function with this timeout: bounded calls, no retries of its
    own (the Publisher makes every attempt, within the deadline)."""
    connect, read = call_timeouts(function_timeout)
    return boto3.client(
        "kinesis",
        config=Config(
            connect_timeout=connect, read_timeout=read, retries={"total_max_attempts": 1}
        ),
    )


class Publisher:
    """Puts prepared records on one stream through a boto3 Kinesis client."""

    def __init__(
        self,
        client: Any,
        stream_name: str,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_delay: float = DEFAULT_MAX_DELAY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.stream_name = stream_name
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # The longest one call can take: the client's connect + read timeouts.
        config = client.meta.config
        self.call_seconds = float(config.connect_timeout) + float(config.read_timeout)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def put_one(self, record: Record, *, deadline: float | None = None) -> dict[str, str]:
        """PutRecord, retried within the attempts and the deadline; raises the last error.

        `deadline` is a `clock()` value by which every call must have finished.
        """
        last: Exception = TimeoutError(
            "no time left before the function's deadline to call Kinesis"
        )
        for attempt in range(self.max_attempts):
            if not self._wait_turn(attempt, deadline):
                break
            try:
                answer = self.client.put_record(
                    StreamName=self.stream_name, PartitionKey=record.partition_key, Data=record.data
                )
            except (ClientError, BotoCoreError) as error:
                last = error
                if not _failure(error)[2]:
                    break
                continue
            return {
                "ShardId": answer["ShardId"],
                "SequenceNumber": answer["SequenceNumber"],
                "id": record.envelope["id"],
            }
        raise last

    def put_many(
        self, records: Sequence[Record], *, deadline: float | None = None
    ) -> dict[str, Any]:
        """PutRecords in request-sized chunks, re-sending what failed and is worth it.

        `deadline` is a `clock()` value by which every call must have finished. Answers
        `{"FailedRecordCount", "Records"}` in input order, each entry with the envelope `id`
        and `ShardId` + `SequenceNumber` or `ErrorCode` + `ErrorMessage`.
        """
        results: list[dict[str, str]] = [dict(NOT_SENT) for _ in records]
        pending = list(range(len(records)))
        for attempt in range(self.max_attempts):
            if not pending or not self._wait_turn(attempt, deadline):
                break
            pending = self._send(records, pending, results, deadline)
        answered = [{"id": record.envelope["id"], **results[i]} for i, record in enumerate(records)]
        failed = sum(1 for entry in answered if "ErrorCode" in entry)
        return {"FailedRecordCount": failed, "Records": answered}

    def _wait_turn(self, attempt: int, deadline: float | None) -> bool:
        """Back off before a retry; False when no call could finish before the deadline."""
        delay = self._jitter() * min(self.max_delay, self.base_delay * 2**attempt) if attempt else 0
        if deadline is not None and self._clock() + delay + self.call_seconds > deadline:
            return False
        if delay:
            self._sleep(delay)
        return True

    def _send(
        self,
        records: Sequence[Record],
        pending: list[int],
        results: list[dict[str, str]],
        deadline: float | None,
    ) -> list[int]:
        """One pass over the pending entries; returns those worth another attempt."""
        retry = []
        for chunk in chunked(pending, records):
            if deadline is not None and self._clock() + self.call_seconds > deadline:
                retry += chunk  # no time for this request now; its entries keep their answer
                continue
            try:
                answer = self.client.put_records(
                    StreamName=self.stream_name,
                    Records=[
                        {"Data": records[i].data, "PartitionKey": records[i].partition_key}
                        for i in chunk
                    ],
                )
            except (ClientError, BotoCoreError) as error:
                code, message, retryable = _failure(error)
                for index in chunk:
                    results[index] = {"ErrorCode": code, "ErrorMessage": message}
                if retryable:
                    retry += chunk
                continue
            for index, entry in zip(chunk, answer["Records"], strict=True):
                if "ErrorCode" in entry:
                    results[index] = {
                        "ErrorCode": entry["ErrorCode"],
                        "ErrorMessage": entry.get("ErrorMessage", ""),
                    }
                    if entry["ErrorCode"] in RETRYABLE_ERRORS:
                        retry.append(index)
                else:
                    results[index] = {
                        "ShardId": entry["ShardId"],
                        "SequenceNumber": entry["SequenceNumber"],
                    }
        return sorted(retry)


def _failure(error: ClientError | BotoCoreError) -> tuple[str, str, bool]:
    """A failed call as (error code, message, worth retrying)."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code, str(error), code in RETRYABLE_ERRORS or status >= 500
    # Timeouts and broken connections: the request may not have arrived (or its answer was
    # lost: a re-send then writes a copy with the same ids).
    return type(error).__name__, str(error), True


def chunked(indexes: Sequence[int], records: Sequence[Record]) -> Iterator[list[int]]:
    """Split record indexes into PutRecords requests within the count and size limits."""
    chunk: list[int] = []
    size = 0
    for index in indexes:
        record_size = records[index].size
        if chunk and (
            len(chunk) == PUT_RECORDS_MAX_RECORDS or size + record_size > PUT_RECORDS_MAX_BYTES
        ):
            yield chunk
            chunk, size = [], 0
        chunk.append(index)
        size += record_size
    if chunk:
        yield chunk


def unpublished_metric(count: int, function_name: str) -> str:
    """The EMF line of `count` events `function_name` could not publish, at ERROR level
    when there are any, so it survives the function's log-level filtering."""
    return emf_line(
        UNPUBLISHED_METRIC, count, function_name=function_name, level="ERROR" if count else "INFO"
    )
