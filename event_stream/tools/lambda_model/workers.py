"""A function's execution environment on this machine: the deployed zip, run by its runtime.

moto cannot run Lambda code without Docker, so on the local AWS this is how a function
runs (and `invoke --local` runs a real AWS function's code the same way): the exact zip that
was deployed, with its handler, environment, timeout and region, in a child process whose
SDK calls go to the same endpoint: `python_bootstrap.py` under this
Python for the python3.x runtimes, `node_bootstrap.js` under the machine's `node` for the
nodejs runtimes up to the machine's Node version. Any other runtime (Java, .NET, Go, Ruby,
custom runtimes, a newer Node) is `UnsupportedRuntime`, named once by whoever asked. A
`Worker` is one execution environment: it stays warm across invocations, as Lambda reuses
one, and is replaced after a timeout or a crash, as Lambda replaces one. The log lines an
invocation writes come back with its answer (`Invocation.log_lines`).
"""

from __future__ import annotations

import functools
import io
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, cast

from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation, failure

PYTHON_BOOTSTRAP = Path(__file__).resolve().parent / "python_bootstrap.py"
NODE_BOOTSTRAP = Path(__file__).resolve().parent / "node_bootstrap.js"
INTERPRETER_START = 5  # seconds for the interpreter and the handler's imports, first run


class UnsupportedRuntime(RuntimeError):
    """A runtime the local AWS cannot run; the message names it and what is supported."""


@functools.cache
def node_major() -> int | None:
    """The machine's Node.js major version, or None without `node`."""
    node = shutil.which("node")
    if node is None:
        return None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    match = re.match(r"v(\d+)\.", version.stdout.strip())
    return int(match[1]) if match else None


def supported_runtimes() -> str:
    """What the local AWS runs, in words."""
    node = node_major()
    nodes = f"nodejs up to nodejs{node}.x (node {node} is installed)" if node else "no nodejs"
    return f"python3.x, {nodes}"


def runtime_command(function: DeployedFunction) -> list[str]:
    """The command that runs `function`'s runtime here, or `UnsupportedRuntime`."""
    runtime = function.runtime
    if runtime.startswith("python3"):
        return [sys.executable, str(PYTHON_BOOTSTRAP), function.handler, function.name]
    wanted = re.fullmatch(r"nodejs(\d+)\.x", runtime)
    node = node_major()
    if wanted and node is not None and int(wanted[1]) <= node:
        node_path = shutil.which("node") or "node"
        return [node_path, str(NODE_BOOTSTRAP), function.handler, function.name, function.arn]
    raise UnsupportedRuntime(
        f"{function.name}: the local AWS cannot run runtime {runtime or '(none)'}; "
        f"it runs {supported_runtimes()}"
    )


class Worker:
    """One warm execution environment of a deployed function."""

    def __init__(
        self,
        function: DeployedFunction,
        *,
        region: str,
        environment: Mapping[str, str] | None = None,
        code_dir: Path | None = None,
    ) -> None:
        """Start an environment of `function`, its code unpacked in a new folder under
        `code_dir` (default: the system's temporary folder). Its variables are `environment`
        (default: this process's, as `invoke --local` against AWS needs the developer's
        credentials), then the function's own, then Lambda's reserved ones."""
        command = runtime_command(function)  # UnsupportedRuntime before anything is unpacked
        self.function = function
        self.log_stream = time.strftime("%Y/%m/%d/") + "[$LATEST]local-" + uuid.uuid4().hex
        if code_dir is not None:
            code_dir.mkdir(parents=True, exist_ok=True)
        self._task_root = tempfile.mkdtemp(prefix="lambda-", dir=code_dir)
        with zipfile.ZipFile(io.BytesIO(function.code_zip)) as archive:
            archive.extractall(self._task_root)
        env = {
            **(os.environ if environment is None else environment),
            **function.environment,
            "LAMBDA_TASK_ROOT": self._task_root,
            # Lambda sets both; boto3 reads only the second.
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "_HANDLER": function.handler,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "AWS_LAMBDA_LOG_LEVEL": function.log_level,
            "AWS_LAMBDA_LOG_FORMAT": function.log_format,
            "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        }
        self._process = subprocess.Popen(
            # The function's name is in the command for `ps`: which worker is whose.
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self._task_root,
            env=env,
        )
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read, args=(self._process.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self._process.stderr, False), daemon=True).start()
        self._warm = False

    def _read(self, stream: Any, answers: bool) -> None:
        for line in stream:
            if answers:
                self._answers.put(line)
            else:
                self._stderr.append(line.rstrip("\n"))
        if answers:
            self._answers.put(None)  # the process ended

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        """Run the handler once with `event` (as request `request_id`, a new one if None); a
        hang past the timeout ends this worker."""
        request_id = request_id or str(uuid.uuid4())
        started = time.perf_counter()
        invocation = self._exchange(event, request_id)
        return replace(
            invocation,
            request_id=request_id,
            duration_ms=(time.perf_counter() - started) * 1000,
            max_memory_mb=self._max_memory_mb(),
        )

    def _exchange(self, event: Any, request_id: str) -> Invocation:
        # The function's timeout, plus the interpreter start Lambda does not bill.
        timeout = self.function.timeout + (0 if self._warm else INTERPRETER_START)
        try:
            stdin = cast(IO[str], self._process.stdin)
            stdin.write(json.dumps({"event": event, "requestId": request_id}) + "\n")
            stdin.flush()
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            timed_out = failure(
                "Sandbox.Timedout", f"Task timed out after {self.function.timeout} seconds"
            )
            return Invocation(None, timed_out.error, self._take_stderr())
        except (BrokenPipeError, OSError):
            line = None
        if line is None:  # the interpreter exited: Lambda's Runtime.ExitError
            self.stop()
            stderr = self._take_stderr()
            return Invocation(
                None,
                {"errorType": "Runtime.ExitError", "errorMessage": "\n".join(stderr)[-500:]},
                stderr,
            )
        self._warm = True
        outcome = json.loads(line)
        log_lines = [*self._take_stderr(), *outcome.pop("logs", [])]
        if "result" in outcome:
            return Invocation(outcome["result"], None, log_lines)
        return Invocation(None, outcome, log_lines)

    def _max_memory_mb(self) -> int:
        """The environment's peak resident memory, as REPORT's "Max Memory Used" (Linux's
        VmHWM; 0 where /proc cannot tell)."""
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return 0
        peak = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return round(int(peak[1]) / 1024) if peak else 0

    def _take_stderr(self) -> list[str]:
        taken, self._stderr = [line for line in self._stderr if line.strip()], []
        return taken

    def stop(self) -> None:
        """End the environment and remove its unpacked code."""
        if self.alive:
            self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout, self._process.stderr):
            assert pipe is not None  # all three are pipes
            pipe.close()
        shutil.rmtree(self._task_root, ignore_errors=True)
