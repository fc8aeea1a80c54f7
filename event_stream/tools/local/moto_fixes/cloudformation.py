"""moto fixes for CloudFormation: the CDK's second deploy, deleted stacks, and the models
moto lacks (Firehose delivery streams, CDK's auto-delete of a bucket)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cloudformation
from moto.cloudformation import parsing
from moto.firehose.models import firehose_backends
from moto.s3 import models as s3
from moto.s3.exceptions import BucketNotEmpty
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition


def _previous_parameter_value(instance: Any, key: str) -> Any:
    """What CloudFormation means by UsePreviousValue: the value given last time, or the
    previous template's default when none was given."""
    if key in instance.parameters:
        return instance.parameters[key]
    template = getattr(instance, "template_dict", None) or {}
    return template.get("Parameters", {}).get(key, {}).get("Default")


def resolve_update_parameters(
    self: Any, instance: Any, incoming_params: list[dict[str, Any]]
) -> dict[str, Any]:
    """Fix 1: moto 5.2.5 looks UsePreviousValue parameters up among the values *given* at
    create time only, so a parameter that took its default (the `BootstrapVersion` every
    CDK stack has) raises KeyError (HTTP 500) on the second `cdk deploy`."""
    parameters = {
        p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p
    }
    for parameter in incoming_params:
        if parameter.get("UsePreviousValue", False):
            key = parameter["ParameterKey"]
            parameters[key] = _previous_parameter_value(instance, key)
    return parameters


_stack_outputs = cloudformation.Stack.outputs.fget
_stack_exports = cloudformation.Stack.exports.fget


def deleted_stack_outputs(self: Any) -> Any:
    """Fix 2: describing a DELETE_COMPLETE stack (the CDK CLI polls it by id after
    `cdk destroy`) evaluates its outputs, and moto's lazy resource map re-creates every
    resource an output refers to: the deleted stream comes back. A deleted stack has none."""
    return [] if self.status == "DELETE_COMPLETE" else _stack_outputs(self)


def deleted_stack_exports(self: Any) -> Any:
    """Fix 2, for exports (evaluated by the same describe)."""
    return [] if self.status == "DELETE_COMPLETE" else _stack_exports(self)


class _Model:
    """What moto's CloudFormation asks of a resource model (fixes 6 and 7 have no moto class
    to subclass: a CloudFormationModel subclass would register itself, fix or not)."""

    @staticmethod
    def is_created() -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        original_resource.replaced(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def replaced(self, account_id: str, region_name: str) -> None:
        """What replacing this resource on a stack update undoes first (nothing by default)."""


class DeliveryStreamResource(_Model):
    """Fix 6: moto 5.2.5's CloudFormation has no model for AWS::KinesisFirehose::DeliveryStream:
    a stack with one reaches CREATE_COMPLETE without it, and outputs that refer to it are
    dropped. This model creates (and deletes) it through moto's Firehose API, as
    CloudFormation calls CreateDeliveryStream; `Ref` is its name, `Fn::GetAtt Arn` its ARN."""

    TYPE = "AWS::KinesisFirehose::DeliveryStream"

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> DeliveryStreamResource:
        props = cloudformation_json.get("Properties", {})
        name = props.get("DeliveryStreamName") or resource_name
        arn = firehose_backends[account_id][region_name].create_delivery_stream(
            region_name,
            delivery_stream_name=name,
            delivery_stream_type=props.get("DeliveryStreamType", "DirectPut"),
            kinesis_stream_source_configuration=props.get("KinesisStreamSourceConfiguration"),
            delivery_stream_encryption_configuration_input=props.get(
                "DeliveryStreamEncryptionConfigurationInput"
            ),
            s3_destination_configuration=props.get("S3DestinationConfiguration"),
            extended_s3_destination_configuration=props.get("ExtendedS3DestinationConfiguration"),
            redshift_destination_configuration=None,
            elasticsearch_destination_configuration=None,
            splunk_destination_configuration=None,
            http_endpoint_destination_configuration=None,
            snowflake_destination_configuration=None,
            iceberg_destination_configuration=None,
            tags=props.get("Tags") or [],
        )
        return cls(name, arn)

    def replaced(self, account_id: str, region_name: str) -> None:
        # A changed destination is applied by replacing the stream under the same name.
        self.delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = firehose_backends[account_id][region_name]
        if self.name in backend.delivery_streams:
            backend.delete_delivery_stream(self.name)

    @staticmethod
    def has_cfn_attr(attribute: str) -> bool:
        return attribute == "Arn"

    def get_cfn_attribute(self, attribute: str) -> str:
        return self.arn


class AutoDeleteObjectsResource(_Model):
    """Fix 7: moto runs a custom resource only by invoking its provider function through
    Docker and waiting for its answer, so a stack with CDK's `autoDeleteObjects` (the
    Custom::S3AutoDeleteObjects resource, a Node.js provider) never finishes creating here.
    This model does what that provider does on AWS: nothing on create and update; on delete,
    it empties the bucket (every version), so that the bucket can go with the stack."""

    TYPE = "Custom::S3AutoDeleteObjects"

    def __init__(self, bucket_name: str) -> None:
        self.bucket_name = bucket_name

    @property
    def physical_resource_id(self) -> str:
        return f"AutoDeleteObjects-{self.bucket_name}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> AutoDeleteObjectsResource:
        return cls(cloudformation_json.get("Properties", {}).get("BucketName", ""))

    def delete(self, account_id: str, region_name: str) -> None:
        bucket = s3_backends[account_id][get_partition(region_name)].buckets.get(self.bucket_name)
        if bucket is not None:
            bucket.keys.clear()  # every version and delete marker

    @staticmethod
    def has_cfn_attr(attribute: str) -> bool:
        return False

    def get_cfn_attribute(self, attribute: str) -> None:
        return None


def delete_bucket_resource(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    """Fix 7, the bucket's side: moto "deletes" a stack's bucket that still has objects by
    leaving it in place and reporting success; CloudFormation fails the deletion
    (BucketNotEmpty). Raising lets moto retry it after the bucket was emptied (moto deletes a
    stack's resources in no set order, retrying what failed), as AWS's dependency order does."""
    backend = s3_backends[account_id][get_partition(region_name)]
    bucket = backend.buckets.get(resource_name)
    if bucket is not None and bucket.keys:
        raise BucketNotEmpty(resource_name)
    backend.delete_bucket(resource_name)


_resource_class_from_type = parsing.resource_class_from_type
_MODELS = {model.TYPE: model for model in (DeliveryStreamResource, AutoDeleteObjectsResource)}


def resource_class_with_fixes(resource_type: str) -> Any:
    """Fixes 6 and 7: the models moto lacks, before moto's own lookup."""
    return _MODELS.get(resource_type) or _resource_class_from_type(resource_type)


FIXES = (
    (cloudformation.CloudFormationBackend, "_resolve_update_parameters", resolve_update_parameters),
    (cloudformation.Stack, "outputs", property(deleted_stack_outputs)),
    (cloudformation.Stack, "exports", property(deleted_stack_exports)),
    (parsing, "resource_class_from_type", resource_class_with_fixes),
    (s3.FakeBucket, "delete_from_cloudformation_json", classmethod(delete_bucket_resource)),
)
