"""`replay --stage S FILE.jsonl [--rate N]`: publish a file of events in batches; and
`replay --from-lake --stage S --function NAME [--since] [--until] [--type] [--dry-run]`:
feed the stage's lake to one consumer function (see `tools/lake_replay.py`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from event_stream.tools.cli.output import tail_line
from event_stream.tools.cli.target import Target, deployed_stage, staged_command
from event_stream.tools.deployed import output
from event_stream.tools.errors import UserError


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    replay = staged_command(
        commands,
        "replay",
        "publish a JSON Lines file of events in batches, or feed the lake to one function",
        run,
    )
    replay.add_argument("file", nargs="?", help="one event object per line")
    replay.add_argument("--rate", type=float, help="at most this many events per second")
    replay.add_argument(
        "--from-lake", action="store_true", help="replay the stage's lake into --function"
    )
    replay.add_argument("--function", help="the one consumer function the lake is replayed to")
    replay.add_argument("--since", help="arrived since: 2h, 7d, or 2026-11-29T15:00 (UTC)")
    replay.add_argument("--until", help="arrived until: the same forms")
    replay.add_argument("--type", action="append", dest="types", help="only this type")
    replay.add_argument("--dry-run", action="store_true", help="say what would be sent")
    replay.add_argument(
        "--resume-from",
        action="append",
        default=[],
        metavar="SHARD=SEQUENCE",
        help="start that shard at that record (what a stopped replay printed)",
    )


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    if args.from_lake:
        from event_stream.tools.cli.lake_replay import run_from_lake

        run_from_lake(args)
        return
    if not args.file:
        raise UserError("replay needs FILE.jsonl, or --from-lake --function NAME")
    _publish_file(args)


def _publish_file(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from event_stream.lambda_src import event_envelope, publisher
    from event_stream.tools import replay

    if args.rate is not None and args.rate <= 0:
        raise UserError(f"--rate must be a positive number of events per second, got {args.rate}")
    events = replay.read_events(Path(args.file))
    stack = deployed_stage(args)
    stream_name = output(stack, "streamName")
    target: Target = args.target
    config = target.client("lambda").get_function_configuration(
        FunctionName=output(stack, "publishBatchFunctionName")
    )
    # The stage's record limit, as its functions were told it (absent: the Kinesis default).
    variables = config.get("Environment", {}).get("Variables", {})
    max_record_bytes = int(
        variables.get("MAX_RECORD_BYTES", event_envelope.DEFAULT_MAX_RECORD_BYTES)
    )
    put = publisher.Publisher(target.client("kinesis"), stream_name)
    with tqdm(total=len(events), unit="event", file=sys.stderr, disable=None) as bar:
        summary = replay.replay(
            events,
            put,
            region=target.region,
            max_record_bytes=max_record_bytes,
            rate=args.rate,
            progress=bar.update,
        )
    rate = summary.sent / summary.elapsed if summary.elapsed else float(summary.sent)
    print(
        f"sent {summary.sent}, failed {len(summary.failed)}, "
        f"elapsed {summary.elapsed:.2f} s ({rate:.0f} events/s) to {stream_name}"
    )
    if summary.failed:
        # The envelopes as built, ids included: replaying this file re-sends the same ids,
        # so a consumer can tell a copy from a new event.
        retry = Path(args.file).with_suffix(".failed.jsonl")
        retry.write_text("".join(tail_line(e) + "\n" for e in summary.failed), encoding="utf-8")
        raise UserError(
            f"{len(summary.failed)} events could not be published; they are in {retry} "
            "with their ids: replay that file to retry them"
        )
