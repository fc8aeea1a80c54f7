"""StreamProcessor's options as CDK users pass them: CDK types, tokens, existing resources.

Each test synthesizes its own small stack (GIVEN a stack, WHEN a processor is added with one
option, THEN the template shows it), as aws-lambda-event-sources' tests do.
"""

from __future__ import annotations

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


def test_accepts_an_alarm_topic_made_in_the_same_app():
    app = cdk.App()
    stack = cdk.Stack(app, "consumer-with-topic")
    topic = sns.Topic(stack, "OnCall")
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        alarm_topic=topic,
    )
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    topic_ref = {"Ref": stack.get_logical_id(topic.node.default_child)}
    assert [a["Properties"]["AlarmActions"] for a in alarms] == [[topic_ref]] * 4


def test_accepts_the_arn_token_of_a_topic_made_in_the_same_app():
    app = cdk.App()
    stack = cdk.Stack(app, "consumer-with-topic-arn")
    topic = sns.Topic(stack, "OnCall")
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        alarm_topic=topic.topic_arn,
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmActions": [{"Ref": stack.get_logical_id(topic.node.default_child)}]},
    )


def test_reads_an_existing_stream_instead_of_the_stages_export():
    app = cdk.App()
    stack = cdk.Stack(app, "consumer-with-stream")
    stream = kinesis.Stream(stack, "Own", shard_count=1)
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        stream=stream,
    )
    template = Template.from_stack(stack)
    stream_id = stack.get_logical_id(stream.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"EventSourceArn": {"Fn::GetAtt": [stream_id, "Arn"]}},
    )
    assert "Fn::ImportValue" not in str(template.to_json())


def test_the_existing_stream_is_the_only_one_the_function_may_read():
    app = cdk.App()
    stack = cdk.Stack(app, "consumer-reads-own")
    stream = kinesis.Stream(stack, "Own", shard_count=1)
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        stream=stream,
    )
    stream_arn = {"Fn::GetAtt": [stack.get_logical_id(stream.node.default_child), "Arn"]}
    Template.from_stack(stack).has_resource_properties(
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
