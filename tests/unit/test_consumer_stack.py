"""The example consumer app (examples/consumer/): its StreamProcessor binds to the exports
the event stream stack makes."""

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


def test_the_cookbook_processor_keeps_thing_created_from_trim_horizon(consumer):
    (mapping,) = [
        r for r in consumer["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mapping["Properties"]["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["Properties"]["BatchSize"] == 100
    (criteria,) = mapping["Properties"]["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == {"data": {"type": ["thing-created"]}}
