"""One Kinesis event source mapping at work on the local AWS: its thread, its shards, its
invocations in flight.

Each shard is read through the shard reader (in order, a child only after its parents, at
most 5 reads a second, once a second when caught up [K: "Using AWS Lambda with Amazon
Kinesis"]); what is read goes into the shard's batch state (`batch_state.ShardBatches`,
Lambda's rules); each due batch is invoked on a pool, several at once (shards x
ParallelizationFactor, capped), and its answer applied; discarded records go to the
on-failure destination. A LATEST mapping starts at the end of the shard when it first runs;
restarted before its first checkpoint, it resumes from that moment, not from a new end [C, as
Lambda keeps a mapping's position]. Throttling is not emulated: the local AWS has no
concurrency limit [C].
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from event_stream.tools import arns
from event_stream.tools.lambda_model.invocation import Invocation, failure
from event_stream.tools.lambda_model.kinesis_event import lambda_event
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.wire import ShardStatus
from event_stream.tools.local.batch_parts import Batch, Lane, invocation_event
from event_stream.tools.local.batch_state import ShardBatches
from event_stream.tools.local.destinations import s3_object_key
from event_stream.tools.readers.shard_reader import IDLE_INTERVAL, ShardCursor, cursors, ready

MAX_CONCURRENT_BATCHES = 32  # invocations in flight per mapping [C]
LATEST_MARK = "LATEST@"  # a checkpoint before the first record: where LATEST started

Invoke = Callable[[Any], Invocation]  # a Lambda event -> what the function answered
Send = Callable[..., None]  # (destination ARN, record, *, object_key=...): Destinations.send


@dataclass
class Shard:
    """One shard of the mapping: where it is read, and its batches."""

    cursor: ShardCursor
    batches: ShardBatches
    next_time: float = 0.0


class MappingWorker:
    """Runs one mapping's shards in a thread of its own until `stop()`; invocations run on a
    pool. Without `start()`, `step()` runs a shard once and invokes inline (tests)."""

    def __init__(
        self,
        mapping: EventSourceMapping,
        *,
        kinesis: Any,
        invoke: Invoke,
        send: Send,
        checkpoints: dict[str, str],
        region: str,
        role_arn: str,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.mapping = mapping
        self.kinesis = kinesis
        self.invoke = invoke
        self.send = send
        # shard id -> last sequence number done; owned by the poller, so it outlives a
        # disabled mapping's worker and resumes it where it stopped.
        self.checkpoints = checkpoints
        self.region = region
        self.role_arn = role_arn
        self.clock = clock
        self.wall_clock = wall_clock
        self.shards: dict[str, Shard] = {}
        self.problem = ""
        self._pool: ThreadPoolExecutor | None = None  # None: invoke inline
        self._results: queue.Queue[tuple[Shard, Lane, Batch, Invocation]] = queue.Queue()
        self._stop = threading.Event()
        # Set once every shard has its starting position (LATEST is "now" from then on).
        self.positioned = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mapping-{mapping.uuid}", daemon=True
        )

    def start(self) -> MappingWorker:
        self._pool = ThreadPoolExecutor(
            MAX_CONCURRENT_BATCHES, thread_name_prefix=f"invoke-{self.mapping.uuid}"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading; batches in flight finish (their results are not applied)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def status(self) -> list[ShardStatus]:
        """Each shard: checkpoint, records waiting, batches in flight and dead-lettered, the
        last result and the last error."""
        return [
            {
                "shardId": shard_id,
                "checkpoint": self.checkpoints.get(shard_id),
                "recordsBehind": shard.batches.records_behind,
                "millisBehindLatest": shard.cursor.behind_millis,
                "lastResult": self.problem or shard.batches.last_result,
                "batchesInFlight": shard.batches.in_flight,
                "deadLettered": shard.batches.dead_lettered,
                "lastDeadLetter": shard.batches.last_dead_letter,
                "lastError": shard.batches.last_error,
            }
            for shard_id, shard in list(self.shards.items())
        ]

    def discover(self) -> None:
        """Add the shards the stream has that the worker does not know yet."""
        for cursor in cursors(
            self.kinesis,
            self.mapping.stream_name,
            self._start_of,
            clock=self.clock,
            known=self.shards.keys(),
        ):
            checkpoint = self.checkpoints.get(cursor.shard_id)
            batches = ShardBatches(
                self.mapping,
                checkpoint=None if _is_mark(checkpoint) else checkpoint,
                clock=self.clock,
                wall_clock=self.wall_clock,
            )
            self.shards[cursor.shard_id] = Shard(cursor, batches)

    def ready(self) -> list[Shard]:
        """The shards that may run now: not done, their parents done."""
        cursors_now = {shard_id: shard.cursor for shard_id, shard in self.shards.items()}
        due = ready(cursors_now, lambda shard_id: self.shards[shard_id].batches.done)
        return [self.shards[cursor.shard_id] for cursor in due]

    def step(self, shard: Shard) -> None:
        """Read the shard if its batches want records, then start each due batch."""
        if shard.batches.wants_records() and shard.cursor.may_read():
            records = shard.cursor.read()
            shard.batches.add(records, shard.cursor.last_read)
            shard.batches.closed = shard.cursor.closed
        for lane, batch in shard.batches.start_due():
            self._start(shard, lane, batch)
        self._settle(shard)

    # The thread.

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain_results()
                if not self.shards:
                    self.discover()
                self.positioned.set()
                due = self.ready()
                if not due:
                    self._stop.wait(IDLE_INTERVAL)
                    self.discover()
                    continue
                for shard in due:
                    if shard.next_time <= self.clock():
                        self.step(shard)
                wait = min(shard.next_time for shard in due) - self.clock()
                self._wait_for_result(max(0.0, min(wait, IDLE_INTERVAL)))
                self.problem = ""
            except Exception as error:  # the emulator must outlive a bad moment
                self.problem = f"PROBLEM: {type(error).__name__}: {error}"
                self._stop.wait(IDLE_INTERVAL)

    def _wait_for_result(self, seconds: float) -> None:
        with contextlib.suppress(queue.Empty):
            self._finish(*self._results.get(timeout=seconds))

    def _drain_results(self) -> None:
        while True:
            try:
                self._finish(*self._results.get_nowait())
            except queue.Empty:
                return

    # Invocations.

    def _start(self, shard: Shard, lane: Lane, batch: Batch) -> None:
        event = invocation_event(
            batch,
            shard_id=shard.cursor.shard_id,
            stream_arn=self.mapping.stream_arn,
            region=self.region,
            role_arn=self.role_arn,
        )
        if self._pool is None:
            self._finish(shard, lane, batch, self.invoke(event))
            return

        def run() -> None:
            try:
                invocation = self.invoke(event)
            except Exception as error:  # the invoker itself failed: retry like a crash
                invocation = failure(type(error).__name__, str(error))
            if not self._stop.is_set():
                self._results.put((shard, lane, batch, invocation))

        self._pool.submit(run)

    def _finish(self, shard: Shard, lane: Lane, batch: Batch, invocation: Invocation) -> None:
        shard.batches.finish(lane, batch, invocation)
        self._settle(shard)

    def _settle(self, shard: Shard) -> None:
        """Send what was discarded, keep the checkpoint, and schedule the shard's next step."""
        shard_id = shard.cursor.shard_id
        destination = self.mapping.destination
        for discard in shard.batches.take_discards():
            if not destination:
                continue
            record = discard.on_failure_record(self.mapping, shard_id)
            if arns.service(destination) != "s3":
                self.send(destination, record)
                continue
            # S3 keeps the batch itself too: the record with the invocation's payload.
            payload = lambda_event(
                discard.records,
                shard_id=shard_id,
                stream_arn=self.mapping.stream_arn,
                region=self.region,
                role_arn=self.role_arn,
            )
            self.send(
                destination,
                {**record, "payload": payload},
                object_key=s3_object_key(self.mapping.uuid, shard_id, self.wall_clock()),
            )
        if shard.batches.checkpoint is not None:
            self.checkpoints[shard_id] = shard.batches.checkpoint
        times = []
        due = shard.batches.next_due()
        if due is not None:
            times.append(due)
        if shard.batches.wants_records():
            busy = bool(shard.cursor.behind_millis or shard.batches.queued)
            times.append(shard.cursor.next_read(busy=busy))
        shard.next_time = min(times) if times else self.clock() + IDLE_INTERVAL

    def _start_of(self, shard_id: str) -> dict[str, Any]:
        """Where a shard's reading starts: after its checkpoint, or the starting position."""
        checkpoint = self.checkpoints.get(shard_id)
        if checkpoint and _is_mark(checkpoint):
            started = float(checkpoint.removeprefix(LATEST_MARK))
            return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": started}
        if checkpoint:
            return {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": checkpoint,
            }
        position = self.mapping.starting_position
        if position == "AT_TIMESTAMP":
            return {
                "ShardIteratorType": "AT_TIMESTAMP",
                "Timestamp": self.mapping.starting_timestamp,
            }
        if position == "LATEST":  # read from now on, and from the same moment after a restart
            now = round(self.wall_clock(), 3)
            self.checkpoints[shard_id] = f"{LATEST_MARK}{now:.3f}"
            return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": now}
        return {"ShardIteratorType": position}


def _is_mark(checkpoint: str | None) -> bool:
    return bool(checkpoint and checkpoint.startswith(LATEST_MARK))
