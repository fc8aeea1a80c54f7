"""The local AWS's Firehose: delivery streams with a Kinesis source, delivered to S3 as
Firehose delivers them. moto stores such a delivery stream but never reads its source.

Each rule names its source in the Amazon Data Firehose developer guide:
- reading starts at the LATEST position of the stream when the delivery stream is created,
  and each shard is read with GetRecords once a second ("Configure source settings for
  Amazon Kinesis Data Streams");
- records are buffered until `BufferingHints.SizeInMBs` or `IntervalInSeconds`, whichever
  comes first ("Configure buffering hints");
- with a Lambda processor, the buffered records are sent to the function as `records[]`
  (`recordId`, `approximateArrivalTimestamp`, base64 `data`, `kinesisRecordMetadata`) and
  each must come back with its `recordId` and `result` Ok, Dropped or ProcessingFailed; a
  failed invocation is retried `NumberOfRetries` times (3 by default), then its records
  are unsuccessfully processed ("Transform source data", "Required parameters for data
  transformation", "Handle failure in data transformation");
- unsuccessfully processed records go under the error prefix
  (`!{firehose:error-output-type}` = `processing-failed`) as JSON lines of `attemptsMade`,
  `arrivalTimestamp`, `errorCode`, `errorMessage`, `attemptEndingTimestamp`, `rawData`,
  `lambdaArn` ("Handle failure in data transformation");
- object keys are `<evaluated prefix><name>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>`
  plus `.gz` for GZIP, the prefix's `!{timestamp:...}` taken from the oldest record in the
  object, in UTC ("Configure Amazon S3 object name format", "Custom Prefixes for Amazon S3
  Objects").
Chosen here [C]: the suffix's time is the time of writing; error records are compressed as
the data is; the errorCode of a record the function marked ProcessingFailed is
`Lambda.ProcessingFailedStatus`.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from event_stream.tools.local.kinesis_event import epoch_seconds
from event_stream.tools.local.runner import Invocation
from event_stream.tools.stream_reader import IDLE_INTERVAL, PAGE_LIMIT, list_shards

DISCOVERY_INTERVAL = 1.0
STATUS_FILE = "lake.json"  # beside the event source poller's status, for `local status`
DEFAULT_RETRIES = 3
PROCESSOR_BATCH_BYTES = 1024 * 1024  # a Lambda processor's default BufferSizeInMBs
_JAVA_TIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}

Invoke = Callable[[str, dict[str, Any]], Invocation]


def evaluate_prefix(prefix: str, oldest: datetime, error_type: str = "") -> str:
    """A Firehose S3 prefix with its expressions evaluated (UTC), or the default one."""
    if not prefix:
        return oldest.strftime("%Y/%m/%d/%H/")

    def timestamp(match: re.Match[str]) -> str:
        java = match[1]
        return oldest.strftime(re.sub("yyyy|MM|dd|HH|mm|ss", lambda m: _JAVA_TIME[m[0]], java))

    evaluated = re.sub(r"!\{timestamp:([^}]*)\}", timestamp, prefix)
    evaluated = evaluated.replace("!{firehose:error-output-type}", error_type)
    return evaluated.replace("!{firehose:random-string}", uuid.uuid4().hex[:11])


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None = None
    closed: bool = False
    next_read: float = 0.0
    behind_millis: int = 0


@dataclass
class DeliverySettings:
    """What the local Firehose API reports of a delivery stream."""

    name: str
    version: str
    stream_arn: str
    created: datetime
    bucket: str
    prefix: str
    error_prefix: str
    gzip: bool
    interval: float
    size_bytes: int
    processor_arn: str | None
    retries: int

    @classmethod
    def from_api(cls, description: dict[str, Any]) -> DeliverySettings | None:
        """None for what this emulator does not deliver (not a Kinesis source into S3)."""
        source = (description.get("Source") or {}).get("KinesisStreamSourceDescription")
        destinations = description.get("Destinations") or [{}]
        s3 = destinations[0].get("ExtendedS3DestinationDescription")
        if not source or not s3:
            return None
        hints = s3.get("BufferingHints") or {}
        processing = s3.get("ProcessingConfiguration") or {}
        parameters = {}
        if processing.get("Enabled"):
            (processor,) = processing.get("Processors") or [{}]
            parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
        created = description.get("CreateTimestamp") or datetime.now(UTC)
        return cls(
            name=description["DeliveryStreamName"],
            version=str(description.get("VersionId") or "1"),
            stream_arn=source["KinesisStreamARN"],
            created=created if isinstance(created, datetime) else datetime.now(UTC),
            bucket=s3["BucketARN"].rsplit(":", 1)[-1],
            prefix=s3.get("Prefix") or "",
            error_prefix=s3.get("ErrorOutputPrefix") or "",
            gzip=s3.get("CompressionFormat") == "GZIP",
            interval=float(hints.get("IntervalInSeconds", 300)),
            size_bytes=int(hints.get("SizeInMBs", 5)) * 1024 * 1024,
            processor_arn=parameters.get("LambdaArn"),
            retries=int(parameters.get("NumberOfRetries", DEFAULT_RETRIES)),
        )

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[-1]


@dataclass
class _Buffered:
    shard_id: str
    record: dict[str, Any]


@dataclass
class DeliveryRunner:
    """One delivery stream: read its shards, buffer, transform, write objects."""

    settings: DeliverySettings
    kinesis: Any
    s3: Any
    invoke: Invoke
    clock: Callable[[], float] = time.monotonic
    shards: dict[str, _Shard] = field(default_factory=dict)
    buffer: list[_Buffered] = field(default_factory=list)
    buffered_bytes: int = 0
    first_buffered_at: float | None = None
    written: int = 0
    problem: str = ""

    def step(self) -> None:
        """Read the shards that are due, then flush the buffer if its hints say so."""
        if not self.shards:
            self._discover()
        now = self.clock()
        for shard in self.shards.values():
            if not shard.closed and now >= shard.next_read:
                self._read(shard)
                shard.next_read = now + IDLE_INTERVAL  # GetRecords once a second per shard
        if self.buffer and (
            self.buffered_bytes >= self.settings.size_bytes
            or self.clock() - (self.first_buffered_at or now) >= self.settings.interval
        ):
            self.flush()

    def _discover(self) -> None:
        for shard in list_shards(self.kinesis, self.settings.stream_name):
            self.shards.setdefault(shard["ShardId"], _Shard(shard["ShardId"]))

    def _read(self, shard: _Shard) -> None:
        if shard.iterator is None:
            shard.iterator = self.kinesis.get_shard_iterator(
                StreamName=self.settings.stream_name,
                ShardId=shard.shard_id,
                ShardIteratorType="AT_TIMESTAMP",  # LATEST as of the delivery stream's creation
                Timestamp=self.settings.created,
            )["ShardIterator"]
        page = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=PAGE_LIMIT)
        shard.behind_millis = int(page.get("MillisBehindLatest", 0))
        for record in page["Records"]:
            if not self.buffer:
                self.first_buffered_at = self.clock()
            self.buffer.append(_Buffered(shard.shard_id, record))
            self.buffered_bytes += len(record["Data"])
        shard.iterator = page.get("NextShardIterator")
        shard.closed = shard.iterator is None

    def flush(self) -> None:
        """Transform what is buffered and write it: the lake's object, and the errors'."""
        buffered, self.buffer = self.buffer, []
        self.buffered_bytes, self.first_buffered_at = 0, None
        delivered: list[tuple[datetime, bytes]] = []
        failed: list[tuple[datetime, dict[str, Any]]] = []
        for chunk in _chunks(buffered, PROCESSOR_BATCH_BYTES):
            outcome, errors = self._transform(chunk)
            delivered += outcome
            failed += errors
        if delivered:
            self._write(self.settings.prefix, delivered)
        if failed:
            lines = [(at, (json.dumps(error) + "\n").encode()) for at, error in failed]
            self._write(self.settings.error_prefix, lines, error_type="processing-failed")

    def _transform(
        self, chunk: list[_Buffered]
    ) -> tuple[list[tuple[datetime, bytes]], list[tuple[datetime, dict[str, Any]]]]:
        arrivals = [_arrival(b.record) for b in chunk]
        if not self.settings.processor_arn:
            return [(at, b.record["Data"]) for at, b in zip(arrivals, chunk, strict=True)], []
        ids = [f"{b.shard_id}:{b.record['SequenceNumber']}" for b in chunk]
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": f"deliverystream/{self.settings.name}",
            "sourceKinesisStreamArn": self.settings.stream_arn,
            "region": self.settings.stream_arn.split(":")[3],
            "records": [_firehose_record(i, b) for i, b in zip(ids, chunk, strict=True)],
        }
        attempts, invocation = 0, None
        while attempts <= self.settings.retries:
            attempts += 1
            invocation = self.invoke(self.settings.processor_arn, event)
            if not invocation.error:
                break
        answered = {}
        if invocation and not invocation.error and isinstance(invocation.answer, dict):
            answered = {r.get("recordId"): r for r in invocation.answer.get("records") or []}
        delivered, failed = [], []
        for record_id, buffered, at in zip(ids, chunk, arrivals, strict=True):
            result = answered.get(record_id)
            if result and result.get("result") == "Ok" and "data" in result:
                delivered.append((at, base64.b64decode(result["data"])))
            elif result and result.get("result") == "Dropped":
                continue
            else:
                failed.append((at, self._error_record(buffered, at, attempts, invocation, result)))
        self.problem = "" if invocation and not invocation.error else self._describe(invocation)
        return delivered, failed

    def _error_record(
        self,
        buffered: _Buffered,
        at: datetime,
        attempts: int,
        invocation: Invocation | None,
        result: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if invocation is None or invocation.error:
            code, message = "Lambda.FunctionError", self._describe(invocation)
        elif result is None:
            code, message = "Lambda.MissingRecordId", "the function answered no such recordId"
        else:
            code = "Lambda.ProcessingFailedStatus"
            message = "ProcessingFailed status set for record"
        return {
            "attemptsMade": attempts,
            "arrivalTimestamp": int(at.timestamp() * 1000),
            "errorCode": code,
            "errorMessage": message,
            "attemptEndingTimestamp": int(time.time() * 1000),
            "rawData": base64.b64encode(buffered.record["Data"]).decode("ascii"),
            "lambdaArn": self.settings.processor_arn,
        }

    def _write(
        self, prefix: str, parts: list[tuple[datetime, bytes]], error_type: str = ""
    ) -> None:
        oldest = min(at for at, _ in parts)
        written = datetime.now(UTC)
        key = (
            evaluate_prefix(prefix, oldest, error_type)
            + f"{self.settings.name}-{self.settings.version}-"
            + written.strftime("%Y-%m-%d-%H-%M-%S-")
            + str(uuid.uuid4())
            + (".gz" if self.settings.gzip else "")
        )
        body = b"".join(data for _, data in parts)
        self.s3.put_object(
            Bucket=self.settings.bucket,
            Key=key,
            Body=gzip.compress(body) if self.settings.gzip else body,
        )
        self.written += 1

    def status(self) -> dict[str, Any]:
        """Where this delivery stream stands, for `local status`."""
        return {
            "name": self.settings.name,
            "stream": self.settings.stream_name,
            "bucket": self.settings.bucket,
            "recordsBuffered": len(self.buffer),
            "objectsWritten": self.written,
            "problem": self.problem,
            "shards": [
                {"shardId": s.shard_id, "millisBehindLatest": s.behind_millis}
                for s in list(self.shards.values())
            ],
        }

    @staticmethod
    def _describe(invocation: Invocation | None) -> str:
        if invocation is None or not invocation.error:
            return ""
        return f"{invocation.error.get('errorType')}: {invocation.error.get('errorMessage')}"


def _arrival(record: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(epoch_seconds(record["ApproximateArrivalTimestamp"]), tz=UTC)


def _firehose_record(record_id: str, buffered: _Buffered) -> dict[str, Any]:
    record = buffered.record
    arrival_ms = round(epoch_seconds(record["ApproximateArrivalTimestamp"]) * 1000)
    return {
        "recordId": record_id,
        "approximateArrivalTimestamp": arrival_ms,
        "data": base64.b64encode(record["Data"]).decode("ascii"),
        "kinesisRecordMetadata": {
            "sequenceNumber": record["SequenceNumber"],
            "subsequenceNumber": 0,
            "partitionKey": record["PartitionKey"],
            "shardId": buffered.shard_id,
            "approximateArrivalTimestamp": arrival_ms,
        },
    }


def _chunks(buffered: list[_Buffered], limit: int) -> list[list[_Buffered]]:
    chunks: list[list[_Buffered]] = []
    size = 0
    for item in buffered:
        if not chunks or size + len(item.record["Data"]) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item.record["Data"])
    return chunks


class LakePoller:
    """Finds the local AWS's Kinesis-sourced delivery streams and delivers them."""

    def __init__(self, client: Callable[[str], Any], invoke: Invoke, state_dir: Path) -> None:
        self.client = client
        self.invoke = invoke
        self.state_dir = state_dir
        self.runners: dict[str, DeliveryRunner] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lake-poller", daemon=True)

    def start(self) -> LakePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        firehose, kinesis, s3 = (self.client(s) for s in ("firehose", "kinesis", "s3"))
        last_discovery = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_discovery >= DISCOVERY_INTERVAL:
                    self._write_status()  # once a second is what `local status` needs
                    self.discover(firehose, kinesis, s3)
                    last_discovery = time.monotonic()
                for runner in list(self.runners.values()):
                    runner.step()
            except Exception as error:  # the emulator must outlive a bad moment
                for runner in self.runners.values():
                    runner.problem = f"{type(error).__name__}: {error}"
            self._stop.wait(0.2)

    def _write_status(self) -> None:
        path = self.state_dir / STATUS_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps([r.status() for r in list(self.runners.values())]))
        temporary.replace(path)

    def discover(self, firehose: Any, kinesis: Any, s3: Any) -> None:
        """Start and stop runners to match the delivery streams there are now."""
        names = firehose.list_delivery_streams(Limit=10_000)["DeliveryStreamNames"]
        for name in names:
            description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
                "DeliveryStreamDescription"
            ]
            settings = DeliverySettings.from_api(description)
            known = self.runners.get(name)
            if settings is None or (known and known.settings == settings):
                continue
            if known and known.buffer:
                known.flush()  # a changed configuration: what was read is delivered first
            self.runners[name] = DeliveryRunner(settings, kinesis, s3, self.invoke)
        for name in set(self.runners) - set(names):
            self.runners.pop(name)


def read_status(state_dir: Path) -> list[dict[str, Any]]:
    """What the lake poller last wrote (no file: no delivery streams yet)."""
    try:
        return json.loads((state_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return []
