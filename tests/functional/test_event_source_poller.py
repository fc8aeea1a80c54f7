"""The poller's side of a mapping: where discarded batches go, and what it finds."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.local.event_source_poller import Poller, read_status

RECORD = {"KinesisBatchInfo": {"shardId": "shardId-000000000000", "batchSize": 1}}


@pytest.fixture
def poller(aws_credentials, tmp_path, monkeypatch):
    with mock_aws():
        poller = Poller(
            "http://localhost:1", account="123456789012", region="us-east-1", state_dir=tmp_path
        )
        monkeypatch.setattr(
            poller, "client", lambda service: boto3.client(service, region_name="us-east-1")
        )
        yield poller


def test_an_sqs_destination_gets_the_on_failure_record(poller):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="consumer-dlq")["QueueUrl"]
    poller._send_to_destination("arn:aws:sqs:us-east-1:123456789012:consumer-dlq", RECORD)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == RECORD


def test_an_sns_destination_gets_the_on_failure_record(poller):
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
    poller._send_to_destination(topic, RECORD)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == RECORD


def test_with_no_mappings_the_status_says_so(poller, tmp_path):
    poller.discover(boto3.client("lambda", region_name="us-east-1"))
    poller._write_status()
    assert read_status(tmp_path)["mappings"] == []


def _mapped_function(runtime: str) -> None:
    """A function of `runtime` mapped to a stream, its code where a CDK deploy puts it."""
    import io
    import zipfile

    from event_stream.tools.deployed import bootstrap_bucket

    bucket = bootstrap_bucket("123456789012", "us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("Handler.class", "not run here")
    s3.put_object(Bucket=bucket, Key="consumer.zip", Body=code.getvalue())
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    lambda_.create_function(
        FunctionName="java-consumer",
        Runtime=runtime,
        Role=role["Arn"],
        Handler="example.Handler::handleRequest",
        Code={"S3Bucket": bucket, "S3Key": "consumer.zip"},
    )
    lambda_.create_event_source_mapping(
        FunctionName="java-consumer",
        EventSourceArn=kinesis.describe_stream_summary(StreamName="events")[
            "StreamDescriptionSummary"
        ]["StreamARN"],
        StartingPosition="TRIM_HORIZON",
    )


def test_a_runtime_that_cannot_run_here_pauses_its_mapping_and_says_why(poller, tmp_path):
    _mapped_function("java21")
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    poller.discover(lambda_)
    poller.discover(lambda_)  # seen again: still paused, said once
    poller._write_status()
    (mapping,) = read_status(tmp_path)["mappings"]
    assert mapping["state"].startswith("Paused: java-consumer: the local AWS cannot run runtime")
    assert "java21" in mapping["state"] and "python3.x" in mapping["state"]
    assert poller.runners == {}
    events = boto3.client("logs", region_name="us-east-1").filter_log_events(
        logGroupName="/aws/lambda/java-consumer"
    )["events"]
    assert len(events) == 1 and "cannot run runtime java21" in events[0]["message"]
