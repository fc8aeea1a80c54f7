"""Run a deployed publisher's code here, against the stage's stream (`invoke --local`).

moto cannot run Lambda code without Docker, so on the local AWS this is how a function is
invoked: the exact zip that was deployed, its handler and environment, in a child process
whose boto3 calls go to the same endpoint. The log lines it writes are put in the
function's log group on the local AWS, so `logs` shows them as it would on AWS.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from event_stream.tools.deployed import DeployedFunction

RUNNER = Path(__file__).resolve().parent / "lambda_runner.py"
INTERPRETER_START = 5  # seconds allowed for Python and boto3 to start before the handler runs


@dataclass(frozen=True)
class Invocation:
    """What an invocation answered, and the log lines it wrote."""

    answer: Any
    error: dict[str, str] | None
    log_lines: list[str]


def run(function: DeployedFunction, event: Any, *, region: str) -> Invocation:
    """Invoke `function`'s deployed code once with `event`."""
    with tempfile.TemporaryDirectory(prefix="lambda-") as task_root:
        with zipfile.ZipFile(io.BytesIO(function.code_zip)) as archive:
            archive.extractall(task_root)
        env = {
            **os.environ,
            **function.environment,
            "LAMBDA_TASK_ROOT": task_root,
            # Lambda sets both; boto3 reads only the second.
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "AWS_LAMBDA_LOG_LEVEL": function.log_level,
        }
        try:
            process = subprocess.run(
                [sys.executable, str(RUNNER), function.handler],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=task_root,
                env=env,
                # The function's own timeout, plus the interpreter start Lambda does not bill.
                timeout=function.timeout + INTERPRETER_START,
            )
        except subprocess.TimeoutExpired as expired:
            return Invocation(
                None,
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {function.timeout} seconds",
                },
                _lines(expired.stderr),
            )
    log_lines = _lines(process.stderr)
    try:
        outcome = json.loads(process.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        outcome = {"errorType": "Runtime.ExitError", "errorMessage": process.stderr.strip()[-500:]}
    if "result" in outcome:
        return Invocation(outcome["result"], None, log_lines)
    return Invocation(None, outcome, log_lines)


def _lines(output: str | bytes | None) -> list[str]:
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    return [line for line in (output or "").splitlines() if line.strip()]


def ship_logs(logs: Any, function: DeployedFunction, log_lines: list[str]) -> None:
    """Put an invocation's log lines in the function's log group, as Lambda would."""
    if not log_lines:
        return
    stream = time.strftime("%Y/%m/%d/") + "[$LATEST]local-" + os.urandom(8).hex()
    try:
        logs.create_log_stream(logGroupName=function.log_group, logStreamName=stream)
    except logs.exceptions.ResourceNotFoundException:
        logs.create_log_group(logGroupName=function.log_group)
        logs.create_log_stream(logGroupName=function.log_group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=function.log_group,
        logStreamName=stream,
        logEvents=[{"timestamp": now, "message": line} for line in log_lines],
    )
