"""EventStream and EventLake take their own props (no StageConfig): usable in any stack,
each setting checked in one line at synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Template

from event_stream import EventLake, EventStream
from event_stream.checks import ConfigError
from tests.unit.synth import ENV


@pytest.fixture(scope="module")
def own_stack():
    stack = cdk.Stack(cdk.App(), "platform", env=ENV)
    events = EventStream(
        stack, "Events", stage="qa", service="shop", shard_count=2, retention=Duration.days(2)
    )
    EventLake(stack, "Lake", stage="qa", service="shop", stream=events.stream)
    return Template.from_stack(stack)


def test_the_stream_is_named_after_its_stage_and_service(own_stack):
    own_stack.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"Name": "qa-shop-s1", "ShardCount": 2, "RetentionPeriodHours": 48},
    )


def test_the_publishers_are_named_after_their_stage_and_service(own_stack):
    names = {
        f["Properties"]["FunctionName"]
        for f in own_stack.find_resources("AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }
    assert {"shop-qa-publish", "shop-qa-publish-batch", "shop-qa-lake"} <= names


def test_the_lake_is_named_after_its_stage_and_service(own_stack):
    own_stack.has_resource_properties(
        "AWS::KinesisFirehose::DeliveryStream", {"DeliveryStreamName": "qa-shop-lake"}
    )


@pytest.mark.parametrize(
    "props,words",
    [
        ({"shard_count": 0}, "invalid shard_count 0"),
        ({"retention": Duration.hours(2)}, "invalid retention 7200 s"),
        ({"on_demand": True, "shard_count": 2}, "shard_count=2 cannot be combined with on_demand"),
        ({"log_level": "LOUD"}, "invalid log_level 'LOUD'"),
        ({"stage": "x" * 40}, "invalid stage 'xxxx"),
    ],
)
def test_a_bad_stream_prop_is_one_line(props, words):
    stack = cdk.Stack(cdk.App(), "bad", env=ENV)
    with pytest.raises(ConfigError) as raised:
        EventStream(stack, "Events", **{"stage": "qa", **props})
    assert words in str(raised.value) and "\n" not in str(raised.value)
