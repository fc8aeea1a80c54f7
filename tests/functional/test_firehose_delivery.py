"""The local Firehose on in-process moto: a Kinesis-sourced delivery stream read from its
creation, buffered, passed through the lake's real transformer and written to S3 as
Firehose writes (keys, GZIP, error prefix), stepped on a fake clock."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time

import boto3
import pytest
from moto import mock_aws

from event_stream.lake import lake_prefixes
from event_stream.lambda_src import lake_transformer
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.local.firehose_delivery import DeliverySettings, DeliveryStream
from event_stream.tools.local.firehose_records import evaluate_prefix

STREAM = "dev-cncb-event-stream-s1"
BUCKET = "lake-bucket"
TRANSFORMER = "arn:aws:lambda:us-east-1:123456789012:function:cncb-event-stream-dev-lake"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield kinesis, s3


def envelope(n: int) -> bytes:
    body = {
        "id": f"id-{n}",
        "type": "thing-created",
        "timestamp": n,
        "partitionKey": "k",
        "tags": {},
    }
    return json.dumps(body).encode()


def put(kinesis, *datas: bytes) -> None:
    for data in datas:
        kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=data)


def delivery(
    kinesis, s3, invoke, interval: int = 60, size_mib: int = 5
) -> tuple[DeliveryStream, Clock]:
    stream_arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    prefix, error_prefix = lake_prefixes(STREAM)
    firehose = boto3.client("firehose", region_name="us-east-1")
    firehose.create_delivery_stream(
        DeliveryStreamName="dev-cncb-event-stream-lake",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": stream_arn,
            "RoleARN": "arn:aws:iam::123456789012:role/r",
        },
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "Prefix": prefix,
            "ErrorOutputPrefix": error_prefix,
            "CompressionFormat": "GZIP",
            "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": size_mib},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": TRANSFORMER}
                        ],
                    }
                ],
            },
        },
    )
    description = firehose.describe_delivery_stream(DeliveryStreamName="dev-cncb-event-stream-lake")
    settings = DeliverySettings.from_api(description["DeliveryStreamDescription"])
    clock = Clock()
    return DeliveryStream(settings, kinesis, s3, invoke, clock=clock), clock


def transformer(calls=None):
    """The lake's real transformer, as the function Firehose invokes."""

    def invoke(arn, event):
        if calls is not None:
            calls.append(event)
        return Invocation(lake_transformer.handler(event), None, [])

    return invoke


def objects(s3, prefix: str) -> dict[str, list[dict]]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {
        o["Key"]: [
            json.loads(line)
            for line in gzip.decompress(
                s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            ).splitlines()
        ]
        for o in listed
    }


def test_events_published_before_the_lake_was_created_are_not_in_it(aws):
    kinesis, s3 = aws
    put(kinesis, envelope(0))
    time.sleep(0.01)
    runner, clock = delivery(kinesis, s3, transformer())
    time.sleep(0.01)
    put(kinesis, envelope(1))
    runner.step()
    clock.now += 61
    runner.step()
    (lines,) = objects(s3, f"{STREAM}/").values()
    assert [line["event"]["id"] for line in lines] == ["id-1"]


def test_nothing_is_written_before_the_buffer_interval(aws):
    kinesis, s3 = aws
    runner, clock = delivery(kinesis, s3, transformer(), interval=60)
    put(kinesis, envelope(1))
    runner.step()
    clock.now += 59
    runner.step()
    assert objects(s3, "") == {}
    clock.now += 2
    runner.step()
    assert len(objects(s3, f"{STREAM}/")) == 1


def test_a_full_buffer_is_written_before_the_interval(aws):
    kinesis, s3 = aws
    runner, _ = delivery(kinesis, s3, transformer(), interval=900, size_mib=1)
    big = json.dumps(
        {
            "id": "big",
            "type": "t",
            "timestamp": 1,
            "partitionKey": "k",
            "tags": {},
            "pad": "x" * 600_000,
        }
    )
    put(kinesis, big.encode(), big.encode())
    runner.step()
    assert len(objects(s3, f"{STREAM}/")) == 1


