"""One delivery stream of the local Firehose: a Kinesis source delivered to S3 as Firehose
delivers it. moto stores such a delivery stream but never reads its source.

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
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from event_stream.tools import arns
from event_stream.tools.lambda_model.invocation import Invocation, describe_error
from event_stream.tools.lambda_model.wire import DeliveryStatus, FirehoseEvent
from event_stream.tools.local.firehose_records import (
    Buffered,
    chunks,
    evaluate_prefix,
    firehose_record,
)
from event_stream.tools.readers.shard_reader import ShardCursor, cursors

DEFAULT_RETRIES = 3
PROCESSOR_BATCH_BYTES = 1024 * 1024  # a Lambda processor's default BufferSizeInMBs

Invoke = Callable[[str, Any], Invocation]  # (function ARN, event)


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
            bucket=arns.resource_name(s3["BucketARN"]),
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
        return arns.stream_name(self.stream_arn)


@dataclass
class DeliveryStream:
    """One delivery stream: read its shards, buffer, transform, write objects."""

    settings: DeliverySettings
    kinesis: Any
    s3: Any
    invoke: Invoke
    clock: Callable[[], float] = time.monotonic
    shards: dict[str, ShardCursor] = field(default_factory=dict)
    buffer: list[Buffered] = field(default_factory=list)
    buffered_bytes: int = 0
    first_buffered_at: float | None = None
    written: int = 0
    problem: str = ""

    def step(self) -> None:
        """Read the shards that are due, then flush the buffer if its hints say so."""
        if not self.shards:
            self.shards = {
                cursor.shard_id: cursor
                for cursor in cursors(
                    self.kinesis, self.settings.stream_name, self._start, clock=self.clock
                )
            }
        now = self.clock()
        for cursor in self.shards.values():
            if not cursor.closed and now >= cursor.next_read(busy=False):  # once a second
                for record in cursor.read():
                    if not self.buffer:
                        self.first_buffered_at = self.clock()
                    self.buffer.append(Buffered(cursor.shard_id, record))
                    self.buffered_bytes += len(record["Data"])
        if self.buffer and (
            self.buffered_bytes >= self.settings.size_bytes
            or self.clock() - (self.first_buffered_at or now) >= self.settings.interval
        ):
            self.flush()

    def _start(self, shard_id: str) -> dict[str, Any]:
        # LATEST as of the delivery stream's creation.
        return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": self.settings.created}

    def flush(self) -> None:
        """Transform what is buffered and write it: the lake's object, and the errors'."""
        buffered, self.buffer = self.buffer, []
        self.buffered_bytes, self.first_buffered_at = 0, None
        delivered: list[tuple[datetime, bytes]] = []
        failed: list[tuple[datetime, dict[str, Any]]] = []
        for chunk in chunks(buffered, PROCESSOR_BATCH_BYTES):
            outcome, errors = self._transform(chunk)
            delivered += outcome
            failed += errors
        if delivered:
            self._write(self.settings.prefix, delivered)
        if failed:
            lines = [(at, (json.dumps(error) + "\n").encode()) for at, error in failed]
            self._write(self.settings.error_prefix, lines, error_type="processing-failed")

    def _transform(
        self, chunk: list[Buffered]
    ) -> tuple[list[tuple[datetime, bytes]], list[tuple[datetime, dict[str, Any]]]]:
        arrivals = [b.arrival for b in chunk]
        if not self.settings.processor_arn:
            return [(at, b.record["Data"]) for at, b in zip(arrivals, chunk, strict=True)], []
        ids = [b.record_id for b in chunk]
        event: FirehoseEvent = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": f"deliverystream/{self.settings.name}",
            "sourceKinesisStreamArn": self.settings.stream_arn,
            "region": arns.region(self.settings.stream_arn),
            "records": [firehose_record(b) for b in chunk],
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
        buffered: Buffered,
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

    def status(self) -> DeliveryStatus:
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
        return describe_error(invocation.error)
