"""The event lake in the stage's stack, one behaviour per test (templates built once)."""

from __future__ import annotations

import json
import os

import pytest

from event_stream.config import ConfigError, StageConfig
from event_stream.runtime import LAKE_RUNTIME_FILES
from tests.unit.synth import synth

STREAM = "dev-cncb-event-stream-s1"


@pytest.fixture(scope="module")
def dev():
    return synth(StageConfig(stage="dev"))


def only(synthesized, resource_type):
    (resource,) = synthesized.resources(resource_type).values()
    return resource


def logical_id(synthesized, resource_type):
    (name,) = synthesized.resources(resource_type)
    return name


def destination(synthesized):
    props = only(synthesized, "AWS::KinesisFirehose::DeliveryStream")["Properties"]
    return props["ExtendedS3DestinationConfiguration"]


def transformer(synthesized):
    functions = synthesized.resources("AWS::Lambda::Function")
    ((name, function),) = [
        (n, f)
        for n, f in functions.items()
        if f["Properties"].get("FunctionName") == "cncb-event-stream-dev-lake"
    ]
    return name, function


def test_the_stack_keeps_a_lake_by_default(dev):
    assert len(dev.resources("AWS::KinesisFirehose::DeliveryStream")) == 1


def test_a_stage_can_go_without_a_lake():
    assert synth(StageConfig(lake=False)).resources("AWS::KinesisFirehose::DeliveryStream") == {}


def test_firehose_reads_the_stages_stream(dev):
    props = only(dev, "AWS::KinesisFirehose::DeliveryStream")["Properties"]
    stream = logical_id(dev, "AWS::Kinesis::Stream")
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {
        "Fn::GetAtt": [stream, "Arn"]
    }
    assert props["DeliveryStreamName"] == "dev-cncb-event-stream-lake"


def test_objects_are_gzip_under_the_stream_name_by_utc_hour(dev):
    config = destination(dev)
    assert config["CompressionFormat"] == "GZIP"
    assert config["Prefix"] == f"{STREAM}/!{{timestamp:yyyy/MM/dd/HH}}/"


def test_what_cannot_be_processed_goes_under_an_error_prefix(dev):
    assert destination(dev)["ErrorOutputPrefix"] == (
        f"{STREAM}-errors/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd/HH}}/"
    )


def test_buffering_comes_from_the_stage():
    quick = synth(StageConfig(lake_buffer_seconds=10))
    assert destination(quick)["BufferingHints"] == {"IntervalInSeconds": 10, "SizeInMBs": 5}


def test_the_dev_stage_buffers_for_seconds_as_cdk_json_sets_it():
    from tests.conftest import ROOT

    stages = json.loads((ROOT / "cdk.json").read_text())["context"]["stages"]
    assert stages["dev"]["lakeBufferSeconds"] <= 10


def test_every_record_passes_the_stdlib_transformer(dev):
    name, function = transformer(dev)
    (processor,) = destination(dev)["ProcessingConfiguration"]["Processors"]
    arn = next(p for p in processor["Parameters"] if p["ParameterName"] == "LambdaArn")
    assert arn["ParameterValue"] == {"Fn::GetAtt": [name, "Arn"]}
    assert function["Properties"]["Handler"] == "lake_transformer.handler"


def test_the_transformer_ships_only_its_runtime_files(dev):
    _, function = transformer(dev)
    key = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    assert sorted(os.listdir(os.path.join(dev.directory, f"asset.{key}"))) == sorted(
        LAKE_RUNTIME_FILES
    )


