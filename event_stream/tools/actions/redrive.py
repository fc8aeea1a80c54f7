"""Redrive a dead-lettered Kinesis batch: invoke its function once with the batch's records,
in the event Lambda would have sent, and say whether it succeeded; and redrive a queue's
batches one after another, deleting each message whose batch succeeded (`dlq --redrive` and
the console's redrive)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from event_stream.tools.lambda_model.invocation import Invocation, describe_error
from event_stream.tools.lambda_model.kinesis_event import first_failed, lambda_event
from event_stream.tools.readers import dead_letters
from event_stream.tools.readers.dead_letters import FailedBatch

Invoke = Callable[[Any], Invocation]  # a Lambda event -> what the function answered
# Batches read ahead while one is invoked: a batch's records take two or three calls to
# fetch, as long as a warm invocation, so reading ahead halves a redrive's time; the bound
# keeps at most this many batches' records in memory.
READ_AHEAD = 4
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Redriven:
    """What redriving one message did."""

    batch: FailedBatch
    succeeded: bool
    result: str
    deleted: bool = False  # its message is gone from the queue


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


def redrive_queue(
    sqs: Any,
    consumer: dead_letters.Consumer,
    messages: list[dict[str, Any]],
    fetch: Callable[[dict[str, Any]], FailedBatch],
    invoke: Invoke,
    *,
    region: str,
    role_arn: str,
) -> Iterator[Redriven]:
    """Redrive each message's batch in order; a message whose batch succeeded is deleted
    (in the background, as the next batch runs), every other one is made visible again at
    the end, whatever happens. Yields each batch's outcome as it is known; the last ones
    once their deletions are confirmed."""
    deletions: dict[str, Future[Any]] = {}
    waiting: deque[tuple[Redriven, Future[Any] | None]] = deque()  # outcomes, in order
    with ThreadPoolExecutor(2) as deleter:
        try:
            for batch in read_ahead(fetch, messages, READ_AHEAD):
                succeeded, what = redrive(batch, invoke, region=region, role_arn=role_arn)
                deletion = None
                if succeeded:
                    deletion = deleter.submit(
                        sqs.delete_message,
                        QueueUrl=consumer.queue_url,
                        ReceiptHandle=batch.receipt_handle,
                    )
                    deletions[batch.message_id] = deletion
                waiting.append((Redriven(batch, succeeded, what), deletion))
                yield from _settled(waiting, wait=False)
            yield from _settled(waiting, wait=True)
        finally:  # whatever was not redriven stays in the queue, visible again at once
            done = {m for m, d in deletions.items() if d.done() and d.exception() is None}
            for message in messages:
                if message["MessageId"] not in done:
                    dead_letters.release(sqs, consumer.queue_url, message)


def _settled(
    waiting: deque[tuple[Redriven, Future[Any] | None]], *, wait: bool
) -> Iterator[Redriven]:
    """The outcomes at the head of `waiting` that are final (a succeeded batch's once its
    message is deleted; with `wait`, all of them), in order."""
    while waiting and (wait or waiting[0][1] is None or waiting[0][1].done()):
        outcome, deletion = waiting.popleft()
        error = deletion.exception() if deletion is not None else None
        if deletion is None:
            yield outcome
        elif error is None:
            yield Redriven(outcome.batch, True, outcome.result, deleted=True)
        else:
            yield Redriven(
                outcome.batch,
                False,
                f"redriven, but its message could not be deleted ({error}): it stays queued",
            )


def read_ahead(function: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
    """`map(function, items)` in order, with up to `ahead` calls running in threads ahead of
    the consumer (boto3 clients are thread-safe)."""
    with ThreadPoolExecutor(ahead) as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
