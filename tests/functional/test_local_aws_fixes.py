"""The moto fixes behind the local AWS, one test per fix, plus a canary per moto bug.

If a moto upgrade changes the code a fix replaces, the fix's test fails; if moto fixes the
bug itself, the canary fails and the fix can go.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.kinesis import models as kinesis_models

from event_stream.tools.local import moto_fixes

# What matters in a CDK template for both bugs: a parameter with a default that the
# create call does not pass, and an output that refers to a stream.
TEMPLATE = {
    "Parameters": {"BootstrapVersion": {"Type": "String", "Default": "30"}},
    "Resources": {
        "Stream": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"Name": "fix-test-s1", "ShardCount": 1},
            "DeletionPolicy": "Delete",
        }
    },
    "Outputs": {
        "streamArn": {
            "Value": {"Fn::GetAtt": ["Stream", "Arn"]},
            "Export": {"Name": "fix-test-streamArn"},
        }
    },
}


@pytest.fixture
def fixed(monkeypatch):
    for owner, attribute, replacement in moto_fixes.FIXES:
        monkeypatch.setattr(owner, attribute, replacement)


@pytest.fixture
def aws(aws_credentials):
    with mock_aws():
        yield boto3.client("cloudformation"), boto3.client("kinesis")


def _create(cloudformation, retention=24):
    template = json.loads(json.dumps(TEMPLATE))
    template["Resources"]["Stream"]["Properties"]["RetentionPeriodHours"] = retention
    return cloudformation.create_stack(StackName="fix-test", TemplateBody=json.dumps(template))


def _update_like_the_cdk_cli(cloudformation):
    template = json.loads(json.dumps(TEMPLATE))
    template["Resources"]["Stream"]["Properties"]["RetentionPeriodHours"] = 48
    cloudformation.update_stack(
        StackName="fix-test",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
    )


def test_second_deploy_keeps_a_defaulted_parameter(fixed, aws):
    cloudformation, kinesis = aws
    _create(cloudformation)
    _update_like_the_cdk_cli(cloudformation)
    stack = cloudformation.describe_stacks(StackName="fix-test")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "BootstrapVersion": "30"
    }
    summary = kinesis.describe_stream_summary(StreamName="fix-test-s1")
    assert summary["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48


def test_canary_moto_still_fails_a_second_deploy_without_the_fix(aws):
    cloudformation, _ = aws
    _create(cloudformation)
    with pytest.raises((ClientError, KeyError)):
        _update_like_the_cdk_cli(cloudformation)


def _destroy_like_the_cdk_cli(cloudformation):
    stack_id = cloudformation.describe_stacks(StackName="fix-test")["Stacks"][0]["StackId"]
    cloudformation.delete_stack(StackName="fix-test")
    # The CLI polls the deleted stack by id until it reads DELETE_COMPLETE.
    return cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]


def test_destroyed_stack_stays_destroyed_with_its_stream_and_exports(fixed, aws):
    cloudformation, kinesis = aws
    _create(cloudformation)
    deleted = _destroy_like_the_cdk_cli(cloudformation)
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert kinesis.list_streams()["StreamNames"] == []
    assert cloudformation.list_exports()["Exports"] == []
    _create(cloudformation)  # the same stage deploys again
    assert kinesis.list_streams()["StreamNames"] == ["fix-test-s1"]


def test_canary_moto_still_resurrects_the_stream_without_the_fix(aws):
    cloudformation, kinesis = aws
    _create(cloudformation)
    _destroy_like_the_cdk_cli(cloudformation)
    assert kinesis.list_streams()["StreamNames"] == ["fix-test-s1"]


def _stream_and_function() -> tuple[Any, str]:
    """A stream `mapped` and a function `consumer`: the Kinesis client and the stream ARN."""
    import io
    import zipfile

    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="mapped", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="mapped")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("h.py", "def h(e, c): pass\n")
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    lambda_.create_function(
        FunctionName="consumer",
        Runtime="python3.14",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": code.getvalue()},
    )
    return kinesis, arn


def _stream_with_a_mapped_function(monkeypatch):
    """A stream with a function mapped to it; moto's Lambda invoke is recorded, not run."""
    from moto.awslambda import models as awslambda

    invoked = []
    monkeypatch.setattr(
        awslambda.LambdaBackend,
        "send_kinesis_message",
        lambda self, **kwargs: invoked.append(kwargs["kinesis_sequence_number"]),
    )
    kinesis, arn = _stream_and_function()
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    lambda_.create_event_source_mapping(
        FunctionName="consumer", EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
    )
    kinesis.put_records(
        StreamName="mapped", Records=[{"PartitionKey": "k", "Data": b"x"} for _ in range(3)]
    )
    return kinesis, invoked


