"""The embedded local AWS: start, stop and find a moto_server on localhost.

State lives in `.local-aws/` of the folder `local up` runs in (pid, port, log, status
files, the functions' unpacked code), as `cdk.out/` does; the per-user record
(`registry.py`) lets a command in any other folder find it. Several may run at once, each on
its own port. This module is the one home of the local endpoint, account and region.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from event_stream.tools.local import registry

DEFAULT_PORT = 4566
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
STATE_DIR = Path(".local-aws")  # relative: the current folder's
CODE_DIR = "code"  # in the state folder: the functions' unpacked code, removed by `stop`
START_TIMEOUT = 15.0
SERVER_MODULE = "event_stream.tools.local.server"  # moto_server with the project's fixes


class LocalAwsError(RuntimeError):
    """The local AWS cannot be started, reached or stopped; the message is for the user."""


@dataclass(frozen=True)
class LocalAws:
    """A running local AWS."""

    pid: int
    port: int
    state_dir: Path

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


def client(endpoint: str, service: str, *, session: Any = None, **kwargs: Any) -> Any:
    """A boto3 client of `service` on the local AWS at `endpoint` (any key signs there),
    made by `session` (a `boto3.Session`; default boto3's)."""
    import boto3

    return (session or boto3).client(
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
        running = LocalAws(int(state["pid"]), int(state["port"]), state_dir.resolve())
    except (OSError, ValueError, KeyError):
        return None
    return running if _alive(running.pid) and _answers(running.port) else None


def running_all() -> list[LocalAws]:
    """Every local AWS of this user that is running, by port."""
    return [
        LocalAws(entry.pid, entry.port, entry.state_dir)
        for entry in registry.entries(lambda e: _alive(e.pid) and _answers(e.port))
    ]


def find(state_dir: Path = STATE_DIR, *, port: int | None = None) -> LocalAws | None:
    """The local AWS a command means: the one on `port` when given, else the one
    `AWS_ENDPOINT_URL` names (None if it names something else), else the current folder's,
    else the only one running. Several running and none chosen is `LocalAwsError`."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if port is None and endpoint:
        port = local_port(endpoint)
        if port is None:
            return None
    here = status(state_dir)
    if port is not None:
        if here and here.port == port:
            return here
        return next((r for r in running_all() if r.port == port), None)
    if here:
        return here
    running = running_all()
    if len(running) > 1:
        listed = ", ".join(f"{r.port} (started in {r.state_dir.parent})" for r in running)
        raise LocalAwsError(
            f"several local AWSes are running, on ports {listed}: choose one with "
            "AWS_ENDPOINT_URL=http://localhost:PORT"
        )
    return running[0] if running else None


def local_port(endpoint: str) -> int | None:
    """The port of a local AWS endpoint URL (`http://localhost:4566`), None for any other."""
    parts = urlsplit(endpoint)
    if parts.hostname not in ("localhost", "127.0.0.1") or parts.port is None:
        return None
    return parts.port


def start(port: int = DEFAULT_PORT, state_dir: Path = STATE_DIR) -> LocalAws:
    """Start moto_server (with the project's fixes) in the background, or return the running one."""
    running = status(state_dir)
    if running:
        if running.port != port:
            raise LocalAwsError(
                f"this folder's local AWS is already running on port {running.port}; stop it "
                "first (python -m event_stream local down)"
            )
        return running
    state_dir = state_dir.resolve()
    holder = next((r for r in running_all() if r.port == port), None)
    if holder:
        raise LocalAwsError(
            f"a local AWS already runs on port {port} (pid {holder.pid}, started in "
            f"{holder.state_dir.parent}): use it (export AWS_ENDPOINT_URL={holder.endpoint}), "
            "or start another with --port"
        )
    if not _port_free(port):
        raise LocalAwsError(
            f"port {port} is in use on localhost (LocalStack listens there too); choose "
            "another with --port"
        )
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
    running = LocalAws(process.pid, port, state_dir)
    (state_dir / "state.json").write_text(json.dumps({"pid": running.pid, "port": port}))
    registry.add(registry.Entry(running.pid, port, state_dir))
    return running


def stop(state_dir: Path = STATE_DIR) -> LocalAws | None:
    """Stop the recorded local AWS; returns what was stopped (None if nothing ran)."""
    running = status(state_dir)
    (state_dir / "state.json").unlink(missing_ok=True)
    if running is None:
        return None
    registry.remove(running.port)
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
    shutil.rmtree(state_dir / CODE_DIR, ignore_errors=True)  # whatever a killed worker left
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
