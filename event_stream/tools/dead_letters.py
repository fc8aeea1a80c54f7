"""A consumer's dead-letter queue: read the failed batches back, and redrive them.

Lambda's on-failure record for a Kinesis batch holds only where the batch was
(`KinesisBatchInfo`: shard, first and last sequence number, size, stream), not the events
("Retain discarded batch records for a Kinesis Data Streams event source"). The events are
fetched back from the stream by sequence number while they are still there, and from the
stage's event lake once the stream has forgotten them; the mapping's filter is applied
again, so a redrive delivers exactly the records the batch held. A record in neither place
is lost: the batch says so, with its coordinates, and is never redriven short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from event_stream.lambda_src import event_envelope
from event_stream.tools.errors import UserError
from event_stream.tools.local.event_filter import patterns_of, record_passes
from event_stream.tools.local.kinesis_event import first_failed
from event_stream.tools.stream_reader import PAGE_LIMIT

# Long enough to list and redrive a queue; messages not deleted are released at the end.
RECEIVE_VISIBILITY_SECONDS = 900
# What Kinesis answers for a shard or a sequence number past the stream's retention.
GONE = ("ResourceNotFoundException", "InvalidArgumentException")


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
    records: list[dict[str, Any]]
    from_lake: int = 0  # how many of the records came from the lake

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
            "events": [_decoded(record["Data"]) for record in self.records],
        }


@dataclass(frozen=True)
class Consumer:
    """A function's Kinesis mapping as the dead-letter tools need it."""

    function_name: str
    queue_url: str
    stream_arn: str
    filter_patterns: list[dict[str, Any]]


def consumer_of(lambda_client: Any, sqs: Any, function_name: str) -> Consumer:
    """The function's Kinesis mapping and its on-failure queue, or `UserError`."""
    try:
        mappings = lambda_client.list_event_source_mappings(FunctionName=function_name)[
            "EventSourceMappings"
        ]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise UserError(f"there is no function {function_name}") from None
        raise
    for mapping in mappings:
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if ":kinesis:" in mapping["EventSourceArn"] and destination and ":sqs:" in destination:
            queue_name = destination.rsplit(":", 1)[-1]
            return Consumer(
                function_name=function_name,
                queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                stream_arn=mapping["EventSourceArn"],
                filter_patterns=patterns_of(mapping.get("FilterCriteria")),
            )
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
    lake: Callable[[str, str, str, tuple[str, str]], list[dict[str, Any]]] | None = None,
) -> FailedBatch:
    """Read an on-failure record and fetch its batch back: from the stream, and what the
    stream no longer has from `lake(shard, start, end, (first, last arrival))`."""
    try:
        body = json.loads(message["Body"])
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
        for record in _range(kinesis, stream_arn, shard_id, start, end, batch_size)
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
        if record_passes(consumer.filter_patterns, found[sequence])
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


def _range(
    kinesis: Any, stream_arn: str, shard_id: str, start: str, end: str, limit: int
) -> list[dict[str, Any]]:
    """The shard's records from `start` to `end` (inclusive) that are still on the stream."""
    stream_name = stream_arn.split(":stream/", 1)[-1]
    try:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=start,
        )["ShardIterator"]
    except ClientError as error:
        if error.response["Error"]["Code"] in (
            "ResourceNotFoundException",
            "InvalidArgumentException",
        ):
            return []  # the shard or the records are gone: all expired
        raise
    found: list[dict[str, Any]] = []
    last = int(end)
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=PAGE_LIMIT)
        for record in page["Records"]:
            if int(record["SequenceNumber"]) > last:
                return found
            found.append(record)
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            return found
        iterator = page.get("NextShardIterator")
    return found


def redrive(
    batch: FailedBatch,
    invoke: Callable[[FailedBatch], tuple[Any, dict[str, Any] | None]],
) -> tuple[bool, str]:
    """Invoke the function once with the batch's records: `(succeeded, what happened)`.

    `invoke(batch)` answers `(answer, error)`. Success is no function error and no
    reported batch item failure.
    """
    if batch.missing:
        return False, (
            f"LOST: {batch.missing} of the batch's {batch.batch_size} records are neither on "
            f"the stream nor in the lake ({batch.shard_id}, sequence numbers {batch.start} to "
            f"{batch.end}); not redriven short, the message stays queued"
        )
    answer, error = invoke(batch)
    if error:
        return False, f"{error.get('errorType')}: {error.get('errorMessage')}"
    if first_failed(batch.records, answer, None, reports_item_failures=True) is not None:
        return False, f"the function reported failed records: {answer['batchItemFailures']}"
    return True, f"redelivered {len(batch.records)} records"


def _decoded(data: bytes) -> Any:
    try:
        return event_envelope.decode(data)
    except ValueError:
        return {"notAnEnvelope": data.decode("utf-8", "replace")[:200]}
