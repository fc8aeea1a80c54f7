"""import_stream in a consumer stack binds to the exports the event stream stack makes."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from event_stream.config import StageConfig
from examples.consumer.consumer_stack import ConsumerStack
from tests.unit.synth import synth


@pytest.fixture(scope="module")
def consumer():
    app = cdk.App()
    return Template.from_stack(ConsumerStack(app, stage="john")).to_json()


def _import_values(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                yield value
            else:
                yield from _import_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _import_values(item)


def test_consumer_imports_exactly_the_exports_the_stack_makes(consumer):
    exported = {
        o["Export"]["Name"]
        for o in synth(StageConfig(stage="john")).json["Outputs"].values()
        if "Export" in o
    }
    imported = set(_import_values(consumer))
    assert imported == {"cncb-event-stream-john-streamArn"}
    assert imported <= exported


def test_consumer_grant_read_targets_the_imported_stream(consumer):
    statements = [
        s
        for r in consumer["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    reads = [s for s in statements if "kinesis:GetRecords" in s["Action"]]
    assert reads and all(
        json.dumps(s["Resource"])
        == json.dumps({"Fn::ImportValue": "cncb-event-stream-john-streamArn"})
        for s in reads
    )


def test_consumer_reads_from_trim_horizon_in_batches_of_100(consumer):
    (mapping,) = [
        r for r in consumer["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mapping["Properties"]["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["Properties"]["BatchSize"] == 100
