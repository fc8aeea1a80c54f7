"""Put envelopes on a Kinesis stream: one with PutRecord, many with PutRecords.

One implementation for both handlers and the CLI's `replay`. PutRecords answers HTTP 200
even when some entries failed; botocore does not retry those, so this module re-sends only
the failed entries, with exponential backoff and full jitter, until they land, the attempts
run out or the deadline nears. Every input gets an answer, in input order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_envelope import PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, Record
    from .metrics import emf_line
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, Record
    from metrics import emf_line

# Entry error codes worth re-sending; anything else (e.g. KMS access denied) is final.
RETRYABLE_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException"}
)
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_BASE_DELAY = 0.05
DEFAULT_MAX_DELAY = 2.0
# Time kept back before the deadline for one more call to finish.
DEADLINE_MARGIN = 1.0
# The metric of events a batch could not publish (the construct alarms on it).
UNPUBLISHED_METRIC = "UnpublishedEvents"


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
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def put_one(self, record: Record) -> dict[str, str]:
        """PutRecord; throttling is retried by the client's botocore retry mode."""
        answer = self.client.put_record(
            StreamName=self.stream_name, PartitionKey=record.partition_key, Data=record.data
        )
        return {
            "ShardId": answer["ShardId"],
            "SequenceNumber": answer["SequenceNumber"],
            "id": record.envelope["id"],
        }

    def put_many(
        self, records: Sequence[Record], *, deadline: float | None = None
    ) -> dict[str, Any]:
        """PutRecords in request-sized chunks, re-sending failed entries.

        `deadline` is a `clock()` value after which no new attempt starts (the Lambda's
        remaining time). Answers `{"FailedRecordCount", "Records"}` in input order, each
        entry with the envelope `id` and `ShardId` + `SequenceNumber` or `ErrorCode` +
        `ErrorMessage`.
        """
        results: list[dict[str, str]] = [{} for _ in records]
        pending = list(range(len(records)))
        for attempt in range(self.max_attempts):
            if attempt:
                delay = self._jitter() * min(self.max_delay, self.base_delay * 2**attempt)
                if deadline is not None and self._clock() + delay + DEADLINE_MARGIN > deadline:
                    break
                self._sleep(delay)
            pending = self._send(records, pending, results)
            if not pending:
                break
        for index in range(len(records)):
            results[index] = {"id": records[index].envelope["id"], **results[index]}
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedRecordCount": failed, "Records": results}

    def _send(
        self, records: Sequence[Record], pending: list[int], results: list[dict[str, str]]
    ) -> list[int]:
        """One pass over the pending entries; returns those worth another attempt."""
        retry = []
        for chunk in chunked(pending, records):
            answer = self.client.put_records(
                StreamName=self.stream_name,
                Records=[
                    {"Data": records[i].data, "PartitionKey": records[i].partition_key}
                    for i in chunk
                ],
            )
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
        return retry


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
