"""One Kinesis event source mapping, run on the local AWS as Lambda runs it.

Each rule names its source. The documentation first ("Using AWS Lambda with Amazon
Kinesis" [K], "Lambda parameters for Amazon Kinesis Data Streams event source mappings" [P],
"Configuring partial batch response with Kinesis Data Streams and Lambda" [R], "Lambda
event filtering" [F]); where it is silent, responses recorded on real AWS
(LocalStack's tests/aws/services/lambda_/event_source_mapping/
test_lambda_integration_kinesis.snapshot.json [S]); where both are silent, this module
chooses and says so [C].

- Each shard is read in order from the starting position or the checkpoint; a child shard
  only after its parents [K]. Shards run concurrently, and with a ParallelizationFactor of
  N each shard runs up to N batches at once, records of one partition key always in the
  same lane, so "in-order processing at the partition-key level" holds [P].
- A batch holds up to BatchSize records that pass the FilterCriteria, within the 6 MB
  invocation payload; Lambda "continues to read records until it has gathered a full batch,
  the batching window expires, or the batch reaches the payload limit" [P]. A record that
  does not match is skipped and the checkpoint moves past it [F].
- A failed batch is retried as the same batch: records read after it never join it [K, R].
- A partial batch response: "the batch is bisected at the returned sequence number and
  Lambda retries only the remaining records" [R]: the records before the reported one are
  done; the rest is retried as one batch, never halved, and the retry counts against
  MaximumRetryAttempts [S: 6 records, the last reported on every call, 3 retries -> 4
  invocations, the on-failure record covers that one record]. An itemIdentifier that is
  empty, null, missing or names no record of the batch is a complete failure of the batch,
  retried the same way [R, S].
- A function error (an exception, a timeout, a crash): with BisectBatchOnFunctionError the
  batch is split in two and the halves are retried in order; "splitting a batch does not
  count towards the retry quota" [K]. A batch of one record, or any batch without bisect,
  counts one retry per failure [S: BatchSize 1, 1 retry -> 2 invocations].
- After MaximumRetryAttempts retries (-1: until the records expire) the batch's info goes
  to the on-failure destination, condition RetryAttemptsExhausted, with
  `approximateInvokeCount` = the invocations that held those records, and `functionError`
  "Unhandled" after a function error, null after a partial response [S].
- Records older than MaximumRecordAgeInSeconds are not sent: their info goes to the
  destination, condition RecordAgeExceeded, no `responseContext` [S], in messages of at most
  BatchSize records; younger records behind them are delivered [S].
- A LATEST mapping starts at the end of the shard when it first runs; restarted before its
  first checkpoint, it resumes from that moment, not from a new end [C, as Lambda keeps a
  mapping's position].
- Each shard is polled once a second when idle and read at most 5 times a second [K]; a
  failed batch is retried after RETRY_DELAY [C]; throttling is not emulated (the local AWS
  has no concurrency limit) [C].
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from event_stream.tools.local.event_filter import patterns_of, record_passes
from event_stream.tools.local.kinesis_event import (
    epoch_seconds,
    first_failed,
    lambda_event,
    on_failure_record,
)
from event_stream.tools.local.runner import Invocation
from event_stream.tools.stream_reader import IDLE_INTERVAL, PAGE_LIMIT, READ_INTERVAL, list_shards

RETRY_DELAY = 0.1  # between attempts at a failed batch [C]
PAYLOAD_LIMIT = 6 * 1024 * 1024  # a synchronous invocation's payload
RECORD_OVERHEAD = 400  # bytes of JSON around each record's base64 data in the event
MAX_CONCURRENT_BATCHES = 32  # invocations in flight per mapping (shards x factor, capped) [C]
LATEST_MARK = "LATEST@"  # a checkpoint before the first record: where LATEST started


@dataclass(frozen=True)
class MappingSettings:
    """The settings of a mapping as the local Lambda API reports them."""

    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int
    batching_window: float
    starting_position: str
    starting_timestamp: datetime | None
    bisect: bool
    report_item_failures: bool
    max_retries: int
    max_record_age: int
    destination: str | None
    filter_patterns: tuple[str, ...]
    parallelization_factor: int = 1

    @classmethod
    def from_api(cls, mapping: dict[str, Any]) -> MappingSettings:
        return cls(
            uuid=mapping["UUID"],
            function_arn=mapping["FunctionArn"],
            stream_arn=mapping["EventSourceArn"],
            batch_size=int(mapping.get("BatchSize") or 100),
            batching_window=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=mapping.get("StartingPosition") or "TRIM_HORIZON",
            starting_timestamp=mapping.get("StartingPositionTimestamp"),
            bisect=bool(mapping.get("BisectBatchOnFunctionError")),
            report_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            max_retries=int(mapping.get("MaximumRetryAttempts", -1)),
            max_record_age=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            destination=(mapping.get("DestinationConfig") or {})
            .get("OnFailure", {})
            .get("Destination")
            or None,
            filter_patterns=tuple(
                f["Pattern"] for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])
            ),
            parallelization_factor=int(mapping.get("ParallelizationFactor") or 1),
        )

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":function:", 1)[-1].split(":")[0]

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[-1]


@dataclass
class Batch:
    """Records delivered together, and retried together until resolved."""

    records: list[dict[str, Any]]
    retries: int = 0  # counted against MaximumRetryAttempts
    invocations: int = 0  # approximateInvokeCount of these records
    function_error: str | None = None  # of the last failure: "Unhandled", or None (partial)


@dataclass
class Lane:
    """One of a shard's concurrent batch slots (ParallelizationFactor): its partition keys'
    records, in order."""

    queue: deque[dict[str, Any]] = field(default_factory=deque)  # read, not yet batched
    pending: deque[Batch] = field(default_factory=deque)  # formed, unresolved, in order
    busy: bool = False
    ready_at: float = 0.0
    queued_at: float | None = None  # when its oldest queued record was read


@dataclass
class ShardState:
    """Where one shard stands."""

    shard_id: str
    parents: set[str]
    lanes: list[Lane]
    iterator: str | None = None
    closed: bool = False  # read to its end after resharding
    behind_millis: int = 0
    next_time: float = 0.0
    last_read: float = -math.inf
    # Every record read and not yet past the checkpoint, in order: True once done (handled,
    # discarded or filtered out). The checkpoint is the end of the done prefix.
    outstanding: OrderedDict[str, bool] = field(default_factory=OrderedDict)
    last_result: str = "No records processed"

    @property
    def queued(self) -> int:
        return sum(len(lane.queue) for lane in self.lanes)

    @property
    def done(self) -> bool:
        return self.closed and not self.outstanding


class MappingRunner:
    """Runs one mapping's shards in a thread of its own until `stop()`; invocations run on a
    pool, several at once. Tests drive `step()` on a fake clock, invoking inline."""

    def __init__(
        self,
        settings: MappingSettings,
        *,
        kinesis: Any,
        destinations: Callable[[str, dict[str, Any]], None],
        invoke: Callable[[dict[str, Any]], Invocation],
        checkpoints: dict[str, str],
        region: str,
        role_arn: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.kinesis = kinesis
        self.send_to_destination = destinations
        self.invoke = invoke
        # shard id -> last sequence number done; owned by the poller, so it outlives a
        # disabled mapping's runner and resumes it where it stopped.
        self.checkpoints = checkpoints
        self.region = region
        self.role_arn = role_arn
        self.clock = clock
        self.patterns = patterns_of({"Filters": [{"Pattern": p} for p in settings.filter_patterns]})
        self.shards: dict[str, ShardState] = {}
        self.problem = ""
        self._pool: ThreadPoolExecutor | None = None  # None: invoke inline (tests)
        self._results: queue.Queue[tuple[ShardState, Lane, Batch, Invocation]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mapping-{settings.uuid}", daemon=True
        )

    def start(self) -> MappingRunner:
        self._pool = ThreadPoolExecutor(
            MAX_CONCURRENT_BATCHES, thread_name_prefix=f"invoke-{self.settings.uuid}"
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

    def status(self) -> list[dict[str, Any]]:
        """Each shard: checkpoint, records waiting, last result."""
        return [
            {
                "shardId": shard.shard_id,
                "checkpoint": self.checkpoints.get(shard.shard_id),
                "recordsBehind": sum(1 for done in list(shard.outstanding.values()) if not done),
                "millisBehindLatest": shard.behind_millis,
                "lastResult": self.problem or shard.last_result,
            }
            for shard in list(self.shards.values())
        ]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain_results()
                if not self.shards:
                    self._discover_shards()
                ready = [s for s in self.shards.values() if not s.done and self._parents_done(s)]
                if not ready:
                    self._stop.wait(IDLE_INTERVAL)
                    self._discover_shards()
                    continue
                for shard in ready:
                    if shard.next_time <= self.clock():
                        self.step(shard)
                wait = min(s.next_time for s in ready) - self.clock()
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

    def _discover_shards(self) -> None:
        lanes = self.settings.parallelization_factor
        for shard in list_shards(self.kinesis, self.settings.stream_name):
            if shard["ShardId"] not in self.shards:
                parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")}
                self.shards[shard["ShardId"]] = ShardState(
                    shard["ShardId"], parents - {None}, [Lane() for _ in range(lanes)]
                )

    def _parents_done(self, shard: ShardState) -> bool:
        return all(self.shards[p].done for p in shard.parents if p in self.shards)

    # One shard, one step: read if its lanes need records, then start every batch that is due.

    def step(self, shard: ShardState) -> None:
        """Read the shard if needed, then start each idle lane's due batch."""
        now = self.clock()
        if self._wants_records(shard) and now - shard.last_read >= READ_INTERVAL:
            self._read(shard)
            now = self.clock()
        for lane in shard.lanes:
            if not lane.busy:
                batch = self._next_batch(shard, lane, now)
                if batch is not None:
                    self._start(shard, lane, batch)
        self._schedule(shard)

    def _wants_records(self, shard: ShardState) -> bool:
        room = self.settings.batch_size * self.settings.parallelization_factor
        return not shard.closed and shard.queued < room

    def _schedule(self, shard: ShardState) -> None:
        now = self.clock()
        times = []
        if self._wants_records(shard):
            busy = shard.behind_millis or shard.queued
            times.append(shard.last_read + (READ_INTERVAL if busy else IDLE_INTERVAL))
        for lane in shard.lanes:
            if lane.busy:
                continue
            if lane.pending:
                times.append(lane.ready_at)
            elif lane.queue:
                due = self._batch_is_due(shard, lane, now)
                times.append(now if due else (lane.queued_at or now) + self._window)
        shard.next_time = min(times) if times else now + IDLE_INTERVAL

    @property
    def _window(self) -> float:
        return self.settings.batching_window

    def _read(self, shard: ShardState) -> None:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard.shard_id)
        page = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=PAGE_LIMIT)
        shard.last_read = self.clock()
        shard.behind_millis = int(page.get("MillisBehindLatest", 0))
        for record in page["Records"]:
            passes = record_passes(self.patterns, record)
            shard.outstanding[record["SequenceNumber"]] = not passes  # filtered out: done
            if passes:
                lane = shard.lanes[self._lane_of(record)]
                if not lane.queue:
                    lane.queued_at = shard.last_read
                lane.queue.append(record)
        self._advance_checkpoint(shard)
        shard.iterator = page.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True

    def _lane_of(self, record: dict[str, Any]) -> int:
        factor = self.settings.parallelization_factor
        if factor == 1:
            return 0
        digest = hashlib.md5(record["PartitionKey"].encode(), usedforsecurity=False).digest()
        return int.from_bytes(digest[:8], "big") % factor

    def _iterator(self, shard_id: str) -> str:
        request: dict[str, Any] = {"StreamName": self.settings.stream_name, "ShardId": shard_id}
        checkpoint = self.checkpoints.get(shard_id)
        if checkpoint and checkpoint.startswith(LATEST_MARK):
            started = float(checkpoint.removeprefix(LATEST_MARK))
            request.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=started)
        elif checkpoint:
            request.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=checkpoint
            )
        elif self.settings.starting_position == "AT_TIMESTAMP":
            request.update(
                ShardIteratorType="AT_TIMESTAMP", Timestamp=self.settings.starting_timestamp
            )
        else:
            request["ShardIteratorType"] = self.settings.starting_position
            if self.settings.starting_position == "LATEST":
                self.checkpoints[shard_id] = f"{LATEST_MARK}{time.time():.3f}"
        return self.kinesis.get_shard_iterator(**request)["ShardIterator"]

    # Batches: formed once, retried as they are until resolved.

    def _next_batch(self, shard: ShardState, lane: Lane, now: float) -> Batch | None:
        if lane.pending:
            if now < lane.ready_at:
                return None
            self._expire_from_batch(shard, lane)
            return lane.pending[0] if lane.pending else None
        self._expire_from_queue(shard, lane)
        if not lane.queue or not self._batch_is_due(shard, lane, now):
            return None
        records, size = [], 0
        while lane.queue and len(records) < self.settings.batch_size:
            record_size = _payload_size(lane.queue[0])
            if records and size + record_size > PAYLOAD_LIMIT:
                break
            records.append(lane.queue.popleft())
            size += record_size
        lane.queued_at = shard.last_read if lane.queue else None
        batch = Batch(records)
        lane.pending.append(batch)
        return batch

    def _batch_is_due(self, shard: ShardState, lane: Lane, now: float) -> bool:
        """A full batch, a full payload, the window over, or a closed shard's last records."""
        if len(lane.queue) >= self.settings.batch_size or shard.closed:
            return True
        if sum(_payload_size(r) for r in lane.queue) >= PAYLOAD_LIMIT:
            return True
        return now >= (lane.queued_at if lane.queued_at is not None else now) + self._window

    def _start(self, shard: ShardState, lane: Lane, batch: Batch) -> None:
        lane.busy = True
        event = lambda_event(
            batch.records,
            shard_id=shard.shard_id,
            stream_arn=self.settings.stream_arn,
            region=self.region,
            role_arn=self.role_arn,
        )
        if self._pool is None:
            self._finish(shard, lane, batch, self.invoke(event))
            return

        def run() -> None:
            try:
                invocation = self.invoke(event)
            except Exception as error:  # the runner itself failed: retry like a crash
                invocation = Invocation(
                    None, {"errorType": type(error).__name__, "errorMessage": str(error)}, []
                )
            if not self._stop.is_set():
                self._results.put((shard, lane, batch, invocation))

        self._pool.submit(run)

    def _finish(self, shard: ShardState, lane: Lane, batch: Batch, invocation: Invocation) -> None:
        lane.busy = False
        batch.invocations += 1
        failed_from = first_failed(
            batch.records,
            invocation.answer,
            invocation.error,
            reports_item_failures=self.settings.report_item_failures,
        )
        function_error = "Unhandled" if invocation.error else None
        if failed_from is None:
            lane.pending.popleft()
            self._mark_done(shard, batch.records)
            shard.last_result = f"OK: {len(batch.records)} records"
            self._schedule(shard)
            return
        self._mark_done(shard, batch.records[:failed_from])
        remaining = batch.records[failed_from:]
        shard.last_result = f"PROBLEM: {self._describe(invocation)}"
        lane.ready_at = self.clock() + RETRY_DELAY
        if function_error and self.settings.bisect and len(remaining) > 1:
            half = math.ceil(len(remaining) / 2)
            lane.pending.popleft()
            for part in (remaining[half:], remaining[:half]):  # first half first
                lane.pending.appendleft(
                    Batch(part, batch.retries, batch.invocations, function_error)
                )
        else:
            batch.records, batch.retries = remaining, batch.retries + 1
            batch.function_error = function_error
            if 0 <= self.settings.max_retries < batch.retries:
                lane.pending.popleft()
                self._discard(shard, batch, "RetryAttemptsExhausted")
        self._schedule(shard)

    # Records leaving: done (the checkpoint moves) or discarded to the destination.

    def _mark_done(self, shard: ShardState, records: list[dict[str, Any]]) -> None:
        for record in records:
            shard.outstanding[record["SequenceNumber"]] = True
        self._advance_checkpoint(shard)

    def _advance_checkpoint(self, shard: ShardState) -> None:
        last = None
        while shard.outstanding and next(iter(shard.outstanding.values())):
            last, _ = shard.outstanding.popitem(last=False)
        if last is not None:
            self.checkpoints[shard.shard_id] = last

    def _expire_from_queue(self, shard: ShardState, lane: Lane) -> None:
        expired = self._expired_prefix(lane.queue)
        if expired:
            for _ in expired:
                lane.queue.popleft()
            lane.queued_at = shard.last_read if lane.queue else None
            self._discard(shard, Batch(expired), "RecordAgeExceeded")

    def _expire_from_batch(self, shard: ShardState, lane: Lane) -> None:
        batch = lane.pending[0]
        expired = self._expired_prefix(batch.records)
        if expired:
            batch.records = batch.records[len(expired) :]
            if not batch.records:
                lane.pending.popleft()
            self._discard(shard, Batch(expired, invocations=batch.invocations), "RecordAgeExceeded")

    def _expired_prefix(self, records: Any) -> list[dict[str, Any]]:
        if self.settings.max_record_age < 0:
            return []
        oldest_allowed = time.time() - self.settings.max_record_age
        expired = []
        for record in records:
            if epoch_seconds(record["ApproximateArrivalTimestamp"]) >= oldest_allowed:
                break
            expired.append(record)
        return expired

    def _discard(self, shard: ShardState, batch: Batch, condition: str) -> None:
        """Send the batch's info to the on-failure destination, at most BatchSize records a
        message, and move on."""
        size = self.settings.batch_size
        if self.settings.destination:
            for start in range(0, len(batch.records), size):
                self.send_to_destination(
                    self.settings.destination,
                    on_failure_record(
                        batch.records[start : start + size],
                        shard_id=shard.shard_id,
                        stream_arn=self.settings.stream_arn,
                        function_arn=self.settings.function_arn,
                        condition=condition,
                        invoke_count=batch.invocations,
                        function_error=batch.function_error,
                    ),
                )
        self._mark_done(shard, batch.records)
        shard.last_result = f"PROBLEM: {condition}: {len(batch.records)} records discarded"

    @staticmethod
    def _describe(invocation: Invocation) -> str:
        if invocation.error:
            return f"{invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}"
        return "partial batch failure: " + json.dumps(invocation.answer)[:200]


def _payload_size(record: dict[str, Any]) -> int:
    return len(record["Data"]) * 4 // 3 + RECORD_OVERHEAD