def test_writing_to_a_mapped_stream_only_writes(fixed, aws, monkeypatch):
    kinesis, invoked = _stream_with_a_mapped_function(monkeypatch)
    assert invoked == []
    iterator = kinesis.get_shard_iterator(
        StreamName="mapped", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=iterator)["Records"]) == 3


def test_canary_moto_still_invokes_mapped_functions_per_record_without_the_fix(aws, monkeypatch):
    _, invoked = _stream_with_a_mapped_function(monkeypatch)
    assert len(invoked) == 3


FUNCTION_TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "logging-config",
                "Runtime": "python3.14",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
            },
        },
    }
}


def _function_logging(cloudformation, level=None):
    template = json.loads(json.dumps(FUNCTION_TEMPLATE))
    if level:
        template["Resources"]["Function"]["Properties"]["LoggingConfig"]["ApplicationLogLevel"] = (
            level
        )
        cloudformation.update_stack(StackName="logging", TemplateBody=json.dumps(template))
    else:
        cloudformation.create_stack(StackName="logging", TemplateBody=json.dumps(template))
    configuration = boto3.client("lambda").get_function_configuration(FunctionName="logging-config")
    return configuration.get("LoggingConfig")


def test_a_functions_log_level_survives_create_and_update(fixed, aws):
    cloudformation, _ = aws
    assert _function_logging(cloudformation)["ApplicationLogLevel"] == "DEBUG"
    assert _function_logging(cloudformation, "WARN")["ApplicationLogLevel"] == "WARN"


def test_canary_moto_still_drops_the_logging_config_without_the_fix(aws):
    cloudformation, _ = aws
    assert _function_logging(cloudformation) is None


def _mapping_with_filter(pattern: str) -> dict:
    _, arn = _stream_and_function()
    return boto3.client("lambda", region_name="us-east-1").create_event_source_mapping(
        FunctionName="consumer",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )


@pytest.mark.parametrize(
    "pattern",
    ['{"data": {"type": "thing-created"}}', '{"partitionKey": ["1"]}', "null"],
    ids=["scalar-leaf", "metadata-key", "null"],
)
def test_an_invalid_filter_is_refused_when_the_mapping_is_created(fixed, aws, pattern):
    with pytest.raises(ClientError) as raised:
        _mapping_with_filter(pattern)
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValueException",
        "Invalid filter pattern definition.",
    )


def test_an_invalid_filter_is_refused_when_the_mapping_is_updated(fixed, aws):
    mapping = _mapping_with_filter('{"data": {"type": ["a"]}}')
    with pytest.raises(ClientError, match="Invalid filter pattern definition"):
        boto3.client("lambda", region_name="us-east-1").update_event_source_mapping(
            UUID=mapping["UUID"], FilterCriteria={"Filters": [{"Pattern": '{"data": []}'}]}
        )


def test_a_valid_filter_is_kept(fixed, aws):
    mapping = _mapping_with_filter('{"data": {"type": ["a"]}}')
    assert mapping["FilterCriteria"]["Filters"][0]["Pattern"] == '{"data": {"type": ["a"]}}'


def test_canary_moto_still_accepts_an_invalid_filter_without_the_fix(aws):
    assert _mapping_with_filter('{"partitionKey": ["1"]}')["FilterCriteria"]


