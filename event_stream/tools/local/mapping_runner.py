"""One Kinesis event source mapping, run on the local AWS as Lambda runs it.

What is emulated, with the Lambda documentation's wording ("Using AWS Lambda with Amazon
Kinesis", "Lambda parameters for Amazon Kinesis Data Streams event source mappings",
"Lambda event filtering"):

- Each shard is read strictly in order from the mapping's starting position (TRIM_HORIZON,
  LATEST, AT_TIMESTAMP) or from its checkpoint; a child shard only after its parents.
- A batch holds up to BatchSize records that pass the FilterCriteria (others are skipped:
  "the streams iterator advances past this record"), within the 6 MB payload limit. With a
  MaximumBatchingWindowInSeconds, Lambda "continues to read records until it has gathered a
  full batch, the batching window expires, or the batch reaches the payload limit".
- Records older than MaximumRecordAgeInSeconds are not sent: their batch info goes to the
  on-failure destination (condition RecordAgeExceeded).
- Success checkpoints the batch. With ReportBatchItemFailures, "Lambda uses the record with
  the lowest sequence number as the checkpoint" and retries from it; an empty or unknown
  `itemIdentifier` is "a complete failure".
- On a function error (an exception, a timeout, a crash) or a partial failure, with
  BisectBatchOnFunctionError the failed records are split in two and the first half is
  retried ("splitting a batch does not count towards the retry quota"); a failure that
  cannot be split counts one retry. After MaximumRetryAttempts retries (-1: until the
  records expire) the failed records' batch info goes to the on-failure destination
  (condition RetryAttemptsExhausted) and the shard moves on.
- Each shard is polled once a second when idle and read at most 5 times a second.

Where the documentation is silent, this module chooses, and says so: a failed batch is
retried after RETRY_DELAY; after any success the batch size returns to BatchSize.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from event_stream.tools.local.event_filter import patterns_of, record_passes
from event_stream.tools.local.kinesis_event import epoch_seconds, lambda_event, on_failure_record
from event_stream.tools.local.runner import Invocation
from event_stream.tools.stream_reader import IDLE_INTERVAL, PAGE_LIMIT, READ_INTERVAL, list_shards

RETRY_DELAY = 0.1  # between attempts at a failed batch (not documented by AWS)
PAYLOAD_LIMIT = 6 * 1024 * 1024  # a synchronous invocation's payload
RECORD_OVERHEAD = 400  # bytes of JSON around each record's base64 data in the event


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
        )

    @property
    def function_name(self) -> str:
        return self.function_arn.rsplit(":function:", 1)[-1].split(":")[0]

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[-1]


@dataclass
class ShardState:
    """Where one shard stands."""

    shard_id: str
    parents: set[str]
    iterator: str | None = None
    buffer: deque[dict[str, Any]] = field(default_factory=deque)
    closed: bool = False  # read to its end after resharding
    behind_millis: int = 0
    next_time: float = 0.0
    last_read: float = -math.inf
    first_buffered_at: float | None = None
    limit: int = 0  # the current batch size cap (bisection halves it)
    attempts: int = 0  # failed attempts at the records at the head of the buffer
    last_result: str = "No records processed"

    @property
    def done(self) -> bool:
        return self.closed and not self.buffer


class MappingRunner:
    """Runs one mapping's shards in a thread of its own until `stop()`."""

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
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mapping-{settings.uuid}", daemon=True
        )

    def start(self) -> MappingRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def status(self) -> list[dict[str, Any]]:
        """Each shard: checkpoint, records waiting, last result."""
        return [
            {
                "shardId": shard.shard_id,
                "checkpoint": self.checkpoints.get(shard.shard_id),
                "recordsBehind": len(shard.buffer),
                "millisBehindLatest": shard.behind_millis,
                "lastResult": self.problem or shard.last_result,
            }
            for shard in self.shards.values()
        ]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.shards:
                    self._discover_shards()
                ready = [s for s in self.shards.values() if not s.done and self._parents_done(s)]
                if not ready:
                    self._stop.wait(IDLE_INTERVAL)
                    self._discover_shards()
                    continue
                shard = min(ready, key=lambda s: s.next_time)
                wait = shard.next_time - self.clock()
                if wait > 0:
                    self._stop.wait(wait)
                    continue
                self.step(shard)
                self.problem = ""
            except Exception as error:  # the emulator must outlive a bad moment
                self.problem = f"PROBLEM: {type(error).__name__}: {error}"
                self._stop.wait(IDLE_INTERVAL)

    def _discover_shards(self) -> None:
        for shard in list_shards(self.kinesis, self.settings.stream_name):
            if shard["ShardId"] not in self.shards:
                parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")}
                self.shards[shard["ShardId"]] = ShardState(
                    shard["ShardId"], parents - {None}, limit=self.settings.batch_size
                )

    def _parents_done(self, shard: ShardState) -> bool:
        return all(self.shards[p].done for p in shard.parents if p in self.shards)

    # One shard, one step: read if needed, then deliver at most one batch.

    def step(self, shard: ShardState) -> None:
        """Read the shard if its batch needs more records, then invoke at most once."""
        now = self.clock()
        wants_records = len(shard.buffer) < self.settings.batch_size and not shard.closed
        if wants_records and now - shard.last_read >= READ_INTERVAL:
            self._read(shard)
            now = self.clock()
        if not shard.buffer:
            shard.next_time = shard.last_read + (
                READ_INTERVAL if shard.behind_millis else IDLE_INTERVAL
            )
            return
        if self._expire_old_records(shard):
            return
        window_ends = (shard.first_buffered_at or now) + self.settings.batching_window
        if len(shard.buffer) < self.settings.batch_size and now < window_ends and not shard.closed:
            shard.next_time = min(window_ends, shard.last_read + READ_INTERVAL)
            return
        self._deliver(shard, self._batch(shard))

    def _read(self, shard: ShardState) -> None:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard.shard_id)
        page = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=PAGE_LIMIT)
        shard.last_read = self.clock()
        shard.behind_millis = int(page.get("MillisBehindLatest", 0))
        for record in page["Records"]:
            if record_passes(self.patterns, record):
                if not shard.buffer:
                    shard.first_buffered_at = shard.last_read
                shard.buffer.append(record)
            elif not shard.buffer:
                # Filtered out: the checkpoint advances past it.
                self.checkpoints[shard.shard_id] = record["SequenceNumber"]
        shard.iterator = page.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True

    def _iterator(self, shard_id: str) -> str:
        request: dict[str, Any] = {"StreamName": self.settings.stream_name, "ShardId": shard_id}
        checkpoint = self.checkpoints.get(shard_id)
        if checkpoint is not None:
            request.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=checkpoint
            )
        elif self.settings.starting_position == "AT_TIMESTAMP":
            request.update(
                ShardIteratorType="AT_TIMESTAMP", Timestamp=self.settings.starting_timestamp
            )
        else:
            request["ShardIteratorType"] = self.settings.starting_position
        return self.kinesis.get_shard_iterator(**request)["ShardIterator"]

    def _batch(self, shard: ShardState) -> list[dict[str, Any]]:
        batch, size = [], 0
        for record in shard.buffer:
            record_size = len(record["Data"]) * 4 // 3 + RECORD_OVERHEAD
            if len(batch) == shard.limit or (batch and size + record_size > PAYLOAD_LIMIT):
                break
            batch.append(record)
            size += record_size
        return batch

    def _expire_old_records(self, shard: ShardState) -> bool:
        """Send the batch info of records past MaximumRecordAgeInSeconds to the destination."""
        if self.settings.max_record_age < 0:
            return False
        oldest_allowed = time.time() - self.settings.max_record_age
        expired = []
        for record in shard.buffer:
            if epoch_seconds(record["ApproximateArrivalTimestamp"]) >= oldest_allowed:
                break
            expired.append(record)
        if not expired:
            return False
        self._discard(shard, expired, "RecordAgeExceeded", invoke_count=0)
        return True

    def _deliver(self, shard: ShardState, batch: list[dict[str, Any]]) -> None:
        invocation = self.invoke(
            lambda_event(
                batch,
                shard_id=shard.shard_id,
                stream_arn=self.settings.stream_arn,
                region=self.region,
                role_arn=self.role_arn,
            )
        )
        failed_from = self._failed_from(batch, invocation)
        if failed_from is None:
            self._done(shard, batch)
            shard.last_result = f"OK: {len(batch)} records"
            return
        self._done(shard, batch[:failed_from])
        failed = batch[failed_from:]
        shard.last_result = f"PROBLEM: {self._describe(invocation)}"
        shard.next_time = self.clock() + RETRY_DELAY
        if self.settings.bisect and len(failed) > 1:
            shard.limit = math.ceil(len(failed) / 2)
            return
        shard.attempts += 1
        if 0 <= self.settings.max_retries < shard.attempts:
            self._discard(shard, failed, "RetryAttemptsExhausted", invoke_count=shard.attempts)

    def _failed_from(self, batch: list[dict[str, Any]], invocation: Invocation) -> int | None:
        """Index of the first record to retry, or None when the batch succeeded."""
        if invocation.error:
            return 0
        answer = invocation.answer
        if not self.settings.report_item_failures or not isinstance(answer, dict):
            return None
        failures = answer.get("batchItemFailures")
        if not failures:
            return None
        positions = {record["SequenceNumber"]: i for i, record in enumerate(batch)}
        identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if not all(identifier in positions for identifier in identifiers):
            return 0  # an empty, null or unknown itemIdentifier fails the whole batch
        return min(positions[identifier] for identifier in identifiers)

    def _done(self, shard: ShardState, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        for _ in records:
            shard.buffer.popleft()
        self.checkpoints[shard.shard_id] = records[-1]["SequenceNumber"]
        shard.attempts = 0
        shard.limit = self.settings.batch_size
        shard.first_buffered_at = shard.last_read if shard.buffer else None
        shard.next_time = self.clock()

    def _discard(
        self, shard: ShardState, records: list[dict[str, Any]], condition: str, invoke_count: int
    ) -> None:
        if self.settings.destination:
            self.send_to_destination(
                self.settings.destination,
                on_failure_record(
                    records,
                    shard_id=shard.shard_id,
                    stream_arn=self.settings.stream_arn,
                    function_arn=self.settings.function_arn,
                    condition=condition,
                    invoke_count=invoke_count,
                ),
            )
        self._done(shard, records)
        shard.last_result = f"PROBLEM: {condition}: {len(records)} records discarded"

    @staticmethod
    def _describe(invocation: Invocation) -> str:
        if invocation.error:
            return f"{invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}"
        return "partial batch failure: " + json.dumps(invocation.answer)[:200]
