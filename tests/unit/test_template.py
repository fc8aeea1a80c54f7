"""The synthesized stack's publishing side, one behaviour per test (template built once per
session). The lake has a module of its own (test_lake_template.py); these stacks are
synthesized without it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from event_stream.config import StageConfig
from event_stream.runtime import RUNTIME_FILES
from tests.unit.synth import synth

STREAM_ID = "EventStreamA212D9D0"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    return synth(StageConfig(lake=False, stage="dev"))


def _function(dev, name):
    ((logical_id, function),) = {
        k: v
        for k, v in dev.resources("AWS::Lambda::Function").items()
        if v["Properties"]["FunctionName"] == name
    }.items()
    return logical_id, function


def _policy_statements(dev, function_name):
    _, function = _function(dev, function_name)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in dev.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# The stream


def test_stream_is_named_for_the_stage(dev):
    dev.template.has_resource_properties(
        "AWS::Kinesis::Stream", {"Name": "dev-cncb-event-stream-s1"}
    )


def test_stream_keeps_records_24_hours_on_one_shard(dev):
    dev.template.has_resource_properties(
        "AWS::Kinesis::Stream", {"RetentionPeriodHours": 24, "ShardCount": 1}
    )


def test_stream_is_encrypted_with_the_aws_managed_key(dev):
    dev.template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}},
    )


def test_template_has_no_region_condition(dev):
    assert "Conditions" not in dev.json


def test_stream_is_removed_with_the_stack_by_default(dev):
    dev.template.has_resource("AWS::Kinesis::Stream", {"DeletionPolicy": "Delete"})


def test_retain_stream_keeps_the_stream_when_the_stack_goes():
    synth(StageConfig(lake=False, retain_stream=True)).template.has_resource(
        "AWS::Kinesis::Stream", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_on_demand_stream_has_no_shard_count():
    (stream,) = (
        synth(StageConfig(lake=False, on_demand=True)).resources("AWS::Kinesis::Stream").values()
    )
    assert stream["Properties"]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in stream["Properties"]


def test_shard_count_and_retention_come_from_the_stage():
    synth(
        StageConfig(lake=False, shard_count=4, retention_hours=168)
    ).template.has_resource_properties(
        "AWS::Kinesis::Stream", {"ShardCount": 4, "RetentionPeriodHours": 168}
    )


def test_larger_record_limit_opts_the_stream_in_and_tells_the_functions():
    big = synth(StageConfig(lake=False, max_record_bytes=4 * 1024 * 1024))
    big.template.has_resource_properties("AWS::Kinesis::Stream", {"MaxRecordSizeInKiB": 4096})
    for function in big.resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["MAX_RECORD_BYTES"] == "4194304"


def test_default_record_limit_leaves_the_stream_setting_alone(dev):
    (stream,) = dev.resources("AWS::Kinesis::Stream").values()
    assert "MaxRecordSizeInKiB" not in stream["Properties"]


# The functions


@pytest.mark.parametrize(
    "name,handler",
    [
        ("cncb-event-stream-dev-publish", "handler.publish"),
        ("cncb-event-stream-dev-publish-batch", "handler.publish_batch"),
    ],
)
def test_publisher_functions_are_named_for_the_stage(dev, name, handler):
    _, function = _function(dev, name)
    assert function["Properties"]["Handler"] == handler


def test_functions_run_the_newest_python_lambda_offers(dev):
    newest = max(
        (getattr(lambda_.Runtime, n) for n in dir(lambda_.Runtime) if n.startswith("PYTHON_3_")),
        key=lambda r: int(r.name.split(".")[1]),
    )
    runtimes = {f["Properties"]["Runtime"] for f in dev.resources("AWS::Lambda::Function").values()}
    assert runtimes == {newest.name}


def test_functions_get_the_stream_name_from_the_stream(dev):
    for function in dev.resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["STREAM_NAME"] == {
            "Ref": STREAM_ID
        }


def test_both_functions_share_one_asset_of_only_runtime_files(dev):
    keys = {
        f["Properties"]["Code"]["S3Key"] for f in dev.resources("AWS::Lambda::Function").values()
    }
    assert len(keys) == 1
    asset = os.path.join(dev.directory, "asset." + keys.pop().removesuffix(".zip"))
    assert sorted(os.listdir(asset)) == sorted(RUNTIME_FILES)


# Least privilege


@pytest.mark.parametrize(
    "name,action",
    [
        ("cncb-event-stream-dev-publish", "kinesis:PutRecord"),
        ("cncb-event-stream-dev-publish-batch", "kinesis:PutRecords"),
    ],
)
def test_each_function_may_call_exactly_one_kinesis_action_on_its_stream(dev, name, action):
    kinesis = [
        s
        for s in _policy_statements(dev, name)
        if any(a.startswith("kinesis:") for a in _list(s["Action"]))
    ]
    assert kinesis == [
        {"Action": action, "Effect": "Allow", "Resource": {"Fn::GetAtt": [STREAM_ID, "Arn"]}}
    ]


def test_functions_write_logs_only_to_their_own_log_group(dev):
    for name in ("cncb-event-stream-dev-publish", "cncb-event-stream-dev-publish-batch"):
        _, function = _function(dev, name)
        group_ref = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        logs = [s for s in _policy_statements(dev, name) if s["Action"][0].startswith("logs:")]
        assert logs == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group_ref, "Arn"]},
            }
        ]


def test_no_policy_or_role_grants_a_wildcard_resource_or_managed_policy(dev):
    text = json.dumps(dev.json)
    assert '"Resource": "*"' not in text
    assert "ManagedPolicyArns" not in text


def test_nothing_but_iam_principals_can_invoke_the_functions(dev):
    assert dev.resources("AWS::Lambda::Permission") == {}
    assert dev.resources("AWS::Lambda::Url") == {}


# Logs and tracing


def test_each_function_has_its_own_log_group_with_retention_removed_with_the_stack(dev):
    groups = dev.resources("AWS::Logs::LogGroup")
    assert {g["Properties"]["LogGroupName"] for g in groups.values()} == {
        "/aws/lambda/cncb-event-stream-dev-publish",
        "/aws/lambda/cncb-event-stream-dev-publish-batch",
    }
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 30
        assert group["DeletionPolicy"] == "Delete"


def test_log_retention_comes_from_the_stage():
    groups = synth(StageConfig(lake=False, log_retention_days=365)).resources("AWS::Logs::LogGroup")
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {365}


def test_functions_log_json_at_the_stage_log_level():
    debug = synth(StageConfig(lake=False, log_level="DEBUG"))
    debug.template.has_resource_properties(
        "AWS::Lambda::Function",
        {"LoggingConfig": Match.object_like({"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})},
    )


def test_the_dev_stage_logs_payloads_at_debug_as_cdk_json_sets_it():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]

    def stage(name):
        return StageConfig.from_context({**context, "stage": name}.get)

    assert (stage("dev").log_level, stage("prod").log_level) == ("DEBUG", "INFO")


@pytest.mark.parametrize(
    "name,timeout",
    [("cncb-event-stream-dev-publish", 10), ("cncb-event-stream-dev-publish-batch", 30)],
)
def test_each_function_is_told_its_own_timeout(dev, name, timeout):
    _, function = _function(dev, name)
    assert function["Properties"]["Timeout"] == timeout
    assert function["Properties"]["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"] == str(
        timeout
    )


def test_lambda_never_retries_a_publishers_asynchronous_invocation(dev):
    configs = dev.resources("AWS::Lambda::EventInvokeConfig").values()
    assert len(configs) == 2
    assert {c["Properties"]["MaximumRetryAttempts"] for c in configs} == {0}


def test_tracing_is_off_by_default(dev):
    for function in dev.resources("AWS::Lambda::Function").values():
        assert "TracingConfig" not in function["Properties"]


def test_tracing_flag_turns_on_active_tracing():
    traced = synth(StageConfig(lake=False, tracing=True))
    for function in traced.resources("AWS::Lambda::Function").values():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


# Alarms


def _alarm_metrics(synthesized):
    return {
        (
            a["Properties"]["Namespace"],
            a["Properties"]["MetricName"],
            json.dumps(a["Properties"].get("Dimensions"), sort_keys=True),
        )
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
    }


def test_alarm_on_stream_write_throttling(dev):
    assert any(
        ns == "AWS/Kinesis" and name == "WriteProvisionedThroughputExceeded"
        for ns, name, _ in _alarm_metrics(dev)
    )


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_alarm_on_errors_and_throttles_of_each_function(dev, metric):
    functions = {
        ids for ns, name, ids in _alarm_metrics(dev) if ns == "AWS/Lambda" and name == metric
    }
    assert len(functions) == 2


def test_alarm_on_events_the_batch_function_could_not_publish(dev):
    dev.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "CncbEventStream",
            "MetricName": "UnpublishedEvents",
            "Dimensions": [
                {"Name": "FunctionName", "Value": "cncb-event-stream-dev-publish-batch"}
            ],
            "Threshold": 1,
        },
    )


def test_alarms_have_no_action_without_a_topic(dev):
    for alarm in dev.resources("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in alarm["Properties"]


def test_alarms_notify_the_stage_topic():
    topic = "arn:aws:sns:us-east-1:123456789012:on-call"
    alarms = synth(StageConfig(lake=False, alarm_topic_arn=topic)).resources(
        "AWS::CloudWatch::Alarm"
    )
    assert len(alarms) == 6
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [topic]


# Outputs and exports


@pytest.mark.parametrize(
    "key,export",
    [
        ("streamName", "cncb-event-stream-dev-streamName"),
        ("streamArn", "cncb-event-stream-dev-streamArn"),
    ],
)
def test_stream_outputs_are_exported_under_the_contract_names(dev, key, export):
    assert dev.json["Outputs"][key]["Export"] == {"Name": export}


def test_function_names_are_outputs(dev):
    assert dev.json["Outputs"]["publishFunctionName"]["Value"] == {
        "Ref": _function(dev, "cncb-event-stream-dev-publish")[0]
    }
    assert dev.json["Outputs"]["publishBatchFunctionName"]["Value"] == {
        "Ref": _function(dev, "cncb-event-stream-dev-publish-batch")[0]
    }


def test_outputs_are_exactly_the_contract_ones(dev):
    assert set(dev.json["Outputs"]) == {
        "streamName",
        "streamArn",
        "publishFunctionName",
        "publishBatchFunctionName",
    }


def test_names_follow_the_stage():
    john = synth(StageConfig(lake=False, stage="john"))
    john.template.has_resource_properties(
        "AWS::Kinesis::Stream", {"Name": "john-cncb-event-stream-s1"}
    )
    names = {
        f["Properties"]["FunctionName"] for f in john.resources("AWS::Lambda::Function").values()
    }
    assert names == {"cncb-event-stream-john-publish", "cncb-event-stream-john-publish-batch"}
    assert re.fullmatch(
        r"cncb-event-stream-john-\w+", john.json["Outputs"]["streamArn"]["Export"]["Name"]
    )


def _list(value):
    return value if isinstance(value, list) else [value]
