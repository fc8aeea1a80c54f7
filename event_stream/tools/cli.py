"""The developer CLI: `python -m event_stream <command>` (see `--help`).

Where commands go: `AWS_ENDPOINT_URL` when set; otherwise real AWS when credentials are
configured; otherwise the embedded local AWS if it is running. Errors a user can cause
end with one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from event_stream.config import DEFAULT_SERVICE, DEFAULT_STAGE, ConfigError, StageConfig
from event_stream.tools import local_aws
from event_stream.tools.errors import UserError

CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 3}
)
# Lambda Invoke is never retried by the client (a retry after a read timeout would run the
# function again) and waits longer than any function may run (15 minutes).
INVOKE_CONFIG = Config(
    connect_timeout=2, read_timeout=15 * 60 + 30, retries={"total_max_attempts": 1}
)


@dataclass(frozen=True)
class Target:
    """Where the CLI's AWS calls go."""

    endpoint: str | None
    region: str

    @property
    def local(self) -> bool:
        return self.endpoint is not None

    def client(self, service: str, config: Config = CLIENT_CONFIG) -> Any:
        return boto3.client(service, region_name=self.region, config=config)


def resolve_target() -> Target:
    """Decide where AWS calls go, setting the environment boto3 reads accordingly."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint is None and boto3.Session().get_credentials() is None:
        running = local_aws.status()
        if running is None:
            raise UserError(
                "no AWS credentials configured and no local AWS running: start one with "
                "`python -m event_stream local up`, or configure AWS credentials"
            )
        endpoint = running.endpoint
        os.environ.update(local_aws.client_env(endpoint))
    if endpoint is not None:
        # Any key works on the local AWS; boto3 only needs one to sign with.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    # The local AWS has one region, whatever the profile says; stacks were deployed there.
    region = local_aws.REGION if endpoint else boto3.Session().region_name
    if region is None:
        raise UserError("no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION")
    return Target(endpoint=endpoint, region=region)


def _stage(args: argparse.Namespace) -> Any:
    from event_stream.tools.deployed import describe_stage

    target: Target = args.target
    return describe_stage(
        target.client("cloudformation"),
        args.stage,
        args.service,
        deploy_hint=f"make {'local-deploy' if target.local else 'deploy'} STAGE={args.stage}",
    )


def cmd_local(args: argparse.Namespace) -> None:
    if args.action == "up":
        running = local_aws.start(args.port)
        print(f"local AWS running at {running.endpoint} (pid {running.pid})")
        print(f"point tools at it with: export AWS_ENDPOINT_URL={running.endpoint}")
    elif args.action == "down":
        stopped = local_aws.stop()
        print(f"local AWS stopped (pid {stopped.pid})" if stopped else "no local AWS was running")
    else:
        running = local_aws.status()
        if running is None:
            raise UserError(
                "no local AWS is running (start it with: python -m event_stream local up)"
            )
        print(f"local AWS running at {running.endpoint} (pid {running.pid})")
        _print_poller_status()


def _print_poller_status() -> None:
    """Each event source mapping the local AWS runs: shards, checkpoint, backlog, result."""
    from event_stream.tools.event_source_poller import read_status

    status = read_status(local_aws.STATE_DIR)
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


def cmd_info(args: argparse.Namespace) -> None:
    from event_stream.tools.deployed import exports_of

    stack = _stage(args)
    info = {
        "stack": stack.name,
        "status": stack.status,
        "outputs": stack.outputs,
        "exports": exports_of(args.target.client("cloudformation"), stack),
    }
    print(json.dumps(info, indent=2))


def cmd_invoke(args: argparse.Namespace) -> None:
    from event_stream.tools.deployed import output

    try:
        event = json.loads(args.data)
    except ValueError as error:
        raise UserError(f"--data is not valid JSON: {error}") from None
    key = "publishBatchFunctionName" if args.batch else "publishFunctionName"
    function_name = output(_stage(args), key)
    answer, error = function_runner(args.target, function_name, here=args.local)(event)
    if error:
        raise UserError(_function_error(function_name, error))
    print(json.dumps(answer, indent=2))


Runner = Callable[[Any], tuple[Any, dict[str, Any] | None]]


def function_runner(target: Target, function_name: str, *, here: bool) -> Runner:
    """A callable that invokes the function once with an event: `(answer, error)`.

    On the local AWS (which cannot run Lambda code) and with `here`, the deployed zip runs
    in a child process on this machine; otherwise Lambda `Invoke` runs it, never retried.
    """
    if target.local or here:
        return _runner_here(target, function_name)
    client = target.client("lambda", INVOKE_CONFIG)

    def invoke(event: Any) -> tuple[Any, dict[str, Any] | None]:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        return (None, payload) if answer.get("FunctionError") else (payload, None)

    return invoke


def _runner_here(target: Target, function_name: str) -> Runner:
    from event_stream.tools import local_invoke
    from event_stream.tools.deployed import fetch_function

    bootstrap = None
    if target.local:
        account = target.client("sts").get_caller_identity()["Account"]
        bootstrap = (target.client("s3"), account, target.region)
    function = fetch_function(target.client("lambda"), function_name, bootstrap=bootstrap)
    where = f"the local AWS at {target.endpoint}" if target.local else "AWS"
    print(
        f"running the deployed code of {function_name} ({function.handler}) here, against {where}",
        file=sys.stderr,
    )

    def run(event: Any) -> tuple[Any, dict[str, Any] | None]:
        invocation = local_invoke.run(function, event, region=target.region)
        if target.local:
            local_invoke.ship_logs(target.client("logs"), function, invocation.log_lines)
        return invocation.answer, invocation.error

    return run


def _function_error(function_name: str, error: dict[str, Any]) -> str:
    return f"{function_name} failed: {error.get('errorType')}: {error.get('errorMessage')}"


def cmd_tail(args: argparse.Namespace) -> None:
    from event_stream.tools import stream_reader
    from event_stream.tools.deployed import output

    stream_name = output(_stage(args), "streamName")
    start = "LATEST" if args.start == "latest" else "TRIM_HORIZON"
    kinesis = args.target.client("kinesis")
    try:
        for _shard, envelope in stream_reader.read(
            kinesis, stream_name, start=start, follow=args.follow
        ):
            if isinstance(envelope, bytes):
                print(
                    f"skipped a record that is not an event envelope: {envelope[:80]!r}",
                    file=sys.stderr,
                )
            else:
                print(tail_line(envelope), flush=True)
    except KeyboardInterrupt:
        pass


def tail_line(envelope: dict[str, Any]) -> str:
    """One envelope as `tail` prints it: a JSON Lines line that `replay` reads back."""
    return json.dumps(envelope, ensure_ascii=False)


def cmd_logs(args: argparse.Namespace) -> None:
    from event_stream.tools.deployed import output

    if args.function:
        function_name = args.function
    else:
        key = "publishBatchFunctionName" if args.batch else "publishFunctionName"
        function_name = output(_stage(args), key)
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
                print(event["message"].rstrip() if args.json else _log_line(event), flush=True)
                start = max(start, event["timestamp"])
            if not args.follow:
                return
            time.sleep(2)
    except KeyboardInterrupt:
        pass


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as `30s`, `10m`, `2h`, `7d` or `1w` (as `aws logs tail`)."""
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if not match:
        raise UserError(f"--since {text!r}: must be a duration such as 30s, 10m, 2h, 7d or 1w")
    return int(match[1]) * _DURATION_UNITS[match[2]]


