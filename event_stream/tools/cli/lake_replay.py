"""`replay --from-lake --stage S --function NAME [...]`: the lake, into one consumer."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.exceptions import ClientError

from event_stream.tools import lake_reader, lake_replay
from event_stream.tools.cli.invoke import function_runner
from event_stream.tools.cli.lake import lake_bucket, parse_time
from event_stream.tools.cli.target import Target, deployed_stage
from event_stream.tools.deployed import output
from event_stream.tools.errors import UserError
from event_stream.tools.local.event_filter import patterns_of


def run_from_lake(args: argparse.Namespace) -> None:
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
    mapping = _mapping(target, args.function, stream_arn)
    lines = lake_reader.read_lines(
        target.client("s3"),
        lake_bucket(stack),
        output(stack, "streamName"),
        since=parse_time(args.since, "--since"),
        until=parse_time(args.until, "--until"),
        types=set(args.types) if args.types else None,
    )
    planned = lake_replay.plan(lines, mapping, _resume_points(args.resume_from))
    if args.dry_run:
        print(json.dumps({"function": args.function, **lake_replay.dry_run(planned)}, indent=2))
        return
    from tqdm import tqdm

    role = target.client("lambda").get_function_configuration(FunctionName=args.function)["Role"]
    invoke = function_runner(target, args.function, here=False)
    total = sum(len(records) for records in planned.values())
    with tqdm(total=total, unit="event", file=sys.stderr, disable=None) as bar:
        outcomes = lake_replay.replay(
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


def _mapping(target: Target, function_name: str, stream_arn: str) -> lake_replay.Mapping:
    try:
        mappings = target.client("lambda").list_event_source_mappings(
            FunctionName=function_name, EventSourceArn=stream_arn
        )["EventSourceMappings"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise UserError(f"there is no function {function_name}") from None
        raise
    mappings = [m for m in mappings if m["EventSourceArn"] == stream_arn]
    if not mappings:
        raise UserError(f"{function_name} has no event source mapping on {stream_arn}")
    (found,) = mappings[:1]
    return lake_replay.Mapping(
        stream_arn=stream_arn,
        batch_size=int(found.get("BatchSize") or 100),
        report_item_failures="ReportBatchItemFailures"
        in (found.get("FunctionResponseTypes") or []),
        filter_patterns=patterns_of(found.get("FilterCriteria")),
    )


def _resume_points(given: list[str]) -> dict[str, Any]:
    points = {}
    for item in given:
        shard, _, sequence = item.partition("=")
        if not shard or not sequence.isdigit():
            raise UserError(f"--resume-from {item!r}: must be SHARD=SEQUENCE, as a stop printed")
        points[shard] = sequence
    return points
