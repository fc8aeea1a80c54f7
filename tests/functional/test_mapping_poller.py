"""The mapping poller: what it finds on the local Lambda API, and what it says of it."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from event_stream.tools.local import status
from event_stream.tools.local.invoker import Invoker
from event_stream.tools.local.mapping_poller import MappingPoller


def client(service: str):
    return boto3.client(service, region_name="us-east-1")


@pytest.fixture
def poller(aws_credentials, tmp_path):
    with mock_aws():
        invoker = Invoker(client, region="us-east-1")
        poller = MappingPoller(client, invoker, region="us-east-1", state_dir=tmp_path)
        yield poller
        poller.stop()
        invoker.stop()


def read_status(state_dir):
    return status.read(state_dir, status.MAPPINGS_FILE)


def test_with_no_mappings_the_status_says_so(poller, tmp_path):
    poller.discover()
    poller.write_status()
    assert read_status(tmp_path)["mappings"] == []


def _mapped_function(runtime: str) -> None:
    """A function of `runtime`, created with a zip, mapped to a stream."""
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("Handler.class", "not run here")
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    lambda_.create_function(
        FunctionName="java-consumer",
        Runtime=runtime,
        Role=role["Arn"],
        Handler="example.Handler::handleRequest",
        Code={"ZipFile": code.getvalue()},
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
    poller.discover()
    poller.discover()  # seen again: still paused, said once
    poller.write_status()
    (mapping,) = read_status(tmp_path)["mappings"]
    assert mapping["state"].startswith("Paused: java-consumer: the local AWS cannot run runtime")
    assert "java21" in mapping["state"] and "python3.x" in mapping["state"]
    assert poller.workers == {}
    events = boto3.client("logs", region_name="us-east-1").filter_log_events(
        logGroupName="/aws/lambda/java-consumer"
    )["events"]
    assert len(events) == 1 and "cannot run runtime java21" in events[0]["message"]


def test_a_mapping_whose_function_is_gone_does_not_stop_discovery(poller, tmp_path):
    _mapped_function("java21")
    boto3.client("lambda", region_name="us-east-1").delete_function(FunctionName="java-consumer")
    poller.discover()  # raises nothing: other mappings are still found and run
    poller.write_status()
    (mapping,) = read_status(tmp_path)["mappings"]
    assert mapping["state"].startswith("Paused: java-consumer: ")


def test_tumbling_windows_over_parallel_lanes_are_paused_and_say_why(poller, tmp_path):
    _mapped_function("python3.13")
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    (mapping,) = lambda_.list_event_source_mappings()["EventSourceMappings"]
    lambda_.update_event_source_mapping(
        UUID=mapping["UUID"], TumblingWindowInSeconds=60, ParallelizationFactor=2
    )
    poller.discover()
    poller.write_status()
    (shown,) = read_status(tmp_path)["mappings"]
    assert shown["state"].startswith("Paused: tumbling windows with a ParallelizationFactor")
    assert poller.workers == {}
