"""Where a mapping's discarded batches go: its SQS queue, SNS topic or S3 bucket, the record as sent."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.local.destinations import Destinations, s3_object_key

RECORD = {"KinesisBatchInfo": {"shardId": "shardId-000000000000", "batchSize": 1}}


@pytest.fixture
def destinations(aws_credentials):
    with mock_aws():
        yield Destinations(lambda service: boto3.client(service, region_name="us-east-1"))


def test_an_sqs_destination_gets_the_on_failure_record(destinations):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="consumer-dlq")["QueueUrl"]
    destinations.send("arn:aws:sqs:us-east-1:123456789012:consumer-dlq", RECORD)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == RECORD


def test_an_sns_destination_gets_the_on_failure_record(destinations):
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="consumer-failures")["TopicArn"]
    url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    destinations.send(topic, RECORD)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == RECORD


def test_any_other_destination_is_refused_by_name(destinations):
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    with pytest.raises(ValueError, match=f"unsupported on-failure destination {table}"):
        destinations.send(table, RECORD)


def test_an_s3_destination_gets_the_record_under_lambdas_key(destinations):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="discarded")
    key = s3_object_key("uuid-1", "shardId-000000000000", 1_765_000_000.0)
    destinations.send("arn:aws:s3:::discarded", RECORD, object_key=key)
    assert key.startswith("aws/lambda/uuid-1/shardId-000000000000/2025/12/06/2025-12-06T05.46.40-")
    body = s3.get_object(Bucket="discarded", Key=key)["Body"].read()
    assert json.loads(body) == RECORD


def test_an_s3_destination_without_a_key_is_refused(destinations):
    with pytest.raises(ValueError, match="an S3 destination needs the object's key"):
        destinations.send("arn:aws:s3:::discarded", RECORD)
