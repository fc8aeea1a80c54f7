"""The one invoker of deployed functions here: the local AWS's event source mappings and
Firehose, `invoke --local`, `dlq --redrive` and replay all run a function through it.

A function's code is fetched once per version of its execution environment (code, handler,
runtime, timeout, memory, environment, logging, role: a change to any of them replaces its
workers, as a new Lambda version replaces its environments). Each invocation runs in an idle
warm worker of the function, or a new one when all are busy (Lambda scales out the same
way), and its log lines go to the function's log group. A function whose runtime cannot run
here is `unsupported`: the reason is written once to its log group, and each invocation
answers `Runtime.Unsupported` without starting anything.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from event_stream.tools import arns
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model import platform_log
from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation, failure
from event_stream.tools.lambda_model.workers import UnsupportedRuntime, Worker, runtime_command
from event_stream.tools.local import function_logs
from event_stream.tools.readers.deployed import fetch_function

# What an execution environment is made of: a change to any of them replaces the workers.
# (Not LastModified: moto leaves it alone when only the configuration changes.)
ENVIRONMENT_KEYS = (
    "CodeSha256",
    "Handler",
    "Runtime",
    "Timeout",
    "MemorySize",
    "Environment",
    "LoggingConfig",
    "Role",
)


@dataclass
class _Function:
    """A function's deployed code and its warm workers."""

    version: str
    deployed: DeployedFunction
    unsupported: str | None = None  # why this runtime cannot run here
    idle: list[Worker] = field(default_factory=list)
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_worker(
        self, region: str, environment: Mapping[str, str] | None, code_dir: Path | None
    ) -> Worker:
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        if worker is None or not worker.alive:
            worker = Worker(
                self.deployed, region=region, environment=environment, code_dir=code_dir
            )
        return worker

    def give_back(self, worker: Worker) -> None:
        with self.lock:
            keep = not self.retired and worker.alive
            if keep:
                self.idle.append(worker)
        if not keep:
            worker.stop()

    def retire(self) -> None:
        """Stop the idle workers now and each busy one after its invocation: killing one
        mid-batch would count as the function failing."""
        with self.lock:
            self.retired = True
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.stop()


class Invoker:
    """Runs deployed functions in warm workers, by name or ARN.

    `client(service)` makes boto3 clients where the functions live; each function's code is
    downloaded from its `Code.Location`, on AWS and on the local AWS alike. With
    `ship_logs`, log lines go to the function's log group. `environment` is what a worker
    starts from (`launcher.function_environment` on the local AWS); `code_dir` is where their
    code is unpacked (default: the system's temporary folder)."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        region: str,
        ship_logs: bool = True,
        environment: Mapping[str, str] | None = None,
        code_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.code_dir = code_dir
        self.region = region
        self.environment = environment  # the workers' base variables (None: this process's)
        self._logs = function_logs.LogShipper(lambda: self.client("logs")) if ship_logs else None
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()  # one fetch of a function's code at a time

    def refresh(self, function: str) -> tuple[DeployedFunction, str | None, bool]:
        """The function as it is now: `(deployed, why it cannot run here or None, whether
        it changed since the last look)`; a change retires its workers. A runtime that
        cannot run here, or code that cannot be had, is said once in the function's log
        group and holds back only this function."""
        name = arns.function_name(function)
        config = self.client("lambda").get_function_configuration(FunctionName=name)
        version = json.dumps({key: config.get(key) for key in ENVIRONMENT_KEYS}, sort_keys=True)
        with self._lock:
            known = self._functions.get(name)
            if known and known.version == version:
                return known.deployed, known.unsupported, False
            entry = _Function(version, DeployedFunction.from_configuration(config, b""))
            try:
                runtime_command(entry.deployed)  # before any download: no code needed
                entry.deployed = fetch_function(self.client("lambda"), name)
            except UnsupportedRuntime as unsupported:
                entry.unsupported = str(unsupported)
            except (ClientError, OSError, UserError) as error:
                entry.unsupported = f"{name}: its code cannot be downloaded here: {error}"
            if entry.unsupported:
                line = f"{entry.unsupported}; its event source mappings are paused"
                self._log(entry.deployed, [json.dumps({"level": "ERROR", "message": line})])
                self.flush_logs()  # said once, and at once
            self._functions[name] = entry
        if known:
            known.retire()
        return entry.deployed, entry.unsupported, known is not None

    def invoke(
        self, function: str, event: Any, *, refresh: bool = True, request_id: str | None = None
    ) -> Invocation:
        """Run one invocation of `function` with `event`, as request `request_id` (a new one
        if None; Lambda's retries of an asynchronous invocation keep theirs). With `refresh`,
        look up the function's configuration first (a changed function runs its new code);
        without it, run the version last looked up. Its log lines, Lambda's START, END and
        REPORT around them, go to the function's log group and come back in the answer."""
        name = arns.function_name(function)
        entry = self._functions.get(name)
        if refresh or entry is None:
            self.refresh(name)
            entry = self._functions[name]
        if entry.unsupported:
            return failure("Runtime.Unsupported", entry.unsupported)
        worker = entry.take_worker(self.region, self.environment, self.code_dir)
        try:
            invocation = worker.invoke(event, request_id)
        finally:
            entry.give_back(worker)
        logged = replace(invocation, log_lines=platform_log.around(entry.deployed, invocation))
        self._log(entry.deployed, logged.log_lines, stream=worker.log_stream)
        return logged

    def forget(self, keep: Collection[str]) -> None:
        """Retire the workers of every function not named in `keep`."""
        with self._lock:
            gone = [name for name in self._functions if name not in keep]
            retired = [self._functions.pop(name) for name in gone]
        for entry in retired:
            entry.retire()

    def stop(self) -> None:
        """Retire every worker, put every log line: nothing is left running."""
        self.forget(())
        if self._logs:
            self._logs.stop()

    def flush_logs(self) -> None:
        """Put the log lines gathered so far in their log groups now."""
        if self._logs:
            self._logs.flush()

    def _log(self, deployed: DeployedFunction, lines: list[str], stream: str | None = None) -> None:
        if self._logs:
            self._logs.ship(deployed.log_group, lines, stream=stream)
