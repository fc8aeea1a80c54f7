"""The local AWS's event source poller: Lambda's Kinesis pollers, without Docker.

Runs inside the local AWS's server process (started by `local up`, gone with `local down`).
Once a second it lists the event source mappings of the local Lambda API, so a deploy,
update or destroy of a consumer stack is seen within a second: each enabled Kinesis mapping
gets a `MappingRunner`; a disabled one is stopped and keeps its checkpoints, so enabling it
again resumes where it stopped; a deleted one is forgotten. Each runner invokes the
function's deployed code in warm workers (`runner.Worker`, one execution environment each:
as many as the function has batches in flight, shards and ParallelizationFactor allowing,
kept idle between batches as Lambda keeps environments), all replaced when the code or the
configuration changes, and ships its log lines to the function's log group. What
every mapping is doing is written to `poller.json` beside the server's state, for
`local status`. A function whose runtime cannot run here (`runner.UnsupportedRuntime`) has
its mappings paused, not retried: the reason is written once to its log group and shown by
`local status`, and nothing else slows down.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from event_stream.tools.deployed import DeployedFunction, fetch_function
from event_stream.tools.local import launcher as local_aws
from event_stream.tools.local.mapping_runner import MappingRunner, MappingSettings
from event_stream.tools.local.runner import (
    Invocation,
    UnsupportedRuntime,
    Worker,
    runtime_command,
    ship_logs,
)

DISCOVERY_INTERVAL = 1.0
STATUS_FILE = "poller.json"
# What an execution environment is made of: a change to any of them replaces the worker.
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
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=60, retries={"total_max_attempts": 2})


@dataclass
class _Function:
    """A function's deployed code and its warm workers, shared by its mappings."""

    version: str  # what its execution environment is made of: a new one replaces the workers
    deployed: DeployedFunction
    role_arn: str
    idle: list[Worker] = field(default_factory=list)
    retired: bool = False
    unsupported: str | None = None  # why this runtime cannot run here
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: dict[str, Any], region: str) -> tuple[Invocation, Worker]:
        """Run one invocation in an idle worker, or a new one when all are busy."""
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        if worker is None or not worker.alive:
            worker = Worker(self.deployed, region=region)
        try:
            return worker.invoke(event), worker
        finally:
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