LAKE_TEMPLATE = {
    "Resources": {
        "Stream": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"Name": "lake-s1", "ShardCount": 1},
        },
        "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
        "AutoDelete": {
            "Type": "Custom::S3AutoDeleteObjects",
            "Properties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:nope",
                "BucketName": {"Ref": "Bucket"},
            },
        },
        "Lake": {
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            "Properties": {
                "DeliveryStreamName": "lake-test",
                "DeliveryStreamType": "KinesisStreamAsSource",
                "KinesisStreamSourceConfiguration": {
                    "KinesisStreamARN": {"Fn::GetAtt": ["Stream", "Arn"]},
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                },
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": {"Fn::GetAtt": ["Bucket", "Arn"]},
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "Prefix": "lake-s1/!{timestamp:yyyy/MM/dd/HH}/",
                    "ErrorOutputPrefix": "lake-s1-errors/!{firehose:error-output-type}/",
                    "CompressionFormat": "GZIP",
                    "BufferingHints": {"IntervalInSeconds": 5, "SizeInMBs": 5},
                },
            },
        },
    },
    "Outputs": {
        "lakeDeliveryStreamName": {"Value": {"Ref": "Lake"}},
        "lakeArn": {"Value": {"Fn::GetAtt": ["Lake", "Arn"]}},
        "bucket": {"Value": {"Ref": "Bucket"}},
    },
}


def _lake_stack(cloudformation) -> dict[str, str]:
    cloudformation.create_stack(StackName="lake", TemplateBody=json.dumps(LAKE_TEMPLATE))
    (stack,) = cloudformation.describe_stacks(StackName="lake")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_delivery_stream_in_a_template_is_created_with_its_outputs(fixed, aws):
    cloudformation, _ = aws
    outputs = _lake_stack(cloudformation)
    assert outputs["lakeDeliveryStreamName"] == "lake-test"
    assert outputs["lakeArn"].endswith(":deliverystream/lake-test")
    firehose = boto3.client("firehose", region_name="us-east-1")
    description = firehose.describe_delivery_stream(DeliveryStreamName="lake-test")
    source = description["DeliveryStreamDescription"]["Source"]
    assert source["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(":stream/lake-s1")


def test_the_delivery_stream_goes_with_its_stack(fixed, aws):
    cloudformation, _ = aws
    _lake_stack(cloudformation)
    cloudformation.delete_stack(StackName="lake")
    names = boto3.client("firehose", region_name="us-east-1").list_delivery_streams()
    assert names["DeliveryStreamNames"] == []


def test_canary_moto_still_skips_a_delivery_stream_without_the_fix(aws, monkeypatch):
    cloudformation, _ = aws
    template = json.loads(json.dumps(LAKE_TEMPLATE))
    del template["Resources"]["AutoDelete"]  # fix 7's part: moto would wait for Docker
    del template["Outputs"]  # moto cannot even validate a GetAtt of a type it lacks
    cloudformation.create_stack(StackName="lake", TemplateBody=json.dumps(template))
    assert (
        boto3.client("firehose", region_name="us-east-1").list_delivery_streams()[
            "DeliveryStreamNames"
        ]
        == []
    )


def test_an_auto_deleted_bucket_is_emptied_and_goes_with_its_stack(fixed, aws):
    cloudformation, _ = aws
    bucket = _lake_stack(cloudformation)["bucket"]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="lake-s1/2026/11/29/15/object.gz", Body=b"x")
    s3.put_object(Bucket=bucket, Key="lake-s1/2026/11/29/15/object.gz", Body=b"y")
    cloudformation.delete_stack(StackName="lake")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_canary_moto_still_waits_for_a_custom_resources_provider_without_the_fix(aws):
    from moto.cloudformation import parsing
    from moto.cloudformation.custom_model import CustomModel

    assert parsing.resource_class_from_type("Custom::S3AutoDeleteObjects") is CustomModel


def test_canary_moto_still_leaves_a_full_bucket_behind_a_deleted_stack_without_the_fix(aws):
    cloudformation, _ = aws
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"}}}
    cloudformation.create_stack(StackName="full", TemplateBody=json.dumps(template))
    s3 = boto3.client("s3", region_name="us-east-1")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    cloudformation.delete_stack(StackName="full")  # AWS: DELETE_FAILED, BucketNotEmpty
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def _sns_delivery_to_sqs(signature_version: str | None = None) -> dict[str, Any]:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="deliveries")["TopicArn"]
    if signature_version:
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="SignatureVersion", AttributeValue=signature_version
        )
    queue = sqs.create_queue(QueueName="delivered")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="hello")
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    return json.loads(message["Body"])


def test_an_sns_delivery_is_signed_with_signature_version_1_by_default(fixed, aws):
    assert _sns_delivery_to_sqs()["SignatureVersion"] == "1"


