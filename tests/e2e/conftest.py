"""End-to-end tier: the project's own launcher starts moto_server on a free localhost port,
the real CDK CLI deploys to it, and the developer CLI is run as a user runs it.

Every server started here is stopped at the end of the session, even after a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from event_stream.tools.cli.cdk_cli import QUIET_ENV, cdk_executable
from event_stream.tools.local import launcher as local_aws
from tests.conftest import ROOT

CDK = cdk_executable(ROOT)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class LocalCloud:
    """A running local AWS and how to drive it."""

    server: local_aws.LocalAws
    env: dict[str, str]
    out: Path
    state_dir: Path

    def client(self, service: str):
        return local_aws.client(self.server.endpoint, service)

    def cdk(self, *args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
        """The real CDK CLI, pointed at the local AWS."""
        result = subprocess.run(
            [str(CDK), *args, "--output", str(self.out / cwd.name)],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode:
            raise AssertionError(f"cdk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def deploy(self, stage: str, *context: str, cwd: Path = ROOT) -> None:
        args = ["deploy", "--context", f"stage={stage}", "--method=direct"]
        for item in context:
            args += ["--context", item]
        self.cdk(*args, "--require-approval", "never", cwd=cwd)

    def destroy(self, stage: str, cwd: Path = ROOT) -> None:
        self.cdk("destroy", "--context", f"stage={stage}", "--force", cwd=cwd, check=False)

    def tear_down(self, stage: str) -> None:
        """A module's clean-up: every stack of the stage gone, its consumers' first (they
        import its exports), through CloudFormation's DeleteStack as `cdk destroy` calls
        it, without the CDK CLI's synth (tests of `cdk destroy` itself call `destroy`)."""
        cloudformation = self.client("cloudformation")
        stream_stack = f"cncb-event-stream-{stage}"
        names = [
            summary["StackName"]
            for page in cloudformation.get_paginator("list_stacks").paginate()
            for summary in page["StackSummaries"]
            if summary["StackStatus"] != "DELETE_COMPLETE"
            and summary["StackName"].endswith(f"-{stage}")
        ]
        for group in ([n for n in names if n != stream_stack], [stream_stack]):
            for name in group:
                if name in names:
                    cloudformation.delete_stack(StackName=name)
            for name in group:
                if name in names:
                    cloudformation.get_waiter("stack_delete_complete").wait(
                        StackName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
                    )

    def cli(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        cwd: Path = ROOT,
    ):
        """`python -m event_stream ...` as a user runs it."""
        return subprocess.run(
            [sys.executable, "-m", "event_stream", *args],
            cwd=cwd,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=300,
            input=stdin,
        )

    def log_entries(self, function_name: str) -> list[dict]:
        """The JSON log lines a function wrote (through the local AWS's poller or invoke)."""
        logs = self.client("logs")
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{function_name}"
            )
            messages = [event["message"] for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []
        entries = []
        for message in messages:
            try:
                entries.append(json.loads(message))
            except ValueError:
                continue
        return entries

    def cli_json(self, *args: str):
        result = self.cli(*args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    # Named as `local up` names it, so `local status` run from its parent folder finds it.
    state = tmp_path_factory.mktemp("local") / ".local-aws"
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        env = {**os.environ, **QUIET_ENV, **local_aws.client_env(server.endpoint)}
        cloud = LocalCloud(server, env, tmp_path_factory.mktemp("cdk-out"), state)
        cloud.cdk("bootstrap", f"aws://{local_aws.ACCOUNT}/{local_aws.REGION}")
        yield cloud
    finally:
        local_aws.stop(state_dir=state)


def wait_for(condition, *, timeout: float = 60, interval: float = 0.5):
    """Poll `condition()` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {condition.__doc__ or condition}")
        time.sleep(interval)
