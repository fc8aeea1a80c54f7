"""Where the CLI's AWS calls go, and the stage's stack found there.

`AWS_ENDPOINT_URL` when set; otherwise real AWS when credentials are configured; otherwise
the embedded local AWS if it is running.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from event_stream.tools.cli.cdk_cli import deploy_hint
from event_stream.tools.errors import UserError
from event_stream.tools.local import launcher
from event_stream.tools.readers.deployed import DeployedStack, describe_stage

STAGE_VARIABLE = "EVENT_STREAM_STAGE"  # the stage every command acts on when not told
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
        """A boto3 client of `service` here (the endpoint named explicitly, so a client made
        in a process whose environment points elsewhere, the local AWS's own, goes here)."""
        if self.endpoint:
            return launcher.client(self.endpoint, service, config=config)
        return boto3.client(service, region_name=self.region, config=config)


def resolve_target() -> Target:
    """Decide where AWS calls go, setting the environment boto3 reads accordingly."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint is None and boto3.Session().get_credentials() is None:
        running = launcher.find()
        if running is None:
            raise UserError(
                "no AWS credentials configured and no local AWS running: start one with "
                "`python -m event_stream local up`, or configure AWS credentials"
            )
        endpoint = running.endpoint
        os.environ.update(launcher.client_env(endpoint))
    if endpoint is not None:
        # Any key works on the local AWS; boto3 only needs one to sign with.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    # The local AWS has one region, whatever the profile says; stacks were deployed there.
    region = launcher.REGION if endpoint else boto3.Session().region_name
    if region is None:
        raise UserError("no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION")
    return Target(endpoint=endpoint, region=region)


def deployed_stage(args: argparse.Namespace) -> DeployedStack:
    """The stack of `--stage`, or one line saying how to deploy it from here."""
    target: Target = args.target
    return describe_stage(
        target.client("cloudformation"),
        args.stage,
        args.service,
        deploy_hint=deploy_hint(args.stage, endpoint=target.endpoint),
    )


def staged_command(commands: Any, name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
    """A subcommand that acts on one stage's deployed stack (`--stage`)."""
    from event_stream.config import DEFAULT_SERVICE, DEFAULT_STAGE

    command: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    # As the seed's `sls ... -s $MY_STAGE`: a shell that works on one stage says so once.
    stage = os.environ.get(STAGE_VARIABLE) or DEFAULT_STAGE
    command.add_argument(
        "-s", "--stage", default=stage, help=f"default ${STAGE_VARIABLE}, else {DEFAULT_STAGE}"
    )
    command.add_argument("--service", default=DEFAULT_SERVICE, help=argparse.SUPPRESS)
    command.set_defaults(run=run, needs_target=True)
    return command
