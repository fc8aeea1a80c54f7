"""StreamProcessor in Solutions Constructs' shape: a runtime of your choice, your own
function, overrides of the function and the queue, the queue and the alarms optional; an
existing object with its props, or a setting that would be ignored, is one line at synth.

Each template is synthesized once per module (a fixture per shape)."""

from __future__ import annotations

import inspect
import os
from dataclasses import fields

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from event_stream import ProcessorConfig, StreamProcessor
from event_stream.checks import ConfigError
from tests.conftest import FIXTURES
from tests.unit.synth import ENV, PROCESSOR_CODE, processor_stack, synth_processor

NODE_CODE = FIXTURES / "node_processor_code"


@pytest.fixture(scope="module")
def node():
    return synth_processor(
        runtime=lambda_.Runtime.NODEJS_22_X,
        code_dir=NODE_CODE,
        handler="index.handler",
        event_types=["thing-created"],
    )


@pytest.fixture(scope="module")
def existing():
    """A consumer stack whose own function gets the mapping, queue, grants and alarms."""
    stack = cdk.Stack(cdk.App(), "consumer-own-function", env=ENV)
    own = lambda_.Function(
        stack,
        "Own",
        function_name="orders-own",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="handler.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    processor = StreamProcessor(
        stack, "Listener", stage="john", name="listener", service="orders", existing_function=own
    )
    return stack, own, processor, Template.from_stack(stack)


@pytest.fixture(scope="module")
def bare():
    return synth_processor(deploy_dead_letter_queue=False, create_alarms=False)


@pytest.fixture(scope="module")
def overridden():
    return synth_processor(
        function_props={"reserved_concurrent_executions": 3, "description": "mine"},
        dead_letter_queue_props={"retention_period": Duration.days(4)},
    )


def only(synthesized, resource_type):
    (resource,) = synthesized.resources(resource_type).values()
    return resource["Properties"]


def test_every_option_is_a_keyword_of_the_constructor_with_its_default():
    shown = inspect.signature(StreamProcessor.__init__).parameters
    for setting in fields(ProcessorConfig):
        assert setting.name in shown
        assert shown[setting.name].kind is inspect.Parameter.KEYWORD_ONLY


def test_every_option_is_documented_once_with_its_default():
    documented = StreamProcessor.__init__.__doc__
    assert documented.count(":param batch_size: records per invocation") == 1
    assert ":param max_record_age: " in documented and "Default: 6 hours." in documented


def test_a_node_runtime_is_the_functions_runtime(node):
    assert only(node, "AWS::Lambda::Function")["Runtime"] == "nodejs22.x"


def test_a_node_asset_holds_the_users_folder_only(node):
    code = only(node, "AWS::Lambda::Function")["Code"]
    asset = os.path.join(node.directory, f"asset.{code['S3Key'].removesuffix('.zip')}")
    assert sorted(os.listdir(asset)) == ["index.js"]


def test_a_node_consumer_gets_the_dead_letter_queue_and_the_filter(node):
    mapping = only(node, "AWS::Lambda::EventSourceMapping")
    assert "OnFailure" in mapping["DestinationConfig"]
    assert mapping["FilterCriteria"]["Filters"] == [
        {"Pattern": '{"data":{"type":["thing-created"]}}'}
    ]


def test_a_node_consumer_has_no_alarm_on_the_python_runtimes_metric(node):
    metrics = [
        a["Properties"].get("MetricName") for a in node.resources("AWS::CloudWatch::Alarm").values()
    ]
    assert sorted(metrics) == ["ApproximateNumberOfMessagesVisible", "Errors", "IteratorAge"]


def test_an_existing_function_gets_the_mapping_and_builds_no_function(existing):
    stack, own, processor, template = existing
    assert processor.function is own
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": {"Ref": stack.get_logical_id(own.node.default_child)}},
    )


def test_an_existing_functions_role_may_read_the_stream_and_send_to_the_queue(existing):
    stack, own, _, template = existing
    role = stack.get_logical_id(own.role.node.default_child)
    (policy,) = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    actions = str([s["Action"] for s in policy["PolicyDocument"]["Statement"]])
    assert "kinesis:GetRecords" in actions and "sqs:SendMessage" in actions


def test_an_existing_function_is_watched_by_the_alarms(existing):
    _, _, processor, _ = existing
    assert len(processor.alarms) == 3  # iterator age, errors, dead letters


def test_function_props_are_laid_over_what_the_construct_builds(overridden):
    function = only(overridden, "AWS::Lambda::Function")
    assert function["ReservedConcurrentExecutions"] == 3
    assert function["Description"] == "mine"
    assert function["Runtime"] == "python3.14"


def test_dead_letter_queue_props_are_laid_over_the_queues_defaults(overridden):
    queue = only(overridden, "AWS::SQS::Queue")
    assert queue["MessageRetentionPeriod"] == 4 * 86_400
    assert queue["SqsManagedSseEnabled"] is True


def test_without_a_dead_letter_queue_the_mapping_has_no_destination(bare):
    assert bare.resources("AWS::SQS::Queue") == {}
    assert "DestinationConfig" not in only(bare, "AWS::Lambda::EventSourceMapping")


def test_create_alarms_false_makes_no_alarm(bare):
    assert bare.resources("AWS::CloudWatch::Alarm") == {}


