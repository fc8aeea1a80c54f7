"""`logs --stage S [--batch | --function NAME] [--since] [--follow] [--json]`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from event_stream.tools.cli.output import log_line, parse_duration
from event_stream.tools.cli.target import deployed_stage, staged_command
from event_stream.tools.errors import UserError
from event_stream.tools.readers.deployed import output


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    logs = staged_command(
        commands, "logs", "a function's log events (default: the stage's publisher)", run
    )
    logs.add_argument("--batch", action="store_true", help="publish-batch's logs")
    logs.add_argument("--function", help="any function's logs, by name (a consumer's, say)")
    logs.add_argument(
        "--since", default="10m", help="how far back to start: 30s, 10m, 2h, 7d (default 10m)"
    )
    logs.add_argument("--follow", action="store_true", help="keep polling until Ctrl-C")
    logs.add_argument("--json", action="store_true", help="print each log event as written")


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    if args.function:
        function_name = args.function
    else:
        key = "publishBatchFunctionName" if args.batch else "publishFunctionName"
        function_name = output(deployed_stage(args), key)
    group = f"/aws/lambda/{function_name}"
    logs = args.target.client("logs")
    seen: set[str] = set()
    start = int((time.time() - parse_duration(args.since)) * 1000)
    try:
        while True:
            try:
                pages = logs.get_paginator("filter_log_events").paginate(
                    logGroupName=group, startTime=start
                )
                events = [e for page in pages for e in page["events"] if e["eventId"] not in seen]
            except logs.exceptions.ResourceNotFoundException:
                raise UserError(f"no log group {group} yet: invoke the function first") from None
            for event in sorted(events, key=lambda e: (e["timestamp"], e["eventId"])):
                seen.add(event["eventId"])
                print(event["message"].rstrip() if args.json else log_line(event), flush=True)
                start = max(start, event["timestamp"])
            if not args.follow:
                return
            time.sleep(2)
    except KeyboardInterrupt:
        pass
