"""The StreamProcessor's template, one behaviour per test (synthesized once per module)."""

from __future__ import annotations

import json
import os

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Match
from aws_cdk.aws_lambda import StartingPosition

from event_stream.runtime import CONSUMER_RUNTIME_FILES
from tests.unit.synth import synth_processor

STREAM_ARN = {"Fn::ImportValue": "cncb-event-stream-john-streamArn"}


@pytest.fixture(scope="module")
def default():
    return synth_processor(event_types=["thing-created", "thing-updated"])


@pytest.fixture(scope="module")
def tuned():
    return synth_processor(
        batch_size=10,
        starting_position=StartingPosition.LATEST,
        retry_attempts=0,
        max_record_age=Duration.seconds(60),
        max_batching_window=Duration.seconds(2),
        bisect_batch_on_error=False,
        report_batch_item_failures=False,
        parallelization_factor=4,
        timeout=Duration.seconds(5),
        handler_retries=0,
        alarm_topic="arn:aws:sns:us-east-1:123456789012:on-call",
    )


def only(synthesized, resource_type):
    (resource,) = synthesized.resources(resource_type).values()
    return resource["Properties"]


def mapping(synthesized):
    return only(synthesized, "AWS::Lambda::EventSourceMapping")


def logical_id(synthesized, resource_type):
    (name,) = synthesized.resources(resource_type)
    return name


def statements(synthesized):
    return [
        s
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_function_is_named_after_the_consumers_service_stage_and_name(default):
    function = only(default, "AWS::Lambda::Function")
    assert function["FunctionName"] == "orders-john-listener"
    assert (function["Handler"], function["Runtime"]) == ("handler.handler", "python3.14")


def test_mapping_reads_the_imported_stream(default):
    assert mapping(default)["EventSourceArn"] == STREAM_ARN


def test_mapping_batches_100_from_trim_horizon(default):
    assert (mapping(default)["BatchSize"], mapping(default)["StartingPosition"]) == (
        100,
        "TRIM_HORIZON",
    )


def test_mapping_bisects_a_failing_batch(default):
    assert mapping(default)["BisectBatchOnFunctionError"] is True


def test_mapping_lets_the_function_report_the_failed_record(default):
    assert mapping(default)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_mapping_bounds_retries_and_record_age(default):
    assert (
        mapping(default)["MaximumRetryAttempts"],
        mapping(default)["MaximumRecordAgeInSeconds"],
    ) == (
        5,
        6 * 3600,
    )


def test_failed_batches_go_to_the_dead_letter_queue(default):
    queue = logical_id(default, "AWS::SQS::Queue")
    assert mapping(default)["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}
    }


def test_event_types_become_a_filter_on_the_records_data_type(default):
    (criteria,) = mapping(default)["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == {"data": {"type": ["thing-created", "thing-updated"]}}


def test_the_runtime_is_told_the_event_types_as_a_second_guard(default):
    variables = only(default, "AWS::Lambda::Function")["Environment"]["Variables"]
    assert json.loads(variables["EVENT_TYPES"]) == ["thing-created", "thing-updated"]


def test_the_runtime_retries_a_failing_handle_in_place_twice_by_default(default):
    variables = only(default, "AWS::Lambda::Function")["Environment"]["Variables"]
    assert variables["HANDLER_RETRIES"] == "2"


def test_handler_retries_0_turns_retrying_in_place_off(tuned):
    variables = only(tuned, "AWS::Lambda::Function")["Environment"]["Variables"]
    assert variables["HANDLER_RETRIES"] == "0"


def test_no_event_types_means_no_filter(tuned):
    assert "FilterCriteria" not in mapping(tuned)


def test_every_mapping_setting_can_be_overridden(tuned):
    assert {
        k: v
        for k, v in mapping(tuned).items()
        if k not in ("EventSourceArn", "FunctionName", "DestinationConfig")
    } == {
        "BatchSize": 10,
        "StartingPosition": "LATEST",
        "MaximumRetryAttempts": 0,
        "MaximumRecordAgeInSeconds": 60,
        "MaximumBatchingWindowInSeconds": 2,
        "BisectBatchOnFunctionError": False,
        "ParallelizationFactor": 4,
    }


def test_dead_letter_queue_is_named_encrypted_and_keeps_14_days(default):
    queue = only(default, "AWS::SQS::Queue")
    assert queue == {
        "QueueName": "orders-john-listener-dlq",
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 14 * 24 * 3600,
    }


def test_dead_letter_queue_refuses_requests_without_tls(default):
    policy = only(default, "AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy
    )


def test_role_reads_exactly_the_one_stream(default):
    kinesis = [s for s in statements(default) if any(a.startswith("kinesis:") for a in s["Action"])]
    assert [s["Resource"] for s in kinesis] == [STREAM_ARN]
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator"} <= set(kinesis[0]["Action"])
    assert not [a for s in kinesis for a in s["Action"] if a.startswith("kinesis:Put")]


def test_role_sends_to_exactly_the_one_queue(default):
    queue = logical_id(default, "AWS::SQS::Queue")
    sqs = [s for s in statements(default) if any(a.startswith("sqs:") for a in s["Action"])]
    assert [s["Resource"] for s in sqs] == [{"Fn::GetAtt": [queue, "Arn"]}]
    assert "sqs:SendMessage" in sqs[0]["Action"]


def test_role_writes_only_its_own_log_group(default):
    log_group = logical_id(default, "AWS::Logs::LogGroup")
    assert (
        only(default, "AWS::Logs::LogGroup")["LogGroupName"] == "/aws/lambda/orders-john-listener"
    )
    logs = [s for s in statements(default) if any(a.startswith("logs:") for a in s["Action"])]
    assert [s["Resource"] for s in logs] == [{"Fn::GetAtt": [log_group, "Arn"]}]
    assert not only(default, "AWS::IAM::Role").get("ManagedPolicyArns")


def test_no_statement_uses_a_wildcard_resource(default):
    assert not [s for s in statements(default) if "*" in json.dumps(s["Resource"])]


def test_function_is_created_after_its_read_rights(default):
    # The mapping names the function; the function waits for its policy, so Lambda can
    # check the role's Kinesis rights when it creates the mapping.
    (function,) = default.resources("AWS::Lambda::Function").values()
    assert logical_id(default, "AWS::IAM::Policy") in function["DependsOn"]


def test_iterator_age_alarm_warns_before_records_expire(default):
    default.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "IteratorAge", "Statistic": "Maximum", "Threshold": 3_600_000},
    )


def test_dead_letter_alarm_fires_on_one_failed_batch(default):
    default.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1},
    )


def test_errors_alarm_watches_the_function(default):
    default.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "Dimensions": [{"Name": "FunctionName", "Value": Match.any_value()}],
        },
    )


def test_unreadable_records_alarm_watches_the_runtimes_metric(default):
    default.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "UnreadableRecords",
            "Namespace": "CncbEventStream",
            "Dimensions": [{"Name": "FunctionName", "Value": "orders-john-listener"}],
        },
    )


def test_alarms_notify_the_topic_when_given(tuned):
    alarms = tuned.resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 4
    assert all(
        a["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:on-call"]
        for a in alarms
    )


def test_asset_holds_the_users_code_and_the_consumer_runtime_only(default):
    code = only(default, "AWS::Lambda::Function")["Code"]
    asset = os.path.join(default.directory, f"asset.{code['S3Key'].removesuffix('.zip')}")
    assert sorted(os.listdir(asset)) == sorted(["handler.py", *CONSUMER_RUNTIME_FILES])
