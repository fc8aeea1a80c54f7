"""A consumer's dead-letter queue: the failed batches, with their records read back.

Lambda's on-failure record for a Kinesis batch holds only where the batch was
(`KinesisBatchInfo`: shard, first and last sequence number, size, stream), not the events
("Retain discarded batch records for a Kinesis Data Streams event source"). The events are
fetched back from the stream by sequence number while they are still there, and from the
stage's event lake once the stream has forgotten them; the mapping's filter is applied
again, so a redrive delivers exactly the records the batch held. A record in neither place
is lost: the batch says so, with its coordinates, and is never redriven short.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools import arns
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.event_filter import record_passes
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.readers import lake_reader
from event_stream.tools.readers.deployed import mappings_of
from event_stream.tools.readers.shard_reader import read_range

# Long enough to list and redrive a queue; messages not deleted are released at the end.
RECEIVE_VISIBILITY_SECONDS = 900
# Reads a batch's records from the lake: (shard, first, last sequence number, arrivals).
LakeSource = Callable[[str, str, str, tuple[str | None, str | None]], list[KinesisRecord]]


@dataclass(frozen=True)
class FailedBatch:
    """One on-failure record and the records of its batch still on the stream."""

    message_id: str
    receipt_handle: str
    condition: str
    shard_id: str
    start: str
    end: str
    batch_size: int
    stream_arn: str
    records: list[KinesisRecord]
    from_lake: int = 0  # how many of the records came from the lake
    violation: str = ""  # for a record the runtime sent because it breaks its contract

    @property
    def missing(self) -> int:
        """Records of the batch found neither on the stream nor in the lake: lost."""
        return max(0, self.batch_size - len(self.records))

    def summary(self) -> dict[str, Any]:
        """What `dlq` prints for the batch: where it was, and its events."""
        return {
            "messageId": self.message_id,
            "condition": self.condition,
            "shardId": self.shard_id,
            "startSequenceNumber": self.start,
            "endSequenceNumber": self.end,
            "batchSize": self.batch_size,
            "fromLake": self.from_lake,
            "lost": self.missing,
            **({"violation": self.violation} if self.violation else {}),
            "events": [_decoded(record["Data"]) for record in self.records],
        }


@dataclass(frozen=True)
class Consumer:
    """A function's Kinesis mapping and the URL of its on-failure queue."""

    mapping: EventSourceMapping
    queue_url: str

    @property
    def function_name(self) -> str:
        return self.mapping.function_name


def consumer_of(lambda_client: Any, sqs: Any, function_name: str) -> Consumer:
    """The function's Kinesis mapping and its on-failure queue, or `UserError`."""
    for mapping in mappings_of(lambda_client, function_name):
        destination = mapping.destination
        if mapping.is_kinesis and destination and arns.service(destination) == "sqs":
            queue_name = arns.resource_name(destination)
            return Consumer(mapping, sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
    raise UserError(
        f"{function_name} has no Kinesis event source mapping with an SQS on-failure "
        "destination (is it a StreamProcessor?)"
    )


def receive_all(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue, each kept invisible to others while we work on it."""
    messages: dict[str, dict[str, Any]] = {}
    while True:
        page = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,  # long polling asks every server: short polling may miss some
        ).get("Messages", [])
        if not page:
            return list(messages.values())
        for message in page:
            messages[message["MessageId"]] = message


def release(sqs: Any, queue_url: str, message: dict[str, Any]) -> None:
    """Make a message visible again at once (it stays in the queue)."""
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def failed_batch(
    kinesis: Any,
    consumer: Consumer,
    message: dict[str, Any],
    lake: LakeSource | None = None,
) -> FailedBatch:
    """Read an on-failure record and fetch its batch back: from the stream, and what the
    stream no longer has from `lake(shard, start, end, (first, last arrival))`."""
    try:
        body = json.loads(message["Body"])
        if "contractViolation" in body:
            return _violation(message, body["contractViolation"])
        info = body["KinesisBatchInfo"]
        shard_id, start, end = (
            info["shardId"],
            info["startSequenceNumber"],
            info["endSequenceNumber"],
        )
        batch_size, stream_arn = int(info["batchSize"]), info["streamArn"]
    except (ValueError, KeyError, TypeError):
        raise UserError(
            f"message {message['MessageId']} is not a Lambda on-failure record for Kinesis"
        ) from None
    found = {
        record["SequenceNumber"]: record
        for record in read_range(kinesis, arns.stream_name(stream_arn), shard_id, start, end)
    }
    from_lake = 0
    if lake is not None and len(found) < batch_size:
        window = (
            info.get("approximateArrivalOfFirstRecord"),
            info.get("approximateArrivalOfLastRecord"),
        )
        for record in lake(shard_id, start, end, window):
            if record["SequenceNumber"] not in found:
                found[record["SequenceNumber"]] = record
                from_lake += 1
    records = [
        found[sequence]
        for sequence in sorted(found, key=int)
        if record_passes(consumer.mapping.patterns, found[sequence])
    ]
    return FailedBatch(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        condition=body.get("requestContext", {}).get("condition", ""),
        shard_id=shard_id,
        start=start,
        end=end,
        batch_size=batch_size,
        stream_arn=stream_arn,
        records=records,
        from_lake=from_lake,
    )


def _violation(message: dict[str, Any], violation: dict[str, Any]) -> FailedBatch:
    """A record the consumer runtime dead-lettered itself (it breaks its contract): the
    message holds the record, so nothing is fetched back."""
    sequence = violation["sequenceNumber"]
    arrival = violation.get("approximateArrivalTimestamp")
    record: KinesisRecord = {
        "SequenceNumber": sequence,
        "PartitionKey": violation["partitionKey"],
        "Data": base64.b64decode(violation["data"]),
        "ApproximateArrivalTimestamp": datetime.fromtimestamp(
            float(arrival) if arrival is not None else 0, tz=UTC
        ),
    }
    return FailedBatch(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        condition="ContractViolation",
        shard_id=violation["shardId"],
        start=sequence,
        end=sequence,
        batch_size=1,
        stream_arn=violation["eventSourceARN"],
        records=[record],
        violation=violation["violation"],
    )


def lake_source(cloudformation: Any, s3: Any, stream_arn: str) -> LakeSource | None:
    """Read a batch's records from the stage's lake, if the stage keeps one."""
    bucket = lake_reader.lake_of_stream(cloudformation, stream_arn)
    if bucket is None:
        return None
    stream_name = arns.stream_name(stream_arn)

    def records(
        shard: str, start: str, end: str, window: tuple[str | None, str | None]
    ) -> list[KinesisRecord]:
        first, last = (
            datetime.fromisoformat(t.replace("Z", "+00:00")) if t else None for t in window
        )
        arrivals = (first, last)
        return lake_reader.records_in_range(s3, bucket, stream_name, shard, start, end, arrivals)

    return records


def _decoded(data: bytes) -> Any:
    try:
        return event_envelope.decode(data)
    except ValueError:
        return {"notAnEnvelope": data.decode("utf-8", "replace")[:200]}