def test_an_sns_delivery_follows_the_topics_signature_version(fixed, aws):
    assert _sns_delivery_to_sqs("2")["SignatureVersion"] == "2"


def test_canary_moto_still_signs_every_sns_delivery_with_version_2_without_the_fix(aws):
    assert _sns_delivery_to_sqs()["SignatureVersion"] == "2"


# Fix 14: exports in use.

EXPORTER = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shared"}}},
    "Outputs": {
        "queueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}, "Export": {"Name": "old-arn"}}
    },
}


def importer(export_name: str) -> str:
    return json.dumps(
        {
            "Resources": {
                "Topic": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {
                        "TopicName": "consumer",
                        "Tags": [{"Key": "reads", "Value": {"Fn::ImportValue": export_name}}],
                    },
                }
            }
        }
    )


def status(cloudformation, stack: str) -> tuple[str, str | None]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return described["StackStatus"], described.get("StackStatusReason")


def exporter_and_importer(cloudformation) -> None:
    cloudformation.create_stack(StackName="exporter", TemplateBody=json.dumps(EXPORTER))
    cloudformation.create_stack(StackName="importer", TemplateBody=importer("old-arn"))


def test_a_stack_whose_export_is_imported_cannot_be_deleted(fixed, aws):
    cloudformation, _ = aws
    exporter_and_importer(cloudformation)
    cloudformation.delete_stack(StackName="exporter")
    assert status(cloudformation, "exporter") == (
        "DELETE_FAILED",
        "Export old-arn cannot be deleted as it is in use by importer",
    )
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == ["old-arn"]


def test_an_update_removing_an_export_in_use_is_rolled_back(fixed, aws):
    cloudformation, _ = aws
    exporter_and_importer(cloudformation)
    cloudformation.update_stack(
        StackName="exporter", TemplateBody=json.dumps({**EXPORTER, "Outputs": {}})
    )
    assert status(cloudformation, "exporter") == (
        "UPDATE_ROLLBACK_COMPLETE",
        "Export old-arn cannot be deleted as it is in use by importer",
    )


def test_the_export_retirement_recipe_works_step_by_step(fixed, aws):
    cloudformation, _ = aws
    exporter_and_importer(cloudformation)
    # (1) keep the old export while the new one ships
    both = json.loads(json.dumps(EXPORTER))
    both["Outputs"]["newArn"] = {
        "Value": {"Fn::GetAtt": ["Queue", "Arn"]},
        "Export": {"Name": "new-arn"},
    }
    cloudformation.update_stack(StackName="exporter", TemplateBody=json.dumps(both))
    assert status(cloudformation, "exporter")[0] == "UPDATE_COMPLETE"
    # (2) move every consumer to the new name
    cloudformation.update_stack(StackName="importer", TemplateBody=importer("new-arn"))
    # (3) the old export can go now
    del both["Outputs"]["queueArn"]
    cloudformation.update_stack(StackName="exporter", TemplateBody=json.dumps(both))
    assert status(cloudformation, "exporter")[0] == "UPDATE_COMPLETE"
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == ["new-arn"]


def test_a_stack_is_deleted_once_nothing_imports_its_export(fixed, aws):
    cloudformation, _ = aws
    exporter_and_importer(cloudformation)
    cloudformation.delete_stack(StackName="importer")
    cloudformation.delete_stack(StackName="exporter")
    assert cloudformation.list_exports()["Exports"] == []


def test_canary_moto_still_deletes_a_stack_whose_export_is_imported_without_the_fix(aws):
    cloudformation, _ = aws
    exporter_and_importer(cloudformation)
    cloudformation.delete_stack(StackName="exporter")
    assert cloudformation.list_exports()["Exports"] == []


def test_canary_moto_still_ignores_exports_an_update_adds_without_the_fix(aws):
    cloudformation, _ = aws
    cloudformation.create_stack(StackName="exporter", TemplateBody=json.dumps(EXPORTER))
    more = json.loads(json.dumps(EXPORTER))
    more["Outputs"]["newArn"] = {"Value": "x", "Export": {"Name": "new-arn"}}
    cloudformation.update_stack(StackName="exporter", TemplateBody=json.dumps(more))
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == ["old-arn"]


