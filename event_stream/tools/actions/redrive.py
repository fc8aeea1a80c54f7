"""Redrive a dead-lettered Kinesis batch: invoke its function once with the batch's records,
in the event Lambda would have sent, and say whether it succeeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from event_stream.tools.lambda_model.invocation import Invocation, describe_error
from event_stream.tools.lambda_model.kinesis_event import first_failed, lambda_event
from event_stream.tools.readers.dead_letters import FailedBatch

Invoke = Callable[[Any], Invocation]  # a Lambda event -> what the function answered


def redrive(batch: FailedBatch, invoke: Invoke, *, region: str, role_arn: str) -> tuple[bool, str]:
    """Invoke the function once with the batch's records: `(succeeded, what happened)`.

    Success is no function error and no reported batch item failure. A batch with records
    lost (neither on the stream nor in the lake) is never redriven short.
    """
    if batch.missing:
        return False, (
            f"LOST: {batch.missing} of the batch's {batch.batch_size} records are neither on "
            f"the stream nor in the lake ({batch.shard_id}, sequence numbers {batch.start} to "
            f"{batch.end}); not redriven short, the message stays queued"
        )
    event = lambda_event(
        batch.records,
        shard_id=batch.shard_id,
        stream_arn=batch.stream_arn,
        region=region,
        role_arn=role_arn,
    )
    invocation = invoke(event)
    if invocation.error:
        return False, describe_error(invocation.error)
    if first_failed(batch.records, invocation, reports_item_failures=True) is not None:
        failures = invocation.answer["batchItemFailures"]
        return False, f"the function reported failed records: {failures}"
    return True, f"redelivered {len(batch.records)} records"
