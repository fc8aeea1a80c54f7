"""`dlq --function NAME [--redrive]`: a stream processor's failed batches, with their events
(from the stream, or from the stage's lake once the stream has forgotten them)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from event_stream.tools import arns
from event_stream.tools.actions.redrive import redrive
from event_stream.tools.cli.invoke import function_invoker
from event_stream.tools.cli.target import Target
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.readers import dead_letters, lake_reader

# Batches read ahead while one is invoked: a batch's records take two or three calls to
# fetch, as long as a warm invocation, so reading ahead halves a redrive's time; the bound
# keeps at most this many batches' records in memory.
READ_AHEAD = 4
T = TypeVar("T")
R = TypeVar("R")


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    dlq = commands.add_parser(
        "dlq", help="a stream processor's failed batches, with their events; --redrive them"
    )
    dlq.add_argument("--function", required=True, help="the stream processor's function name")
    dlq.add_argument(
        "--redrive",
        action="store_true",
        help="invoke the function again with each batch; delete the message if it succeeds",
    )
    dlq.set_defaults(run=run, needs_target=True, stage=None)


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    target: Target = args.target
    sqs = target.client("sqs")
    consumer = dead_letters.consumer_of(target.client("lambda"), sqs, args.function)
    messages = dead_letters.receive_all(sqs, consumer.queue_url)
    if not messages:
        print(f"no failed batches in the dead-letter queue of {args.function}", file=sys.stderr)
        return
    kinesis = target.client("kinesis")
    lake = _lake_source(target, consumer.mapping.stream_arn)
    if args.redrive:
        role = target.client("lambda").get_function_configuration(FunctionName=args.function)[
            "Role"
        ]
        invoke = function_invoker(target, args.function, here=False)

    deletions: dict[str, Future[Any]] = {}
    failed = 0

    def fetch(message: dict[str, Any]) -> dead_letters.FailedBatch:
        return dead_letters.failed_batch(kinesis, consumer, message, lake)

    # A redriven batch's message is deleted in the background, as the next batch runs.
    with ThreadPoolExecutor(2) as deleter:
        try:
            for batch in _read_ahead(fetch, messages, READ_AHEAD):
                if batch.missing:
                    print(
                        f"LOST: {batch.missing} of {batch.batch_size} records of message "
                        f"{batch.message_id} are neither on the stream nor in the lake "
                        f"({batch.shard_id}, sequence numbers {batch.start} to {batch.end})",
                        file=sys.stderr,
                    )
                if not args.redrive:
                    print(json.dumps(batch.summary(), ensure_ascii=False), flush=True)
                    continue
                succeeded, what = redrive(batch, invoke, region=target.region, role_arn=role)
                if succeeded:
                    deletions[batch.message_id] = deleter.submit(
                        sqs.delete_message,
                        QueueUrl=consumer.queue_url,
                        ReceiptHandle=batch.receipt_handle,
                    )
                else:
                    failed += 1
                result = {"messageId": batch.message_id, "redriven": succeeded, "result": what}
                print(json.dumps(result), flush=True)
        finally:  # whatever was not redriven stays in the queue, visible again at once
            deleted = set()
            for message_id, deletion in deletions.items():
                if deletion.exception() is None:
                    deleted.add(message_id)
                else:
                    failed += 1
                    print(
                        f"message {message_id} was redriven but could not be deleted "
                        f"({deletion.exception()}): it stays queued",
                        file=sys.stderr,
                    )
            for message in messages:
                if message["MessageId"] not in deleted:
                    dead_letters.release(sqs, consumer.queue_url, message)
    if failed:
        raise UserError(f"{failed} of the failed batches could not be redriven; they stay queued")


def _read_ahead(function: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
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


def _lake_source(target: Target, stream_arn: str) -> dead_letters.LakeSource | None:
    """Read a batch's records from the stage's lake, if the stage keeps one."""
    bucket = lake_reader.lake_of_stream(target.client("cloudformation"), stream_arn)
    if bucket is None:
        return None
    s3, stream_name = target.client("s3"), arns.stream_name(stream_arn)

    def records(
        shard: str, start: str, end: str, window: tuple[str | None, str | None]
    ) -> list[KinesisRecord]:
        first, last = (
            datetime.fromisoformat(t.replace("Z", "+00:00")) if t else None for t in window
        )
        arrivals = (first, last)
        return lake_reader.records_in_range(s3, bucket, stream_name, shard, start, end, arrivals)

    return records
