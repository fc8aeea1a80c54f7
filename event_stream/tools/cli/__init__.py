"""The developer CLI: `python -m event_stream <command>` (see `--help`).

One module per command (`register` adds its parser, `run` does it); `target` decides where
AWS calls go, `output` how results are printed. Errors a user can cause end with one line
on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from event_stream.config import ConfigError, StageConfig
from event_stream.tools.cli import (
    console,
    contracts,
    dlq,
    info,
    invoke,
    lake,
    local,
    logs,
    replay,
    tail,
)
from event_stream.tools.cli.cdk_cli import local_command
from event_stream.tools.cli.target import resolve_target
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.workers import UnsupportedRuntime
from event_stream.tools.local.launcher import LocalAwsError

COMMANDS = (local, info, invoke, tail, logs, dlq, replay, lake, contracts, console)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m event_stream",
        description="Deploy-loop companion of the event stream stack: info, invoke, tail, "
        "logs, replay, dlq, lake, contracts, console, and the embedded local AWS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
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
    except (UserError, LocalAwsError, UnsupportedRuntime) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError as error:
        endpoint = error.kwargs.get("endpoint_url")
        start = local_command("up", endpoint=os.environ.get("AWS_ENDPOINT_URL"))
        print(
            f"error: cannot reach {endpoint}: is the local AWS running? ({start})",
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