def test_the_bucket_is_encrypted_private_and_versioned(dev):
    props = only(dev, "AWS::S3::Bucket")["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_the_bucket_refuses_requests_without_tls(dev):
    statements = only(dev, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_objects_are_kept_forever_by_default(dev):
    assert "LifecycleConfiguration" not in only(dev, "AWS::S3::Bucket")["Properties"]


def test_a_stage_retention_expires_objects():
    kept = synth(StageConfig(lake_retention_days=400))
    (rule,) = only(kept, "AWS::S3::Bucket")["Properties"]["LifecycleConfiguration"]["Rules"]
    assert (rule["ExpirationInDays"], rule["Status"]) == (400, "Enabled")


def test_a_stage_that_retains_its_stream_retains_its_lake():
    retained = synth(StageConfig(retain_stream=True))
    assert only(retained, "AWS::S3::Bucket")["DeletionPolicy"] == "Retain"
    assert retained.resources("Custom::S3AutoDeleteObjects") == {}


def test_other_stages_empty_and_delete_the_lake_with_the_stack(dev):
    assert only(dev, "AWS::S3::Bucket")["DeletionPolicy"] == "Delete"
    assert len(dev.resources("Custom::S3AutoDeleteObjects")) == 1


def test_the_delivery_role_reads_exactly_the_stages_stream(dev):
    stream_arn = {"Fn::GetAtt": [logical_id(dev, "AWS::Kinesis::Stream"), "Arn"]}
    kinesis_statements = [
        statement
        for policy in dev.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(a).startswith("kinesis:Get") for a in _list(statement["Action"]))
    ]
    assert kinesis_statements and all(s["Resource"] == stream_arn for s in kinesis_statements)


def test_the_delivery_role_invokes_exactly_the_transformer(dev):
    name, _ = transformer(dev)
    invokes = [
        statement
        for policy in dev.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in _list(statement["Action"])
    ]
    (statement,) = invokes
    assert statement["Resource"] == [
        {"Fn::GetAtt": [name, "Arn"]},
        {"Fn::Join": ["", [{"Fn::GetAtt": [name, "Arn"]}, ":*"]]},
    ]


def test_the_transformer_writes_only_its_own_log_group(dev):
    _, function = transformer(dev)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = [
        p
        for p in dev.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


@pytest.mark.parametrize(
    "metric,namespace",
    [
        ("DeliveryToS3.DataFreshness", "AWS/Firehose"),
        ("Errors", "AWS/Lambda"),
        ("UnreadableRecords", "CncbEventStream"),
    ],
)
def test_the_lake_alarms(dev, metric, namespace):
    dev.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": metric, "Namespace": namespace}
    )


def test_freshness_alarms_after_a_few_buffer_intervals():
    quick = synth(StageConfig(lake_buffer_seconds=120))
    quick.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "DeliveryToS3.DataFreshness", "Threshold": 360, "Statistic": "Maximum"},
    )


@pytest.mark.parametrize(
    "key,export",
    [
        ("lakeBucketName", "cncb-event-stream-dev-lakeBucketName"),
        ("lakeBucketArn", "cncb-event-stream-dev-lakeBucketArn"),
    ],
)
def test_the_lake_bucket_is_exported_under_the_contract_names(dev, key, export):
    assert dev.json["Outputs"][key]["Export"] == {"Name": export}


def test_the_delivery_stream_name_is_an_output(dev):
    assert dev.json["Outputs"]["lakeDeliveryStreamName"]["Value"] == {
        "Ref": logical_id(dev, "AWS::KinesisFirehose::DeliveryStream")
    }


def test_outputs_are_exactly_the_contract_ones(dev):
    assert set(dev.json["Outputs"]) == {
        "streamName",
        "streamArn",
        "publishFunctionName",
        "publishBatchFunctionName",
        "lakeBucketName",
        "lakeBucketArn",
        "lakeDeliveryStreamName",
    }


def test_no_unused_mapping_is_left_for_cdks_validation_to_warn_about(dev):
    assert "Mappings" not in dev.json


@pytest.mark.parametrize(
    "context,words",
    [
        ({"lake_buffer_seconds": 901}, "invalid lakeBufferSeconds 901"),
        ({"lake_retention_days": -1}, "invalid lakeRetentionDays -1"),
        ({"lake": "yes"}, "invalid lake 'yes'"),
    ],
)
def test_bad_lake_settings_are_one_line(context, words):
    with pytest.raises(ConfigError, match=words):
        StageConfig(**context)


def _list(value):
    return value if isinstance(value, list) else [value]
