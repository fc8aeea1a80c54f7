"""The consumer side on the local AWS: the example stream processor deployed against the
stage's exports with the real CDK CLI, and its dead-letter queue read and redriven with the
deployed consumer code."""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_fixture
from tests.e2e.conftest import ROOT

STAGE = "e2e-consumer"
CONSUMER_APP = ROOT / "examples" / "consumer"
FUNCTION = f"cncb-stream-processor-{STAGE}-listener"


@pytest.fixture(scope="module")
def consumer(cloud):
    cloud.deploy(STAGE)
    try:
        cloud.deploy(STAGE, cwd=CONSUMER_APP)
        yield cloud
    finally:
        cloud.tear_down(STAGE)


def stream_arn(cloud) -> str:
    outputs = cloud.client("cloudformation").describe_stacks(
        StackName=f"cncb-event-stream-{STAGE}"
    )["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "streamArn")


def test_the_mapping_reads_the_stream_the_exports_name(consumer):
    mappings = consumer.client("lambda").list_event_source_mappings(FunctionName=FUNCTION)[
        "EventSourceMappings"
    ]
    assert [m["EventSourceArn"] for m in mappings] == [stream_arn(consumer)]
    (mapping,) = mappings
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{FUNCTION}-dlq")


def test_the_role_reads_exactly_the_imported_stream(consumer):
    iam = consumer.client("iam")
    role = (
        consumer.client("lambda")
        .get_function_configuration(FunctionName=FUNCTION)["Role"]
        .rsplit("/", 1)[-1]
    )
    granted = [
        statement["Resource"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for statement in iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"][
            "Statement"
        ]
        if "kinesis:GetRecords" in statement["Action"]
    ]
    assert granted == [stream_arn(consumer)]


def test_dlq_shows_a_failed_batch_and_redrive_runs_the_deployed_consumer(consumer):
    answers = [
        consumer.cli_json("invoke", "--stage", STAGE, "--data", json.dumps({"type": t}))
        for t in ("thing-created", "thing-updated", "thing-created")
    ]
    record = load_fixture("on-failure-record.json")
    record["KinesisBatchInfo"].update(
        shardId=answers[0]["ShardId"],
        startSequenceNumber=answers[0]["SequenceNumber"],
        endSequenceNumber=answers[2]["SequenceNumber"],
        batchSize=2,
        streamArn=stream_arn(consumer),
    )
    sqs = consumer.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{FUNCTION}-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))

    listed = consumer.cli("dlq", "--function", FUNCTION)
    assert listed.returncode == 0, listed.stderr
    (batch,) = [json.loads(line) for line in listed.stdout.splitlines()]
    # The filter (thing-created only) applies again: the batch held two events.
    assert [e["id"] for e in batch["events"]] == [answers[0]["id"], answers[2]["id"]]

    redriven = consumer.cli("dlq", "--function", FUNCTION, "--redrive")
    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout)["redriven"] is True
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []
    logs = consumer.cli("logs", "--function", FUNCTION, "--json").stdout
    handled = [json.loads(line) for line in logs.splitlines() if '"thing created"' in line]
    assert {entry["id"] for entry in handled} == {answers[0]["id"], answers[2]["id"]}


def test_destroying_the_stage_while_a_consumer_imports_it_fails_and_says_why(consumer):
    result = consumer.cdk("destroy", "--context", f"stage={STAGE}", "--force", check=False)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert (
        f"Export cncb-event-stream-{STAGE}-streamArn cannot be deleted as it is in use by" in said
    )
    assert f"cncb-stream-processor-{STAGE}" in said
    # Nothing of the stage went: the consumer still reads its stream.
    assert stream_arn(consumer)
    consumer.client("kinesis").describe_stream_summary(StreamName=f"{STAGE}-cncb-event-stream-s1")