def test_the_object_holds_one_lake_line_per_event_in_order_with_kinesis_coordinates(aws):
    kinesis, s3 = aws
    runner, clock = delivery(kinesis, s3, transformer())
    put(kinesis, *(envelope(n) for n in range(3)))
    runner.step()
    clock.now += 61
    runner.step()
    (lines,) = objects(s3, f"{STREAM}/").values()
    assert [line["event"]["id"] for line in lines] == ["id-0", "id-1", "id-2"]
    assert set(lines[0]["kinesis"]) == {
        "shardId",
        "sequenceNumber",
        "partitionKey",
        "approximateArrivalTimestamp",
    }
    assert lines[0]["kinesis"]["shardId"] == "shardId-000000000000"


def test_the_key_is_firehoses_name_format_under_the_utc_hour(aws):
    kinesis, s3 = aws
    runner, clock = delivery(kinesis, s3, transformer())
    put(kinesis, envelope(1))
    runner.step()
    clock.now += 61
    runner.step()
    (key,) = objects(s3, "")
    hour = r"\d{4}/\d{2}/\d{2}/\d{2}"
    stamp = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
    assert re.fullmatch(
        rf"{STREAM}/{hour}/dev-cncb-event-stream-lake-1-{stamp}-[0-9a-f-]{{36}}\.gz", key
    ), key


def test_a_record_that_is_not_an_envelope_goes_under_the_error_prefix_untouched(aws):
    kinesis, s3 = aws
    runner, clock = delivery(kinesis, s3, transformer())
    put(kinesis, envelope(1), b"not an envelope")
    runner.step()
    clock.now += 61
    runner.step()
    (errors,) = objects(s3, f"{STREAM}-errors/processing-failed/").values()
    (error,) = errors
    assert set(error) == {
        "attemptsMade",
        "arrivalTimestamp",
        "errorCode",
        "errorMessage",
        "attemptEndingTimestamp",
        "rawData",
        "lambdaArn",
    }
    assert base64.b64decode(error["rawData"]) == b"not an envelope"
    assert (error["errorCode"], error["lambdaArn"]) == (
        "Lambda.ProcessingFailedStatus",
        TRANSFORMER,
    )
    assert [line["event"]["id"] for line in next(iter(objects(s3, f"{STREAM}/").values()))] == [
        "id-1"
    ]


def test_a_failing_transformer_is_retried_then_its_records_go_under_the_error_prefix(aws):
    kinesis, s3 = aws
    calls = []

    def failing(arn, event):
        calls.append(event)
        return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "down"}, [])

    runner, clock = delivery(kinesis, s3, failing)
    put(kinesis, envelope(1))
    runner.step()
    clock.now += 61
    runner.step()
    assert len(calls) == 4  # the first call and Firehose's default 3 retries
    (errors,) = objects(s3, f"{STREAM}-errors/processing-failed/").values()
    assert (errors[0]["errorCode"], errors[0]["attemptsMade"]) == ("Lambda.FunctionError", 4)
    assert objects(s3, f"{STREAM}/") == {}


def test_the_transformer_gets_firehoses_event_shape(aws):
    kinesis, s3 = aws
    calls = []
    runner, clock = delivery(kinesis, s3, transformer(calls))
    put(kinesis, envelope(1))
    runner.step()
    clock.now += 61
    runner.step()
    (record,) = calls[0]["records"]
    assert set(record) == {
        "recordId",
        "approximateArrivalTimestamp",
        "data",
        "kinesisRecordMetadata",
    }
    assert set(record["kinesisRecordMetadata"]) == {
        "sequenceNumber",
        "subsequenceNumber",
        "partitionKey",
        "shardId",
        "approximateArrivalTimestamp",
    }


def test_prefix_expressions_are_evaluated_in_utc():
    from datetime import UTC, datetime

    oldest = datetime(2026, 11, 29, 7, 5, tzinfo=UTC)
    assert evaluate_prefix("s1/!{timestamp:yyyy/MM/dd/HH}/", oldest) == "s1/2026/11/29/07/"
    assert evaluate_prefix("e/!{firehose:error-output-type}/", oldest, "processing-failed") == (
        "e/processing-failed/"
    )
    assert evaluate_prefix("", oldest) == "2026/11/29/07/"
