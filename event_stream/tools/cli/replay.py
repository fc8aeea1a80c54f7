"""`replay --stage S FILE.jsonl [--rate N]`: publish a file of events in batches
(`actions/publish_file.py`); and `replay --from-lake --stage S --function NAME [--since]
[--until] [--type] [--dry-run] [--allow-gaps] [--resume-from SHARD=SEQ]`: feed the stage's
history (its lake, and its stream for what the lake does not hold yet) to one consumer
function, as its mapping would (`actions/replay.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from event_stream.tools.actions import replay
from event_stream.tools.cli.invoke import function_invoker
from event_stream.tools.cli.lake import lake_bucket, parse_time
from event_stream.tools.cli.output import tail_line
from event_stream.tools.cli.target import Target, deployed_stage, staged_command
from event_stream.tools.errors import UserError
from event_stream.tools.readers import history
from event_stream.tools.readers.deployed import mapping_on, output


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
        "--allow-gaps",
        action="store_true",
        help="replay even when part of the window is in neither the lake nor the stream",
    )
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
        _replay_lake(args)
        return
    if not args.file:
        raise UserError("replay needs FILE.jsonl, or --from-lake --function NAME")
    _publish_file(args)


def _publish_file(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from event_stream.lambda_src import event_envelope, publisher
    from event_stream.tools.actions.publish_file import publish
    from event_stream.tools.readers import contract_package
    from event_stream.tools.readers.event_file import read_events

    if args.rate is not None and args.rate <= 0:
        raise UserError(f"--rate must be a positive number of events per second, got {args.rate}")
    events = read_events(Path(args.file))
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
    # The contracts the stage's publishers were deployed with: nothing reaches the stream
    # from here that they would refuse.
    with (
        contract_package.deployed(target.client("lambda"), config["FunctionName"]) as contracts,
        tqdm(total=len(events), unit="event", file=sys.stderr, disable=None) as bar,
    ):
        summary = publish(
            events,
            put,
            region=target.region,
            max_record_bytes=max_record_bytes,
            rate=args.rate,
            check=contracts.check if contracts else None,
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


def _replay_lake(args: argparse.Namespace) -> None:
    """Read the window, say what would go (dry run) or send it; exit 1 if a shard stopped."""
    if not args.function:
        raise UserError("replay --from-lake needs --function NAME: the one consumer to replay to")
    if args.file:
        raise UserError("replay takes FILE.jsonl or --from-lake, not both")
    if args.rate is not None:
        raise UserError(
            "--rate paces publishing a file; a replay from the lake goes batch by batch"
        )
    target: Target = args.target
    stack = deployed_stage(args)
    stream_arn = output(stack, "streamArn")
    mapping = mapping_on(target.client("lambda"), args.function, stream_arn)
    found = history.read_history(
        target.client("s3"),
        target.client("kinesis"),
        lake_bucket(stack),
        output(stack, "streamName"),
        history.Window(
            since=parse_time(args.since, "--since"),
            until=parse_time(args.until, "--until"),
            types=frozenset(args.types) if args.types else None,
        ),
    )
    planned = replay.plan(found.lines, mapping, _resume_points(args.resume_from))
    if args.dry_run:
        print(json.dumps({"function": args.function, **replay.dry_run(planned, found)}, indent=2))
    if found.gaps and not args.allow_gaps:
        raise UserError(f"{found.gaps[0].describe()}; replay them anyway with --allow-gaps")
    if args.dry_run:
        return
    from tqdm import tqdm

    role = target.client("lambda").get_function_configuration(FunctionName=args.function)["Role"]
    invoke = function_invoker(target, args.function, here=False)
    total = sum(len(records) for records in planned.values())
    with tqdm(total=total, unit="event", file=sys.stderr, disable=None) as bar:
        outcomes = replay.replay(
            planned, mapping, invoke, region=target.region, role_arn=role, progress=bar.update
        )
    stopped = [o for o in outcomes if o.stopped_at]
    for outcome in outcomes:
        print(
            json.dumps(
                {
                    "shardId": outcome.shard_id,
                    "sent": outcome.sent,
                    "stoppedAt": outcome.stopped_at,
                    "reason": outcome.reason or None,
                }
            )
        )
    if stopped:
        resume = " ".join(f"--resume-from {o.shard_id}={o.stopped_at}" for o in stopped)
        raise UserError(
            f"{len(stopped)} shard(s) stopped where {args.function} failed; fix it, then "
            f"re-run with: {resume}"
        )


def _resume_points(given: list[str]) -> dict[str, Any]:
    points = {}
    for item in given:
        shard, _, sequence = item.partition("=")
        if not shard or not sequence.isdigit():
            raise UserError(f"--resume-from {item!r}: must be SHARD=SEQUENCE, as a stop printed")
        points[shard] = sequence
    return points
