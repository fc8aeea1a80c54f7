"""The pieces a shard's batches are made of (`batch_state.ShardBatches` moves them): a batch
and how it is invoked, a lane of a shard, and what leaves it for the on-failure destination."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from event_stream.tools.lambda_model import tumbling_window
from event_stream.tools.lambda_model.kinesis_event import lambda_event, on_failure_record
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.tumbling_window import Window
from event_stream.tools.lambda_model.wire import KinesisRecord, OnFailureRecord


@dataclass
class Batch:
    """Records delivered together, and retried together until resolved."""

    records: list[KinesisRecord]
    retries: int = 0  # counted against MaximumRetryAttempts
    invocations: int = 0  # approximateInvokeCount of these records
    function_error: str | None = None  # of the last failure: "Unhandled", or None (partial)
    window: Window | None = None  # with tumbling windows: the window it belongs to
    final: bool = False  # the window's final invocation (no records)


@dataclass(frozen=True)
class Discard:
    """Records that leave without success, for the on-failure destination."""

    records: list[KinesisRecord]
    condition: str  # RetryAttemptsExhausted or RecordAgeExceeded
    invocations: int
    function_error: str | None

    def on_failure_record(self, mapping: EventSourceMapping, shard_id: str) -> OnFailureRecord:
        """What Lambda sends the destination for these records."""
        return on_failure_record(
            self.records,
            shard_id=shard_id,
            stream_arn=mapping.stream_arn,
            function_arn=mapping.function_arn,
            condition=self.condition,
            invoke_count=self.invocations,
            function_error=self.function_error,
        )


@dataclass
class Lane:
    """One of a shard's concurrent batch slots: its partition keys' records, in order."""

    queue: deque[KinesisRecord] = field(default_factory=deque)  # read, not yet batched
    pending: deque[Batch] = field(default_factory=deque)  # formed, unresolved, in order
    busy: bool = False
    ready_at: float = 0.0
    queued_at: float | None = None  # when its oldest queued record was read
    window: Window | None = None  # the open tumbling window, its state


def invocation_event(
    batch: Batch, *, shard_id: str, stream_arn: str, region: str, role_arn: str
) -> dict[str, Any]:
    """The event Lambda invokes the function with for `batch` (its window's fields too)."""
    event: dict[str, Any] = dict(
        lambda_event(
            batch.records,
            shard_id=shard_id,
            stream_arn=stream_arn,
            region=region,
            role_arn=role_arn,
        )
    )
    if batch.window is not None:
        event.update(
            tumbling_window.event_fields(
                batch.window, shard_id=shard_id, stream_arn=stream_arn, final=batch.final
            )
        )
    return event