def _mapping_stack(cloudformation, arn):
    template = {
        "Resources": {
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": "consumer",
                    "EventSourceArn": arn,
                    "StartingPosition": "LATEST",
                },
            }
        }
    }
    cloudformation.create_stack(StackName="mapped", TemplateBody=json.dumps(template))


def test_cloudformation_creates_a_mapping_only_once_the_poller_has_settled_it(
    fixed, aws, monkeypatch
):
    import threading
    import time

    from event_stream.tools.local.moto_fixes.mappings import STATES

    monkeypatch.setattr(STATES, "polled", True)
    cloudformation, _ = aws
    _, arn = _stream_and_function()
    lambda_ = boto3.client("lambda", region_name="us-east-1")

    def poller() -> None:  # finds the new mapping, positions it, then settles it
        while not (found := lambda_.list_event_source_mappings()["EventSourceMappings"]):
            time.sleep(0.05)
        time.sleep(0.5)
        STATES.settle(found[0]["UUID"])

    threading.Thread(target=poller, daemon=True).start()
    started = time.monotonic()
    _mapping_stack(cloudformation, arn)
    assert time.monotonic() - started >= 0.5
    (mapping,) = lambda_.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["State"] == "Enabled"


def test_canary_moto_still_creates_a_mapping_without_waiting_for_any_poller(aws):
    cloudformation, _ = aws
    _, arn = _stream_and_function()
    _mapping_stack(cloudformation, arn)
    (mapping,) = boto3.client("lambda", region_name="us-east-1").list_event_source_mappings()[
        "EventSourceMappings"
    ]
    assert mapping["State"] == "Enabled"  # at once, though nothing reads the stream


# Fix 16: a shard's reads and writes do not grow with the shard.


class CountingRecords(OrderedDict):
    """A shard's records that count how many keys or items are walked through."""

    walked = 0

    def keys(self):
        for key in super().keys():  # noqa: SIM118 - counts the walk through keys()
            CountingRecords.walked += 1
            yield key

    def items(self):
        for item in super().items():
            CountingRecords.walked += 1
            yield item


def _full_shard(count: int) -> Any:
    shard = kinesis_models.Shard(0, 0, 2**128)
    for _ in range(count):
        moto_fixes.kinesis.put_record_with_aws_sequence_number(shard, "key", "ZGF0YQ==", None)
    shard.records = CountingRecords(shard.records)
    CountingRecords.walked = 0
    return shard


def test_writing_to_a_full_shard_walks_none_of_its_records(fixed):
    shard = _full_shard(2000)
    shard.put_record("key", "ZGF0YQ==", None)
    assert CountingRecords.walked == 0
    assert shard.get_max_sequence_number() == next(reversed(shard.records))


def test_reading_from_the_middle_of_a_full_shard_walks_none_of_its_records(fixed):
    shard = _full_shard(2000)
    numbers = list(dict.keys(shard.records))
    records, last, _ = shard.get_records(str(numbers[1499]), 10)
    assert CountingRecords.walked == 0
    assert [r.sequence_number for r in records] == numbers[1500:1510]
    assert last == numbers[1509]


def test_a_caught_up_read_returns_nothing_and_keeps_its_place(fixed):
    shard = _full_shard(5)
    newest = next(reversed(shard.records))
    assert shard.get_records(str(newest), 10) == ([], newest, 0)


def test_get_records_answers_the_json_aws_does(fixed, aws):
    _, kinesis = aws
    kinesis.create_stream(StreamName="fix-16", ShardCount=1)
    kinesis.put_record(StreamName="fix-16", Data=b"\x00\xffbytes", PartitionKey="pk")
    iterator = kinesis.get_shard_iterator(
        StreamName="fix-16", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = kinesis.get_records(ShardIterator=iterator)
    (record,) = page["Records"]
    assert record["Data"] == b"\x00\xffbytes"
    assert record["PartitionKey"] == "pk"
    assert len(record["SequenceNumber"]) == 56
    assert record["ApproximateArrivalTimestamp"].tzinfo is not None
    assert page["MillisBehindLatest"] == 0
    assert page["NextShardIterator"]


def test_canary_moto_still_walks_the_whole_shard_without_the_fix():
    shard = _full_shard(2000)
    shard.put_record = kinesis_models.Shard.put_record.__get__(shard)
    kinesis_models.Shard.get_max_sequence_number(shard)
    assert CountingRecords.walked >= 2000
