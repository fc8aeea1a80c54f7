"""`dlq --function NAME [--redrive]`: a stream processor's failed batches, with their events
(from the stream, or from the stage's lake once the stream has forgotten them)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from event_stream.tools.actions.redrive import READ_AHEAD, read_ahead, redrive_queue
from event_stream.tools.cli.invoke import function_invoker
from event_stream.tools.cli.target import Target
from event_stream.tools.errors import UserError
from event_stream.tools.readers import dead_letters


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
    lake = dead_letters.lake_source(
        target.client("cloudformation"), target.client("s3"), consumer.mapping.stream_arn
    )

    def fetch(message: dict[str, Any]) -> dead_letters.FailedBatch:
        batch = dead_letters.failed_batch(kinesis, consumer, message, lake)
        if batch.missing:
            print(
                f"LOST: {batch.missing} of {batch.batch_size} records of message "
                f"{batch.message_id} are neither on the stream nor in the lake "
                f"({batch.shard_id}, sequence numbers {batch.start} to {batch.end})",
                file=sys.stderr,
            )
        return batch

    if not args.redrive:
        try:
            for batch in read_ahead(fetch, messages, READ_AHEAD):
                print(json.dumps(batch.summary(), ensure_ascii=False), flush=True)
        finally:  # listing leaves every message queued, visible again at once
            for message in messages:
                dead_letters.release(sqs, consumer.queue_url, message)
        return
    role = target.client("lambda").get_function_configuration(FunctionName=args.function)["Role"]
    invoke = function_invoker(target, args.function, here=False)
    failed = 0
    for outcome in redrive_queue(
        sqs, consumer, messages, fetch, invoke, region=target.region, role_arn=role
    ):
        failed += not outcome.succeeded
        result = {
            "messageId": outcome.batch.message_id,
            "redriven": outcome.succeeded,
            "result": outcome.result,
        }
        print(json.dumps(result), flush=True)
    if failed:
        raise UserError(f"{failed} of the failed batches could not be redriven; they stay queued")