_LOG_FIELDS_SHOWN = ("timestamp", "level", "message", "logger", "requestId")


def _log_line(event: dict[str, Any]) -> str:
    """One log event for a person: time, level, message, then the structured fields."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event["timestamp"] / 1000))
    try:
        entry = json.loads(event["message"])
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "message" not in entry:
        return f"{stamp} {event['message'].rstrip()}"
    extra = {k: v for k, v in entry.items() if k not in _LOG_FIELDS_SHOWN}
    details = f" {json.dumps(extra, ensure_ascii=False)}" if extra else ""
    return f"{stamp} {entry.get('level', '')} {entry['message']}{details}"


def cmd_replay(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from event_stream.runtime import event_envelope, publisher
    from event_stream.tools import replay
    from event_stream.tools.deployed import output

    if args.rate is not None and args.rate <= 0:
        raise UserError(f"--rate must be a positive number of events per second, got {args.rate}")
    events = replay.read_events(Path(args.file))
    stack = _stage(args)
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


def cmd_dlq(args: argparse.Namespace) -> None:
    from event_stream.tools import dead_letters
    from event_stream.tools.kinesis_event import lambda_event

    target: Target = args.target
    sqs = target.client("sqs")
    consumer = dead_letters.consumer_of(target.client("lambda"), sqs, args.function)
    messages = dead_letters.receive_all(sqs, consumer.queue_url)
    if not messages:
        print(f"no failed batches in the dead-letter queue of {args.function}", file=sys.stderr)
        return
    kinesis = target.client("kinesis")
    if args.redrive:
        role = target.client("lambda").get_function_configuration(FunctionName=args.function)[
            "Role"
        ]
        run = function_runner(target, args.function, here=False)

        def invoke(batch: dead_letters.FailedBatch) -> tuple[Any, dict[str, Any] | None]:
            return run(
                lambda_event(
                    batch.records,
                    shard_id=batch.shard_id,
                    stream_arn=batch.stream_arn,
                    region=target.region,
                    role_arn=role,
                )
            )

    deleted: set[str] = set()
    failed = 0
    try:
        for message in messages:
            batch = dead_letters.failed_batch(kinesis, consumer, message)
            if not args.redrive:
                print(json.dumps(batch.summary(), ensure_ascii=False), flush=True)
                continue
            succeeded, what = dead_letters.redrive(batch, invoke)
            if succeeded:
                sqs.delete_message(QueueUrl=consumer.queue_url, ReceiptHandle=batch.receipt_handle)
                deleted.add(batch.message_id)
            else:
                failed += 1
            result = {"messageId": batch.message_id, "redriven": succeeded, "result": what}
            print(json.dumps(result), flush=True)
    finally:  # whatever was not redriven stays in the queue, visible again at once
        for message in messages:
            if message["MessageId"] not in deleted:
                dead_letters.release(sqs, consumer.queue_url, message)
    if failed:
        raise UserError(f"{failed} of the failed batches could not be redriven; they stay queued")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m event_stream",
        description="Deploy-loop companion of the event stream stack: info, invoke, tail, "
        "logs, replay, and the embedded local AWS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="start, stop or check the embedded local AWS")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int, default=local_aws.DEFAULT_PORT)
    local.set_defaults(run=cmd_local, needs_target=False)

    def staged(name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--stage", default=DEFAULT_STAGE, help=f"default {DEFAULT_STAGE}")
        command.add_argument("--service", default=DEFAULT_SERVICE, help=argparse.SUPPRESS)
        command.set_defaults(run=run, needs_target=True)
        return command

    staged("info", "the stage's outputs and exports", cmd_info)
    invoke = staged(
        "invoke", "invoke the deployed publisher with one event (or a batch)", cmd_invoke
    )
    invoke.add_argument("--data", required=True, help="the event as JSON (an array with --batch)")
    invoke.add_argument("--batch", action="store_true", help="invoke publish-batch")
    invoke.add_argument("--local", action="store_true", help="run the deployed code here")
    tail = staged("tail", "print the stream's events, one JSON object a line", cmd_tail)
    tail.add_argument(
        "--from", dest="start", choices=["trim-horizon", "latest"], default="trim-horizon"
    )
    tail.add_argument("--follow", action="store_true", help="keep polling until Ctrl-C")
    logs = staged("logs", "a function's log events (default: the stage's publisher)", cmd_logs)
    logs.add_argument("--batch", action="store_true", help="publish-batch's logs")
    logs.add_argument("--function", help="any function's logs, by name (a consumer's, say)")
    logs.add_argument(
        "--since", default="10m", help="how far back to start: 30s, 10m, 2h, 7d (default 10m)"
    )
    logs.add_argument("--follow", action="store_true", help="keep polling until Ctrl-C")
    logs.add_argument("--json", action="store_true", help="print each log event as written")
    dlq = commands.add_parser(
        "dlq", help="a stream processor's failed batches, with their events; --redrive them"
    )
    dlq.add_argument("--function", required=True, help="the stream processor's function name")
    dlq.add_argument(
        "--redrive",
        action="store_true",
        help="invoke the function again with each batch; delete the message if it succeeds",
    )
    dlq.set_defaults(run=cmd_dlq, needs_target=True, stage=None)
    replay = staged("replay", "publish a JSON Lines file of events in batches", cmd_replay)
    replay.add_argument("file", help="one event object per line")
    replay.add_argument("--rate", type=float, help="at most this many events per second")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.needs_target:
            if args.stage is not None:
                try:  # the stage rules of the CDK app: a name that cannot exist stops here
                    StageConfig(stage=args.stage, service=args.service)
                except ConfigError as error:
                    raise UserError(str(error)) from None
            args.target = resolve_target()
        args.run(args)
    except KeyboardInterrupt:  # Ctrl-C during invoke or replay: stop quietly, as shells expect
        return 130
    except (UserError, local_aws.LocalAwsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError as error:
        print(
            f"error: cannot reach {error.kwargs.get('endpoint_url')}: is the local AWS "
            "running? (python -m event_stream local up)",
            file=sys.stderr,
        )
        return 1
    except NoCredentialsError:
        print(
            "error: no AWS credentials found for real AWS (configure them, or set "
            "AWS_ENDPOINT_URL for the local AWS)",
            file=sys.stderr,
        )
        return 1
    except NoRegionError:
        print(
            "error: no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION", file=sys.stderr
        )
        return 1
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
