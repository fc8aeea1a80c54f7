"""The local AWS's event source poller: Lambda's Kinesis pollers, without Docker.

Runs inside the local AWS's server process (started by `local up`, gone with `local down`).
Once a second it lists the event source mappings of the local Lambda API, so a deploy,
update or destroy of a consumer stack is seen within a second: each enabled Kinesis mapping
gets a `MappingWorker`; a disabled one is stopped and keeps its checkpoints, so enabling it
again resumes where it stopped; a deleted one is forgotten. Functions run through the
invoker, whose warm workers are replaced when a function changes (its mappings restart
with the new code). A function whose runtime cannot run here has its mappings paused, not
retried: the reason is in its log group and in `local status`, and nothing else slows
down. What every mapping is doing goes to the status file, for `local status`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.wire import MappingStatus, PollerStatus
from event_stream.tools.local import status
from event_stream.tools.local.destinations import Destinations
from event_stream.tools.local.invoker import Invoker
from event_stream.tools.local.mapping_worker import MappingWorker

DISCOVERY_INTERVAL = 1.0
POSITION_TIMEOUT = 10.0  # a new worker's first look at its shards, before it counts as Enabled
NO_PARALLEL_WINDOWS = (
    "tumbling windows with a ParallelizationFactor above 1 are not emulated by the local "
    "AWS; the mapping is paused rather than run with a state per lane"
)


class MappingStateSource(Protocol):
    """What a mapping's state settles to (Enabled or Disabled), and settling it; `polled`
    says a poller settles them."""

    polled: bool

    def resolved(self, uuid: str) -> str | None: ...

    def settle(self, uuid: str) -> None: ...


class MappingPoller:
    """Finds the local AWS's Kinesis event source mappings and runs them."""

    def __init__(
        self,
        client: Callable[[str], Any],
        invoker: Invoker,
        *,
        region: str,
        state_dir: Path,
        keep_warm: Callable[[], set[str]] = set,
        states: MappingStateSource | None = None,
    ) -> None:
        self.client = client
        # Where a mapping's transitional state (Creating, Enabling, ...) is settled once the
        # poller has acted (moto fix 10, in this process); None: the API's state as it is.
        self.states = states
        self.keep_warm = keep_warm  # functions others invoke (the local Firehose's)
        self.invoker = invoker
        self.region = region
        self.state_dir = state_dir
        self.destinations = Destinations(client)
        self.workers: dict[str, MappingWorker] = {}
        self.checkpoints: dict[str, dict[str, str]] = {}  # mapping UUID -> shard -> sequence
        self.disabled: dict[str, EventSourceMapping] = {}
        self.paused: dict[str, tuple[EventSourceMapping, str]] = {}  # runtime not runnable
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mapping-poller", daemon=True)

    def start(self) -> MappingPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop every mapping worker; the invoker's workers are its owner's to stop."""
        self._stop.set()
        for worker in self.workers.values():
            worker.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        if self.states:
            self.states.polled = True  # CloudFormation may now wait for mappings to settle
        while not self._stop.is_set():
            try:
                self.discover()
            except Exception as error:  # the server may still be starting, or busy
                self.write_status(problem=f"{type(error).__name__}: {error}")
            else:
                self.write_status()
            self._stop.wait(DISCOVERY_INTERVAL)

    def discover(self) -> None:
        """Start, restart and stop workers to match the mappings the local AWS has now."""
        pages = self.client("lambda").get_paginator("list_event_source_mappings").paginate()
        mappings = [
            EventSourceMapping.from_api(mapping)
            for page in pages
            for mapping in page["EventSourceMappings"]
        ]
        seen = set()
        self.disabled, self.paused = {}, {}
        for mapping in (m for m in mappings if m.is_kinesis):
            seen.add(mapping.uuid)
            state = (self.states.resolved(mapping.uuid) if self.states else None) or mapping.state
            if state != "Enabled":
                self.disabled[mapping.uuid] = mapping
                self._stop_worker(mapping.uuid)
                self._settle(mapping.uuid)
                continue
            if mapping.tumbling_window and mapping.parallelization_factor > 1:
                # A window's state is the shard's: lanes of one shard cannot share it here.
                self.paused[mapping.uuid] = (mapping, NO_PARALLEL_WINDOWS)
                self._stop_worker(mapping.uuid)
                self._settle(mapping.uuid)
                continue
            try:
                deployed, unsupported, changed = self.invoker.refresh(mapping.function_name)
            except ClientError as error:  # the function is gone: only its mappings wait
                deployed, changed = None, False
                unsupported = f"{mapping.function_name}: {error.response['Error']['Message']}"
            if unsupported or deployed is None:
                self.paused[mapping.uuid] = (mapping, unsupported or "")
                self._settle(mapping.uuid)  # enabled, as on AWS, though nothing runs here
                self._stop_worker(mapping.uuid)
                continue
            worker = self.workers.get(mapping.uuid)
            if worker and (changed or worker.mapping != mapping):
                self._stop_worker(mapping.uuid)
                worker = None
            if worker is None:
                worker = self.workers[mapping.uuid] = self._worker(mapping, deployed.role)
                # Enabled once it reads from its starting position (a LATEST mapping's "now").
                worker.positioned.wait(POSITION_TIMEOUT)
            self._settle(mapping.uuid)  # now reading: Enabled
        for uuid in set(self.workers) - seen:
            self._stop_worker(uuid)
        for uuid in set(self.checkpoints) - seen:
            del self.checkpoints[uuid]  # a deleted mapping's checkpoints go with it
        self.invoker.forget(self.functions_in_use() | self.keep_warm())

    def _settle(self, uuid: str) -> None:
        if self.states:
            self.states.settle(uuid)

    def functions_in_use(self) -> set[str]:
        """The functions whose mappings run or are paused (their workers are kept warm)."""
        running = {worker.mapping.function_name for worker in self.workers.values()}
        return running | {mapping.function_name for mapping, _ in self.paused.values()}

    def _stop_worker(self, uuid: str) -> None:
        worker = self.workers.pop(uuid, None)
        if worker:
            worker.stop()

    def _worker(self, mapping: EventSourceMapping, role_arn: str) -> MappingWorker:
        name = mapping.function_name
        return MappingWorker(
            mapping,
            kinesis=self.client("kinesis"),
            invoke=lambda event: self.invoker.invoke(name, event, refresh=False),
            send=self.destinations.send,
            checkpoints=self.checkpoints.setdefault(mapping.uuid, {}),
            region=self.region,
            role_arn=role_arn,
        ).start()

    def write_status(self, problem: str = "") -> None:
        """Write what every mapping is doing to the status file."""
        mappings: list[MappingStatus] = [
            _status(worker.mapping, "Enabled", worker.status()) for worker in self.workers.values()
        ]
        mappings += [
            _status(
                mapping,
                "Disabled",
                [
                    {"shardId": shard, "checkpoint": sequence}
                    for shard, sequence in self.checkpoints.get(uuid, {}).items()
                ],
            )
            for uuid, mapping in self.disabled.items()
        ]
        mappings += [
            _status(mapping, f"Paused: {reason}", []) for mapping, reason in self.paused.values()
        ]
        written: PollerStatus = {"time": time.time(), "problem": problem, "mappings": mappings}
        status.write(self.state_dir, status.MAPPINGS_FILE, written)


def _status(mapping: EventSourceMapping, state: str, shards: list[Any]) -> MappingStatus:
    return {
        "uuid": mapping.uuid,
        "function": mapping.function_name,
        "stream": mapping.stream_name,
        "state": state,
        "shards": shards,
    }
