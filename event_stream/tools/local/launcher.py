"""The embedded local AWS: start, stop and find a moto_server on localhost.

State lives in `.local-aws/` of the folder the command runs in (pid, port, log), as
`cdk.out/` does, so `local up` in one shell and `invoke` in another find the same server.
This module is the one home of the local endpoint, account and region.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PORT = 4566
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
STATE_DIR = Path(".local-aws")  # relative: the current folder's
START_TIMEOUT = 15.0
SERVER_MODULE = "event_stream.tools.local.server"  # moto_server with the project's fixes


class LocalAwsError(RuntimeError):
    """The local AWS cannot be started, reached or stopped; the message is for the user."""


@dataclass(frozen=True)
class LocalAws:
    """A running local AWS."""

    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        # "localhost", not 127.0.0.1: the CDK CLI hands CloudFormation an S3 URL, and moto
        # reads a dotted-IP host as a bucket name.
        return endpoint_url(self.port)


def endpoint_url(port: int) -> str:
    """The endpoint URL of a local AWS on `port`."""
    return f"http://localhost:{port}"


def client_env(endpoint: str) -> dict[str, str]:
    """Environment that points the CDK CLI and boto3 at a local AWS endpoint."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "CDK_DEFAULT_ACCOUNT": ACCOUNT,
        "CDK_DEFAULT_REGION": REGION,
    }


def function_environment(endpoint: str) -> dict[str, str]:
    """What a function run by the local AWS starts from, whatever the shell that started it
    holds: no `AWS_PROFILE`, no real keys, no `~/.aws` (the config and credentials files
    point nowhere), and keys that work only here, passed as Lambda passes its role's
    ("Defined runtime environment variables"); the endpoint is the local AWS, so the
    function's SDK calls can reach nothing else. `PATH` stays: the runtimes need it."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def client(endpoint: str, service: str, **kwargs: Any) -> Any:
    """A boto3 client of `service` on the local AWS at `endpoint` (any key signs there)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **kwargs,
    )


def free_port() -> int:
    """A localhost port nobody listens on now (for tests and parallel runs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(state_dir: Path = STATE_DIR) -> LocalAws | None:
    """The local AWS recorded in `state_dir`, if it is still running."""
    try:
        state = json.loads((state_dir / "state.json").read_text())
        running = LocalAws(pid=int(state["pid"]), port=int(state["port"]))
    except (OSError, ValueError, KeyError):
        return None
    return running if _alive(running.pid) and _answers(running.port) else None


def start(port: int = DEFAULT_PORT, state_dir: Path = STATE_DIR) -> LocalAws:
    """Start moto_server (with the project's fixes) in the background, or return the running one."""
    running = status(state_dir)
    if running:
        if running.port != port:
            raise LocalAwsError(
                f"a local AWS is already running on port {running.port}; stop it first "
                "(python -m event_stream local down)"
            )
        return running
    if not _port_free(port):
        raise LocalAwsError(f"port {port} is in use on localhost; choose another with --port")
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / "moto.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            SERVER_MODULE,
            *("-H", "127.0.0.1", "-p", str(port), "--state-dir", str(state_dir)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the shell that ran `local up` does not stop it
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise LocalAwsError(
                f"the local AWS did not start on port {port}; see {state_dir / 'moto.log'}"
            )
        time.sleep(0.1)
    running = LocalAws(pid=process.pid, port=port)
    (state_dir / "state.json").write_text(json.dumps({"pid": running.pid, "port": port}))
    return running


def stop(state_dir: Path = STATE_DIR) -> LocalAws | None:
    """Stop the recorded local AWS; returns what was stopped (None if nothing ran)."""
    running = status(state_dir)
    (state_dir / "state.json").unlink(missing_ok=True)
    if running is None:
        return None
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(running.pid):
        os.kill(running.pid, signal.SIGKILL)
    # The server leads its own process group: whatever it started (the poller's function
    # workers) goes with it, even if it could not stop them itself.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.pid, signal.SIGKILL)
    return running


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
        if finished:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the server will: a port left in TIME_WAIT by a stopped server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
