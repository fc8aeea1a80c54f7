"""The wire shapes the tools read and write, as TypedDicts (Powertools' `batch/types.py` does
the same for handlers): what boto3's GetRecords answers, what Lambda sends a Kinesis consumer
and its on-failure destination, what Firehose sends its transformer, and the local AWS's
status files."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict


class KinesisRecord(TypedDict):
    """One record as boto3's `get_records` answers it."""

    SequenceNumber: str
    PartitionKey: str
    Data: bytes
    ApproximateArrivalTimestamp: datetime
    EncryptionType: NotRequired[str]


class LambdaKinesisData(TypedDict):
    kinesisSchemaVersion: str
    partitionKey: str
    sequenceNumber: str
    data: str  # base64
    approximateArrivalTimestamp: float


class LambdaKinesisRecord(TypedDict):
    """One record of the event Lambda sends a Kinesis consumer ("Using AWS Lambda with
    Amazon Kinesis", the example event)."""

    kinesis: LambdaKinesisData
    eventSource: str
    eventVersion: str
    eventID: str
    eventName: str
    invokeIdentityArn: str
    awsRegion: str
    eventSourceARN: str


class KinesisEvent(TypedDict):
    Records: list[LambdaKinesisRecord]


class FunctionError(TypedDict):
    """What a runtime answers for a failed invocation (Lambda's error shape)."""

    errorType: str
    errorMessage: str
    requestId: NotRequired[str]
    stackTrace: NotRequired[list[str]]


class KinesisBatchInfo(TypedDict):
    shardId: str
    startSequenceNumber: str
    endSequenceNumber: str
    approximateArrivalOfFirstRecord: str
    approximateArrivalOfLastRecord: str
    batchSize: int
    streamArn: str


class OnFailureRecord(TypedDict):
    """What Lambda sends an on-failure destination for a discarded Kinesis batch."""

    requestContext: dict[str, Any]
    version: str
    timestamp: str
    KinesisBatchInfo: KinesisBatchInfo
    responseContext: NotRequired[dict[str, Any]]


class FirehoseKinesisMetadata(TypedDict):
    sequenceNumber: str
    subsequenceNumber: int
    partitionKey: str
    shardId: str
    approximateArrivalTimestamp: int


class FirehoseRecord(TypedDict):
    """One record of the event Firehose sends its Lambda transformer."""

    recordId: str
    approximateArrivalTimestamp: int
    data: str  # base64
    kinesisRecordMetadata: FirehoseKinesisMetadata


class FirehoseEvent(TypedDict):
    invocationId: str
    deliveryStreamArn: str
    sourceKinesisStreamArn: str
    region: str
    records: list[FirehoseRecord]


class ShardStatus(TypedDict):
    """One shard of a mapping in the local AWS's status file."""

    shardId: str
    checkpoint: str | None
    recordsBehind: NotRequired[int]
    millisBehindLatest: NotRequired[int]
    lastResult: NotRequired[str]
    batchesInFlight: NotRequired[int]
    deadLettered: NotRequired[int]  # batches, since the local AWS started
    lastDeadLetter: NotRequired[str]  # "TIME: condition: N records discarded"
    lastError: NotRequired[str]  # "TIME: what failed", kept after later successes


class MappingStatus(TypedDict):
    uuid: str
    function: str
    stream: str
    state: str
    shards: list[ShardStatus]


class PollerStatus(TypedDict):
    """`poller.json`: what the local AWS's event source mappings are doing."""

    time: float
    problem: str
    mappings: list[MappingStatus]


class DeliveryShardStatus(TypedDict):
    shardId: str
    millisBehindLatest: int


class DeliveryStatus(TypedDict):
    """One entry of `lake.json`: a delivery stream of the local Firehose."""

    name: str
    stream: str
    bucket: str
    recordsBuffered: int
    objectsWritten: int
    problem: str
    shards: list[DeliveryShardStatus]