@pytest.mark.parametrize(
    "options,words",
    [
        (
            {"function_props": {"timeout": Duration.seconds(3)}},
            "invalid function_props['timeout']: set it with timeout",
        ),
        (
            {"function_props": {"handler": "x.y"}},
            "invalid function_props['handler']: set it with handler",
        ),
        (
            {"function_props": {"timeoutt": 3}},
            "invalid function_props['timeoutt']: not an argument of aws_cdk.aws_lambda.Function",
        ),
        (
            {"dead_letter_queue_props": {"queue_name": "mine"}},
            "invalid dead_letter_queue_props['queue_name']: set it with name and service",
        ),
        (
            {"deploy_dead_letter_queue": False, "dead_letter_queue_props": {}},
            "dead_letter_queue_props would be ignored with deploy_dead_letter_queue=False",
        ),
        (
            {"create_alarms": False, "alarm_topic": "arn:aws:sns:us-east-1:123456789012:t"},
            "alarm_topic would be ignored with create_alarms=False",
        ),
        (
            {"function_props": {"logging_format": lambda_.LoggingFormat.TEXT}, "log_level": "WARN"},
            "log_level would be ignored with a Text logging_format",
        ),
        (
            {"runtime": lambda_.Runtime.JAVA_21},
            "invalid runtime 'java21': must be a Python or Node.js runtime",
        ),
        (
            {"runtime": lambda_.Runtime.NODEJS_22_X},
            "there is no handler.js or handler.mjs or handler.cjs in code_dir",
        ),
        ({"batchsize": 10}, "unknown StreamProcessor option 'batchsize'"),
        (
            {
                "runtime": lambda_.Runtime.NODEJS_22_X,
                "code_dir": NODE_CODE,
                "handler": "index.handler",
                "handler_retries": 1,
            },
            "handler_retries would be ignored with a Node.js runtime (the consumer runtime that retries and checks",
        ),
    ],
)
def test_a_setting_that_cannot_apply_is_one_line_at_synth(options, words):
    with pytest.raises(ConfigError) as raised:
        processor_stack(cdk.App(), **options)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_an_existing_function_with_function_props_is_one_line():
    stack = cdk.Stack(cdk.App(), "both", env=ENV)
    own = lambda_.Function.from_function_name(stack, "Own", "orders-own")
    with pytest.raises(
        ConfigError, match=r"function_props would be ignored with existing_function"
    ):
        StreamProcessor(
            stack,
            "Listener",
            stage="john",
            name="listener",
            existing_function=own,
            function_props={"description": "x"},
        )


def test_code_dir_and_handler_are_needed_without_an_existing_function():
    stack = cdk.Stack(cdk.App(), "neither", env=ENV)
    with pytest.raises(ConfigError, match=r"give code_dir and handler, or existing_function$"):
        StreamProcessor(stack, "Listener", stage="john", name="listener")


def test_code_dir_is_ignored_with_an_existing_function_and_refused():
    stack = cdk.Stack(cdk.App(), "code-too", env=ENV)
    own = lambda_.Function.from_function_name(stack, "Own", "orders-own")
    with pytest.raises(ConfigError, match=r"code_dir would be ignored with existing_function"):
        StreamProcessor(
            stack,
            "Listener",
            stage="john",
            name="listener",
            existing_function=own,
            code_dir=PROCESSOR_CODE,
        )


@pytest.fixture(scope="module")
def to_s3():
    stack = cdk.Stack(cdk.App(), "consumer-to-s3", env=ENV)
    bucket = s3.Bucket(stack, "Discarded")
    StreamProcessor(
        stack,
        "Listener",
        stage="john",
        name="listener",
        code_dir=PROCESSOR_CODE,
        handler="handler.handler",
        on_failure=event_sources.S3OnFailureDestination(bucket),
        tumbling_window=Duration.minutes(2),
    )
    return stack, bucket, Template.from_stack(stack)


def test_an_s3_on_failure_destination_replaces_the_queue(to_s3):
    stack, bucket, template = to_s3
    template.resource_count_is("AWS::SQS::Queue", 0)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "DestinationConfig": {
                "OnFailure": {
                    "Destination": {
                        "Fn::GetAtt": [stack.get_logical_id(bucket.node.default_child), "Arn"]
                    }
                }
            }
        },
    )


def test_a_tumbling_window_reaches_the_mapping(to_s3):
    _, _, template = to_s3
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"TumblingWindowInSeconds": 120}
    )


def test_on_failure_with_deploy_dead_letter_queue_is_one_line():
    stack = cdk.Stack(cdk.App(), "both-destinations", env=ENV)
    bucket = s3.Bucket(stack, "Discarded")
    with pytest.raises(
        ConfigError, match=r"deploy_dead_letter_queue would be ignored with on_failure"
    ):
        StreamProcessor(
            stack,
            "Listener",
            stage="john",
            name="listener",
            code_dir=PROCESSOR_CODE,
            handler="handler.handler",
            on_failure=event_sources.S3OnFailureDestination(bucket),
            deploy_dead_letter_queue=True,
        )


def test_a_tumbling_window_over_15_minutes_is_refused():
    with pytest.raises(ConfigError, match=r"^invalid tumbling_window 960 s"):
        processor_stack(cdk.App(), tumbling_window=Duration.minutes(16))
