"""StreamProcessor's options as CDK users pass them: CDK types, tokens, existing resources.

Each test synthesizes its own small stack (GIVEN a stack, WHEN a processor is added with one
option, THEN the template shows it), as aws-lambda-event-sources' tests do.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from event_stream import StreamProcessor
from event_stream.checks import ConfigError
from tests.unit.synth import PROCESSOR_CODE, processor_stack


@pytest.mark.parametrize(
    "option,cfn_property",
    [
        ("batch_size", "BatchSize"),
        ("retry_attempts", "MaximumRetryAttempts"),
        ("parallelization_factor", "ParallelizationFactor"),
    ],
)
def test_accepts_a_token_for_a_number_option(option, cfn_property):
    # GIVEN a value known only at deploy time
    value = cdk.Token.as_number(cdk.Fn.import_value(f"{option}-value"))
    stack = processor_stack(cdk.App(), **{option: value})
    # THEN the check is left to AWS and the value reaches the mapping
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {cfn_property: {"Fn::ImportValue": f"{option}-value"}},
    )


def beside(resource: str, option: str) -> tuple[cdk.Stack, Any, Template]:
    """GIVEN a topic or a stream made in the consumer's own stack, WHEN a processor gets it
    (or, for "topic_arn", its ARN) as `option`: the stack, that resource, the template."""
    stack = cdk.Stack(cdk.App(), "consumer-beside")
    made = (
        sns.Topic(stack, "OnCall")
        if resource == "topic"
        else kinesis.Stream(stack, "Own", shard_count=1)
    )
    value = made.topic_arn if option == "alarm_topic_arn" else made
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        **{option.removesuffix("_arn"): value},
    )
    return stack, made, Template.from_stack(stack)


def logical_id(stack: cdk.Stack, resource: Any) -> str:
    return stack.get_logical_id(resource.node.default_child)


def test_accepts_an_alarm_topic_made_in_the_same_app():
    stack, topic, template = beside("topic", "alarm_topic")
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    topic_ref = {"Ref": logical_id(stack, topic)}
    assert [a["Properties"]["AlarmActions"] for a in alarms] == [[topic_ref]] * 4


def test_accepts_the_arn_token_of_a_topic_made_in_the_same_app():
    stack, topic, template = beside("topic", "alarm_topic_arn")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": [{"Ref": logical_id(stack, topic)}]}
    )


def test_reads_an_existing_stream_instead_of_the_stages_export():
    stack, stream, template = beside("stream", "stream")
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"EventSourceArn": {"Fn::GetAtt": [logical_id(stack, stream), "Arn"]}},
    )
    assert "Fn::ImportValue" not in str(template.to_json())


def test_the_existing_stream_is_the_only_one_the_function_may_read():
    stack, stream, template = beside("stream", "stream")
    stream_arn = {"Fn::GetAtt": [logical_id(stack, stream), "Arn"]}
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.any_value(), "Resource": stream_arn})]
                )
            }
        },
    )


def test_refuses_a_parallelization_factor_over_ten_naming_the_value():
    with pytest.raises(ConfigError, match=r"^invalid parallelization_factor 11: .* 1 to 10$"):
        processor_stack(cdk.App(), parallelization_factor=11)


def test_refuses_a_starting_position_given_as_a_string():
    with pytest.raises(ConfigError, match=r"^invalid starting_position 'LATEST': must be a "):
        processor_stack(cdk.App(), starting_position="LATEST")
