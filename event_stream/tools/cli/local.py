"""`local up|down|status|env`: the embedded local AWS and the mappings its poller runs.

`up` starts one for the current folder; the others act on the one the caller means
(`launcher.find`: `--port`'s, else `AWS_ENDPOINT_URL`'s, else this folder's, else the only
one running), so they work from any folder."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from event_stream.tools.cli.cdk_cli import local_command
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.wire import DeliveryStatus, PollerStatus, ShardStatus
from event_stream.tools.local import launcher
from event_stream.tools.local import status as local_status

CONSOLE_START_TIMEOUT = 15.0


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    local = commands.add_parser("local", help="start, stop or check the embedded local AWS")
    local.add_argument("action", choices=["up", "down", "status", "env"])
    local.add_argument(
        "--port",
        type=int,
        help=f"up: the port to listen on (default {launcher.DEFAULT_PORT}); "
        "the others: the local AWS on that port",
    )
    local.set_defaults(run=run, needs_target=False)


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    if args.action == "up":
        running = launcher.start(args.port or launcher.DEFAULT_PORT)
        print(f"local AWS running at {running.endpoint} (pid {running.pid})")
        _print_console(running.state_dir, wait=CONSOLE_START_TIMEOUT)
        print(
            "point your shell at it with: "
            f'eval "$({local_command("env", endpoint=running.endpoint)})"'
        )
        return
    found = launcher.find(port=args.port)  # with --port: the one on it, wherever started
    if args.action == "down":
        stopped = launcher.stop(found.state_dir) if found else None
        print(f"local AWS stopped (pid {stopped.pid})" if stopped else "no local AWS was running")
        return
    if found is None:
        endpoint = (
            launcher.endpoint_url(args.port) if args.port else os.environ.get("AWS_ENDPOINT_URL")
        )
        raise UserError(
            "no local AWS is running"
            + (f" at {endpoint}" if endpoint else "")
            + f" (start it with: {local_command('up', endpoint=endpoint)})"
        )
    if args.action == "env":
        for name, value in launcher.client_env(found.endpoint).items():
            print(f"export {name}={value}")
        return
    print(f"local AWS running at {found.endpoint} (pid {found.pid}, state in {found.state_dir})")
    _print_console(found.state_dir)
    _print_poller_status(found.state_dir)
    _print_lake_status(found.state_dir)


def _print_console(state_dir: Path, wait: float = 0) -> None:
    """Where the local AWS's event console listens (waiting up to `wait` seconds for it to
    say, as it starts in a process of its own)."""
    deadline = time.monotonic() + wait
    while (console := local_status.read(state_dir, local_status.CONSOLE_FILE)) is None:
        if time.monotonic() >= deadline:
            print(f"event console: not started (see {state_dir / 'console.log'})")
            return
        time.sleep(0.1)
    print(f"event console at {console['url']}")


def _print_poller_status(state_dir: Path) -> None:
    """Each event source mapping the local AWS runs: shards, checkpoint, backlog, result."""
    status: PollerStatus | None = local_status.read(state_dir, local_status.MAPPINGS_FILE)
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
        shards = mapping["shards"]
        if any("recordsBehind" in shard for shard in shards):
            print("  " + _mapping_summary(shards))
        for shard in shards:
            details = [f"checkpoint {shard.get('checkpoint') or '-'}"]
            if shard.get("lastResult"):
                details.append(f"last result: {shard['lastResult']}")
            if shard.get("lastError"):
                details.append(f"last error: {shard['lastError']}")
            print(f"  {shard['shardId']}: " + ", ".join(details))


def _mapping_summary(shards: list[ShardStatus]) -> str:
    """Records behind, batches in flight and dead-lettered, over the mapping's shards."""
    dead = sum(shard.get("deadLettered", 0) for shard in shards)
    last = max((shard.get("lastDeadLetter", "") for shard in shards), default="")
    return (
        f"records read and waiting: {sum(shard.get('recordsBehind', 0) for shard in shards)}, "
        f"batches in flight: {sum(shard.get('batchesInFlight', 0) for shard in shards)}, "
        f"batches dead-lettered since the local AWS started: {dead}"
        + (f" (last at {last})" if dead and last else "")
    )


def _print_lake_status(state_dir: Path) -> None:
    """Each Kinesis-sourced delivery stream the local Firehose runs: how far behind it is."""
    streams: list[DeliveryStatus] = local_status.read(state_dir, local_status.FIREHOSE_FILE) or []
    for lake in streams:
        print(
            f"delivery stream {lake['name']}: {lake['stream']} -> s3://{lake['bucket']} "
            f"({lake['objectsWritten']} objects written, {lake['recordsBuffered']} records "
            "buffered)" + (f", last problem: {lake['problem']}" if lake["problem"] else "")
        )
        for shard in lake["shards"]:
            print(f"  {shard['shardId']}: {shard['millisBehindLatest']} ms behind the stream")
