"""One shard of a Kinesis event source mapping, under Lambda's rules: which records go into
which batch, when a batch is due, what a failure does to it, where the checkpoint is. No I/O:
records come in through `add`, batches go out through `start_due` and come back through
`finish`, discarded records go out through `take_discards`; both clocks are injected, so
the parity tests drive it directly.

Each rule names its source. The documentation first ("Using AWS Lambda with Amazon
Kinesis" [K], "Lambda parameters for Amazon Kinesis Data Streams event source mappings" [P],
"Configuring partial batch response with Kinesis Data Streams and Lambda" [R], "Lambda
event filtering" [F]); where it is silent, responses recorded on real AWS (LocalStack's
tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json
[S]); where both are silent, this module chooses and says so [C].

- With a ParallelizationFactor of N a shard runs up to N batches at once, records of one
  partition key always in the same lane: "in-order processing at the partition-key level" [P].
- A batch holds up to BatchSize records that pass the FilterCriteria, within the 6 MB
  invocation payload; Lambda "continues to read records until it has gathered a full batch,
  the batching window expires, or the batch reaches the payload limit" [P]. A record that
  does not match is skipped and the checkpoint moves past it [F].
- A failed batch is retried as the same batch: records read after it never join it [K, R].
- A partial batch response: "the batch is bisected at the returned sequence number and
  Lambda retries only the remaining records" [R]: the records before the reported one are
  done; the rest becomes a new batch, never halved, whose first invocation is no retry (a
  split, like a bisect); its own failures count against MaximumRetryAttempts [S: 6 records,
  the last reported on every call, 3 retries -> that record invoked 5 times, the on-failure
  record covers it alone with approximateInvokeCount 4]. A report of the batch's first
  record, or an itemIdentifier that is empty, null, missing or names no record of the batch,
  is a complete failure of the batch, retried and counted [R, S].
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
  BatchSize records, `approximateInvokeCount` at least 1 [S]; younger records behind them
  are delivered [S].
- With TumblingWindowInSeconds, batches never span windows and carry the window's state;
  each window ends with a final invocation (`tools/lambda_model/tumbling_window.py`) [docs].
- A failed batch is retried with an exponential backoff (`retry_backoff`) [C, calibrated on
  S]; the halves of a split batch after RETRY_DELAY [C].
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable

from event_stream.tools.lambda_model.event_filter import record_passes
from event_stream.tools.lambda_model.invocation import PAYLOAD_LIMIT, Invocation, describe_error
from event_stream.tools.lambda_model.kinesis_event import (
    epoch_seconds,
    first_failed,
    iso_time,
)
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.tumbling_window import (
    Window,
    state_of,
    too_large,
    window_of,
)
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.local.batch_parts import Batch, Discard, Lane

RETRY_DELAY = 0.1  # before the halves of a split batch [C]
# Before a counted retry: exponential backoff, 1 s, x1.6, at most 60 s [C, calibrated on S:
# a record that fails every time, with unlimited retries and a 60 s MaximumRecordAge, was
# invoked 8 times before it expired; with the local AWS's mapping enabled within a second,
# this backoff gives those 8, where LocalStack's 0.5 s x1.5 gives 11 and a doubling gives 6].
RETRY_BACKOFF_FIRST, RETRY_BACKOFF_GROWTH, RETRY_BACKOFF_MAX = 1.0, 1.6, 60.0
RECORD_OVERHEAD = 400  # bytes of JSON around each record's base64 data in the event


class ShardBatches:
    """The batches of one shard of one mapping."""

    def __init__(
        self,
        mapping: EventSourceMapping,
        *,
        checkpoint: str | None = None,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self.mapping = mapping
        self.checkpoint = checkpoint  # the last sequence number done
        self.clock = clock  # monotonic: windows and retry delays
        self.wall_clock = wall_clock  # epoch seconds: record ages
        self.lanes = [Lane() for _ in range(mapping.parallelization_factor)]
        self.patterns = mapping.patterns
        self.closed = False  # the shard is read to its end
        self.last_result = "No records processed"
        # What `local status` keeps after later successes (times are UTC, ISO 8601).
        self.last_error = ""
        self.dead_lettered = 0  # batches handed to the on-failure destination
        self.last_dead_letter = ""
        # Every record read and not yet past the checkpoint, in order: True once done
        # (handled, discarded or filtered out). The checkpoint is the end of the done prefix.
        self._outstanding: OrderedDict[str, bool] = OrderedDict()
        self._discards: list[Discard] = []
        self._last_read = -math.inf  # when `add` was last called

    # What the worker asks.

    @property
    def queued(self) -> int:
        """Records read and not yet in a batch."""
        return sum(len(lane.queue) for lane in self.lanes)

    @property
    def in_flight(self) -> int:
        """Batches being invoked now."""
        return sum(1 for lane in self.lanes if lane.busy)

    @property
    def records_behind(self) -> int:
        """Records read and not yet done."""
        return sum(1 for done in list(self._outstanding.values()) if not done)

    @property
    def done(self) -> bool:
        """Read to its end, every record resolved: its children may start."""
        return (
            self.closed
            and not self._outstanding
            and all(lane.window is None for lane in self.lanes)
        )

    def wants_records(self) -> bool:
        """Whether reading more would fill a batch: room for a batch in every lane."""
        room = self.mapping.batch_size * self.mapping.parallelization_factor
        return not self.closed and self.queued < room

    def next_due(self) -> float | None:
        """When an idle lane next has a batch to start (None: none waits)."""
        now = self.clock()
        times = []
        for lane in self.lanes:
            if lane.busy:
                continue
            if lane.pending:
                times.append(lane.ready_at)
            elif lane.queue:
                due = self._batch_is_due(lane, now)
                times.append(now if due else (lane.queued_at or now) + self._window)
            elif lane.window is not None:  # its final invocation, when the window ends
                left = 0.0 if lane.window.terminated_early else lane.window.end - self.wall_clock()
                times.append(now + max(0.0, left))
        return min(times) if times else None

    def take_discards(self) -> list[Discard]:
        """The records discarded since the last call, for the on-failure destination."""
        taken, self._discards = self._discards, []
        return taken

    # Records in, batches out, answers back.

    def add(self, records: Iterable[KinesisRecord], read_at: float) -> None:
        """Records just read from the shard, in order."""
        self._last_read = read_at
        for record in records:
            passes = record_passes(self.patterns, record)
            self._outstanding[record["SequenceNumber"]] = not passes  # filtered out: done
            if passes:
                lane = self.lanes[lane_of(record["PartitionKey"], len(self.lanes))]
                if not lane.queue:
                    lane.queued_at = read_at
                lane.queue.append(record)
        self._advance_checkpoint()

    def start_due(self) -> list[tuple[Lane, Batch]]:
        """The batches to invoke now, one per idle lane; their lanes are busy until
        `finish`."""
        started = []
        now = self.clock()
        for lane in self.lanes:
            if not lane.busy:
                batch = self._next_batch(lane, now)
                if batch is not None:
                    lane.busy = True
                    started.append((lane, batch))
        return started

    def finish(self, lane: Lane, batch: Batch, invocation: Invocation) -> None:
        """Apply the function's answer to the batch, as Lambda would."""
        lane.busy = False
        batch.invocations += 1
        failed_from = first_failed(
            batch.records, invocation, reports_item_failures=self.mapping.report_item_failures
        )
        if batch.window is not None:
            failed_from = self._carry_state(lane, batch, invocation, failed_from)
        if failed_from is None:
            lane.pending.popleft()
            self._mark_done(batch.records)
            self.last_result = f"OK: {len(batch.records)} records"
            return
        function_error = "Unhandled" if invocation.error else None
        self._mark_done(batch.records[:failed_from])
        remaining = batch.records[failed_from:]
        self.last_result = f"PROBLEM: {_describe(invocation)}"
        self.last_error = f"{iso_time(self.wall_clock())}: {_describe(invocation)}"
        lane.ready_at = self.clock() + RETRY_DELAY
        if function_error and self.mapping.bisect and len(remaining) > 1:
            half = math.ceil(len(remaining) / 2)
            lane.pending.popleft()
            for part in (remaining[half:], remaining[:half]):  # first half first
                lane.pending.appendleft(
                    Batch(part, batch.retries, batch.invocations, function_error, batch.window)
                )
            return
        if failed_from > 0:
            # Split at the reported record, as a bisect: the remainder is a new batch, whose
            # first invocation is no retry [S: the reported record invoked 5 times, 1 + 4,
            # approximateInvokeCount 4 = the new batch's invocations, with 3 retries].
            lane.pending[0] = Batch(remaining, window=batch.window)
            return
        batch.retries += 1
        batch.function_error = function_error
        lane.ready_at = self.clock() + retry_backoff(batch.retries)
        if 0 <= self.mapping.max_retries < batch.retries:
            lane.pending.popleft()
            if batch.final:
                lane.window = None  # its state goes with it
            self._discard(
                Discard(batch.records, "RetryAttemptsExhausted", batch.invocations, function_error)
            )

    # Inside.

    @property
    def _window(self) -> float:
        return self.mapping.batching_window

    def _next_batch(self, lane: Lane, now: float) -> Batch | None:
        if lane.pending:
            if now < lane.ready_at:
                return None
            self._expire_from_batch(lane)
            return lane.pending[0] if lane.pending else None
        if lane.window is not None and self._window_ended(lane):
            final = Batch([], window=lane.window, final=True)
            lane.pending.append(final)
            return final
        self._expire_from_queue(lane)
        if not lane.queue or not self._batch_is_due(lane, now):
            return None
        bounds = self._window_of(lane.queue[0])
        records: list[KinesisRecord] = []
        size = 0
        while lane.queue and len(records) < self.mapping.batch_size:
            record_size = _payload_size(lane.queue[0])
            if records and size + record_size > PAYLOAD_LIMIT:
                break
            if bounds and self._window_of(lane.queue[0]) != bounds:
                break  # a batch never spans two windows
            records.append(lane.queue.popleft())
            size += record_size
        lane.queued_at = self._last_read if lane.queue else None
        if bounds and lane.window is None:
            lane.window = Window(*bounds)
        batch = Batch(records, window=lane.window)
        lane.pending.append(batch)
        return batch

    # Tumbling windows (tools/lambda_model/tumbling_window.py has their rules).

    def _window_of(self, record: KinesisRecord) -> tuple[float, float] | None:
        if not self.mapping.tumbling_window:
            return None
        arrival = epoch_seconds(record["ApproximateArrivalTimestamp"])
        return window_of(arrival, self.mapping.tumbling_window)

    def _window_ended(self, lane: Lane) -> bool:
        """Time to close the lane's window: it is over, its state grew too large, the next
        record is a later window's, or the shard ended."""
        window = lane.window
        assert window is not None
        if window.terminated_early or self.wall_clock() >= window.end:
            return True
        if lane.queue:
            next_window = self._window_of(lane.queue[0])
            return next_window is not None and next_window[0] >= window.end
        return self.closed

    def _carry_state(
        self, lane: Lane, batch: Batch, invocation: Invocation, failed_from: int | None
    ) -> int | None:
        """Take the state a window's invocation answered; none answered is a failure."""
        answered, state = state_of(invocation)
        if not answered:
            return 0 if failed_from is None else failed_from
        assert batch.window is not None
        if batch.final and failed_from is None:
            lane.window = None  # the window is closed, its state dropped
        elif not batch.final:
            batch.window.state = state
            batch.window.terminated_early = too_large(state)
        return failed_from

    def _batch_is_due(self, lane: Lane, now: float) -> bool:
        """A full batch, a full payload, the window over, or a closed shard's last records."""
        if len(lane.queue) >= self.mapping.batch_size or self.closed:
            return True
        if sum(_payload_size(r) for r in lane.queue) >= PAYLOAD_LIMIT:
            return True
        return now >= (lane.queued_at if lane.queued_at is not None else now) + self._window

    def _mark_done(self, records: list[KinesisRecord]) -> None:
        for record in records:
            self._outstanding[record["SequenceNumber"]] = True
        self._advance_checkpoint()

    def _advance_checkpoint(self) -> None:
        while self._outstanding and next(iter(self._outstanding.items()))[1]:
            self.checkpoint, _ = self._outstanding.popitem(last=False)

    def _expire_from_queue(self, lane: Lane) -> None:
        expired = self._expired_prefix(lane.queue)
        if expired:
            for _ in expired:
                lane.queue.popleft()
            lane.queued_at = self._last_read if lane.queue else None
            # Never invoked, yet counted once, as recorded for a record expired before
            # ingestion [S: approximateInvokeCount 1].
            self._discard(Discard(expired, "RecordAgeExceeded", 1, None))

    def _expire_from_batch(self, lane: Lane) -> None:
        batch = lane.pending[0]
        if batch.final:
            return
        expired = self._expired_prefix(batch.records)
        if expired:
            batch.records = batch.records[len(expired) :]
            if not batch.records:
                lane.pending.popleft()
            self._discard(Discard(expired, "RecordAgeExceeded", batch.invocations, None))

    def _expired_prefix(self, records: Iterable[KinesisRecord]) -> list[KinesisRecord]:
        if self.mapping.max_record_age < 0:
            return []
        oldest_allowed = self.wall_clock() - self.mapping.max_record_age
        expired = []
        for record in records:
            if epoch_seconds(record["ApproximateArrivalTimestamp"]) >= oldest_allowed:
                break
            expired.append(record)
        return expired

    def _discard(self, discard: Discard) -> None:
        """Hand the records to the destination, at most BatchSize a message, and move on."""
        size = self.mapping.batch_size
        for start in range(0, len(discard.records), size):
            part = discard.records[start : start + size]
            self._discards.append(
                Discard(part, discard.condition, discard.invocations, discard.function_error)
            )
            self.dead_lettered += 1
        self._mark_done(discard.records)
        what = f"{discard.condition}: {len(discard.records)} records discarded"
        self.last_result = f"PROBLEM: {what}"
        self.last_dead_letter = f"{iso_time(self.wall_clock())}: {what}"


def retry_backoff(retry: int) -> float:
    """Seconds before the `retry`-th counted retry of a batch (1-based)."""
    return float(min(RETRY_BACKOFF_MAX, RETRY_BACKOFF_FIRST * RETRY_BACKOFF_GROWTH ** (retry - 1)))


def lane_of(partition_key: str, factor: int) -> int:
    """The lane of a partition key among `factor` lanes: always the same one, so a key's
    records stay in order [P]."""
    if factor == 1:
        return 0
    digest = hashlib.md5(partition_key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % factor


def _describe(invocation: Invocation) -> str:
    if invocation.error:
        return describe_error(invocation.error)
    return "partial batch failure: " + json.dumps(invocation.answer)[:200]


def _payload_size(record: KinesisRecord) -> int:
    return len(record["Data"]) * 4 // 3 + RECORD_OVERHEAD
