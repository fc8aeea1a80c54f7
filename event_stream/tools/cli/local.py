"""`local up|down|status`: the embedded local AWS and the mappings its poller runs."""

from __future__ import annotations

import argparse
from typing import Any

from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.wire import DeliveryStatus, PollerStatus
from event_stream.tools.local import launcher
from event_stream.tools.local import status as local_status


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    local = commands.add_parser("local", help="start, stop or check the embedded local AWS")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int, default=launcher.DEFAULT_PORT)
    local.set_defaults(run=run, needs_target=False)


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    if args.action == "up":
        running = launcher.start(args.port)
        print(f"local AWS running at {running.endpoint} (pid {running.pid})")
        print(f"point tools at it with: export AWS_ENDPOINT_URL={running.endpoint}")
    elif args.action == "down":
        stopped = launcher.stop()
        print(f"local AWS stopped (pid {stopped.pid})" if stopped else "no local AWS was running")
    else:
        found = launcher.status()
        if found is None:
            raise UserError(
                "no local AWS is running (start it with: python -m event_stream local up)"
            )
        print(f"local AWS running at {found.endpoint} (pid {found.pid})")
        _print_poller_status()
        _print_lake_status()


def _print_poller_status() -> None:
    """Each event source mapping the local AWS runs: shards, checkpoint, backlog, result."""
    status: PollerStatus | None = local_status.read(launcher.STATE_DIR, local_status.MAPPINGS_FILE)
    if status is None:
        return
    if status.get("problem"):
        print(f"event source poller: {status['problem']}")
    if not status["mappings"]:
        print("no Kinesis event source mappings")
    for mapping in status["mappings"]:
        print(
            f"mapping {mapping['uuid']}: {mapping['stream']} -> {mapping['function']} "
            f"({mapping['state']})"
        )
        for shard in mapping["shards"]:
            details = [f"checkpoint {shard.get('checkpoint') or '-'}"]
            if "recordsBehind" in shard:
                details.append(f"{shard['recordsBehind']} records read and waiting")
            if shard.get("lastResult"):
                details.append(f"last result: {shard['lastResult']}")
            print(f"  {shard['shardId']}: " + ", ".join(details))


def _print_lake_status() -> None:
    """Each Kinesis-sourced delivery stream the local Firehose runs: how far behind it is."""
    streams: list[DeliveryStatus] = (
        local_status.read(launcher.STATE_DIR, local_status.FIREHOSE_FILE) or []
    )
    for lake in streams:
        print(
            f"delivery stream {lake['name']}: {lake['stream']} -> s3://{lake['bucket']} "
            f"({lake['objectsWritten']} objects written, {lake['recordsBuffered']} records "
            "buffered)" + (f", last problem: {lake['problem']}" if lake["problem"] else "")
        )
        for shard in lake["shards"]:
            print(f"  {shard['shardId']}: {shard['millisBehindLatest']} ms behind the stream")
