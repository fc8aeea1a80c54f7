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
