"""`lake --stage S [--since TIME] [--until TIME] [--type T]`: the stage's kept events, and
on stderr how many of the window's events are on the stream and not written yet."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from event_stream.tools.cli.output import parse_duration
from event_stream.tools.cli.target import deployed_stage, staged_command
from event_stream.tools.errors import UserError
from event_stream.tools.readers import history, lake_reader
from event_stream.tools.readers.deployed import DeployedStack, output


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    lake = staged_command(
        commands, "lake", "the events the stage's lake keeps, in order per shard", run
    )
    lake.add_argument("--since", help="arrived since: 2h, 7d, or 2026-11-29T15:00 (UTC)")
    lake.add_argument("--until", help="arrived until: the same forms")
    lake.add_argument("--type", action="append", dest="types", help="only this type (repeatable)")


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    from tqdm import tqdm

    stack = deployed_stage(args)
    bucket = lake_bucket(stack)
    with tqdm(unit="object", file=sys.stderr, disable=None, desc="reading the lake") as bar:
        found = history.read_history(
            args.target.client("s3"),
            args.target.client("kinesis"),
            bucket,
            output(stack, "streamName"),
            history.Window(
                since=parse_time(args.since, "--since"),
                until=parse_time(args.until, "--until"),
                types=frozenset(args.types) if args.types else None,
            ),
            progress=bar.update,
        )
    for line in found.lines:
        if history.key_of(line) not in found.from_stream:
            print(json.dumps(line, ensure_ascii=False), flush=True)
    unwritten = found.unwritten
    if unwritten:
        print(_unwritten_note(args.target, stack, unwritten), file=sys.stderr)
    for gap in found.gaps:
        print(f"warning: {gap.describe()}", file=sys.stderr)


def _unwritten_note(target: Any, stack: DeployedStack, unwritten: list[history.Line]) -> str:
    """How many of the window's events Firehose holds unwritten, and when it writes next:
    it writes a buffer once its oldest record is `IntervalInSeconds` old (or the buffer
    reaches `SizeInMBs`), as DescribeDeliveryStream says the delivery stream is set."""
    name = output(stack, "lakeDeliveryStreamName")
    interval = lake_reader.buffering_interval(target.client("firehose"), name)
    oldest = min(history.arrival(line) for line in unwritten)
    due = max(oldest + timedelta(seconds=interval), datetime.now(UTC))
    return (
        f"note: {_events(len(unwritten))} on the stream and not in the lake yet: delivery "
        f"stream {name} buffers them up to {interval} s; the next write is due by about "
        f"{due:%Y-%m-%dT%H:%M:%SZ} (replay --from-lake reads them from the stream)"
    )


def _events(count: int) -> str:
    return "1 event is" if count == 1 else f"{count} events are"


def lake_bucket(stack: DeployedStack) -> str:
    """The stage's lake bucket, or one line saying the stage keeps no lake."""
    if "lakeBucketName" not in stack.outputs:
        raise UserError(
            f"stack {stack.name} keeps no event lake (no lakeBucketName output): its stage sets "
            "lake=false, or it was deployed before the lake existed"
        )
    return stack.outputs["lakeBucketName"]


def parse_time(text: str | None, option: str) -> datetime | None:
    """A moment: a duration ago (`2h`, as `logs --since`) or an ISO 8601 time (UTC unless
    it says otherwise)."""
    if text is None:
        return None
    if re.fullmatch(r"\d+[smhdw]", text.strip()):
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r}: must be a duration such as 2h or 7d, or a time such as "
            "2026-11-29T15:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