class Poller:
    """Finds the local AWS's Kinesis event source mappings and runs them."""

    def __init__(self, endpoint: str, *, account: str, region: str, state_dir: Path) -> None:
        self.endpoint = endpoint
        self.account = account
        self.region = region
        self.state_dir = state_dir
        self.runners: dict[str, MappingRunner] = {}
        self.checkpoints: dict[str, dict[str, str]] = {}  # mapping UUID -> shard -> sequence
        self.functions: dict[str, _Function] = {}
        self.disabled: dict[str, MappingSettings] = {}
        self.paused: dict[str, tuple[MappingSettings, str]] = {}  # runtime not runnable here
        self._functions_lock = threading.Lock()  # the lake poller fetches functions too
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-source-poller", daemon=True)

    def client(self, service: str) -> Any:
        return local_aws.client(self.endpoint, service, config=CLIENT_CONFIG)

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop every runner and worker: nothing is left running."""
        self._stop.set()
        for runner in self.runners.values():
            runner.stop()
        for function in self.functions.values():
            function.retire()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        lambda_ = self.client("lambda")
        while not self._stop.is_set():
            try:
                self.discover(lambda_)
            except Exception as error:  # the server may still be starting, or busy
                self._write_status(problem=f"{type(error).__name__}: {error}")
            else:
                self._write_status()
            self._stop.wait(DISCOVERY_INTERVAL)

    def discover(self, lambda_: Any) -> None:
        """Start, restart and stop runners to match the mappings the local AWS has now."""
        mappings = [
            mapping
            for page in lambda_.get_paginator("list_event_source_mappings").paginate()
            for mapping in page["EventSourceMappings"]
            if ":kinesis:" in mapping.get("EventSourceArn", "")
        ]
        seen = set()
        self.disabled, self.paused = {}, {}
        for mapping in mappings:
            settings = MappingSettings.from_api(mapping)
            seen.add(settings.uuid)
            if mapping.get("State") != "Enabled":
                self.disabled[settings.uuid] = settings
                self._stop_runner(settings.uuid)
                continue
            with self._functions_lock:
                function = self._refresh_function(lambda_, settings.function_name)
            if function.unsupported:
                self.paused[settings.uuid] = (settings, function.unsupported)
                self._stop_runner(settings.uuid)
                continue
            runner = self.runners.get(settings.uuid)
            if runner and runner.settings != settings:
                self._stop_runner(settings.uuid)
                runner = None
            if runner is None:
                self.runners[settings.uuid] = self._runner(settings)
        for uuid in set(self.runners) - seen:
            self._stop_runner(uuid)
        for uuid in set(self.checkpoints) - seen:
            del self.checkpoints[uuid]  # a deleted mapping's checkpoints go with it
        in_use = {r.settings.function_name for r in self.runners.values()}
        in_use |= {settings.function_name for settings, _ in self.paused.values()}
        for name in set(self.functions) - in_use:
            self.functions.pop(name).retire()

    def invoke_function(self, function: str, event: dict[str, Any]) -> Invocation:
        """Invoke a function by name or ARN in one of its warm workers (the local Firehose's
        transformer calls come through here), its log lines shipped to its log group."""
        name = function.rsplit(":function:", 1)[-1].split(":")[0]
        with self._functions_lock:
            known = self._refresh_function(self.client("lambda"), name)
        if known.unsupported:
            return Invocation(
                None, {"errorType": "Runtime.Unsupported", "errorMessage": known.unsupported}, []
            )
        invocation, worker = known.invoke(event, self.region)
        ship_logs(
            self.client("logs"), known.deployed, invocation.log_lines, stream=worker.log_stream
        )
        return invocation

    def _stop_runner(self, uuid: str) -> None:
        runner = self.runners.pop(uuid, None)
        if runner:
            runner.stop()

    def _refresh_function(self, lambda_: Any, name: str) -> _Function:
        """Fetch the function's code when it is new or changed. A change stops the runners
        that invoke it first (they restart with the new code), then retires its workers."""
        config = lambda_.get_function_configuration(FunctionName=name)
        version = json.dumps({key: config.get(key) for key in ENVIRONMENT_KEYS}, sort_keys=True)
        known = self.functions.get(name)
        if known and known.version == version:
            return known
        deployed = fetch_function(
            lambda_, name, bootstrap=(self.client("s3"), self.account, self.region)
        )
        if known:
            for uuid, runner in list(self.runners.items()):
                if runner.settings.function_name == name:
                    self._stop_runner(uuid)
            known.retire()
        function = _Function(version, deployed, config["Role"])
        try:
            runtime_command(deployed)
        except UnsupportedRuntime as unsupported:
            function.unsupported = f"{unsupported}; its event source mappings are paused"
            line = json.dumps({"level": "ERROR", "message": function.unsupported})
            ship_logs(self.client("logs"), deployed, [line])
        self.functions[name] = function
        return function

    def _runner(self, settings: MappingSettings) -> MappingRunner:
        function = self.functions[settings.function_name]
        logs = self.client("logs")

        def invoke(event: dict[str, Any]) -> Invocation:
            invocation, worker = function.invoke(event, self.region)
            ship_logs(logs, function.deployed, invocation.log_lines, stream=worker.log_stream)
            return invocation

        return MappingRunner(
            settings,
            kinesis=self.client("kinesis"),
            destinations=self._send_to_destination,
            invoke=invoke,
            checkpoints=self.checkpoints.setdefault(settings.uuid, {}),
            region=self.region,
            role_arn=function.role_arn,
        ).start()

    def _send_to_destination(self, arn: str, record: dict[str, Any]) -> None:
        body = json.dumps(record)
        if ":sqs:" in arn:
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif ":sns:" in arn:
            self.client("sns").publish(TopicArn=arn, Message=body)
        else:
            raise ValueError(f"unsupported on-failure destination {arn}")

    def _write_status(self, problem: str = "") -> None:
        status = {
            "time": time.time(),
            "problem": problem,
            "mappings": [
                {
                    "uuid": uuid,
                    "function": runner.settings.function_name,
                    "stream": runner.settings.stream_name,
                    "state": "Enabled",
                    "shards": runner.status(),
                }
                for uuid, runner in self.runners.items()
            ]
            + [
                {
                    "uuid": uuid,
                    "function": settings.function_name,
                    "stream": settings.stream_name,
                    "state": "Disabled",
                    "shards": [
                        {"shardId": shard, "checkpoint": sequence}
                        for shard, sequence in self.checkpoints.get(uuid, {}).items()
                    ],
                }
                for uuid, settings in self.disabled.items()
            ]
            + [
                {
                    "uuid": uuid,
                    "function": settings.function_name,
                    "stream": settings.stream_name,
                    "state": f"Paused: {reason}",
                    "shards": [],
                }
                for uuid, (settings, reason) in self.paused.items()
            ],
        }
        path = self.state_dir / STATUS_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status, default=str))
        temporary.replace(path)


def read_status(state_dir: Path) -> dict[str, Any] | None:
    """What the poller last wrote, if it has."""
    try:
        return json.loads((state_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
