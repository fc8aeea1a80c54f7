"""The moto fixes the CDK development loop needs, each naming the moto 5.2.5 behaviour it
corrects. tests/functional/test_local_aws_fixes.py keeps a test and a canary per fix, so a
moto upgrade that changes the behaviour is seen at once.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda import models as awslambda
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.cloudformation import models as cloudformation
from moto.cloudformation import parsing
from moto.firehose.models import firehose_backends
from moto.kinesis import models as kinesis
from moto.s3 import models as s3
from moto.s3.exceptions import BucketNotEmpty
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from event_stream.tools.lambda_model.event_filter import FilterError, patterns_of


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


def put_record_without_invoking(
    self: Any, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    """Fix 3: moto 5.2.5 invokes every function mapped to the stream, through Docker, once
    per record inside PutRecord and PutRecords. With no Docker engine each record logs
    "error running docker" and publishing slows to a crawl (531 instead of 11,589 events/s
    with one consumer deployed). The local AWS's poller delivers to mapped functions
    instead, with Lambda's batching; writing a record only writes it."""
    shard = self.get_shard_for_key(partition_key, explicit_hash_key)
    sequence_number = shard.put_record(partition_key, data, explicit_hash_key)
    return sequence_number, shard.shard_id


_create_function = awslambda.LambdaFunction.create_from_cloudformation_json.__func__
_update_function = awslambda.LambdaFunction.update_from_cloudformation_json.__func__
_function_configuration = awslambda.LambdaFunction.get_configuration


def create_function_with_logging_config(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4: moto 5.2.5 drops a function's LoggingConfig from CloudFormation (and never
    answers one), so the code run here could not know its ApplicationLogLevel: a stage
    deployed at DEBUG logged at INFO. The fix keeps the template's LoggingConfig."""
    function = _create_function(cls, *args, **kwargs)
    function.logging_config = _properties(args, kwargs).get("LoggingConfig")
    return function


def update_function_with_logging_config(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4, for a stack update: the new template's LoggingConfig replaces the old one."""
    function = _update_function(cls, *args, **kwargs)
    function.logging_config = _properties(args, kwargs).get("LoggingConfig")
    return function


def function_configuration_with_logging_config(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4, for GetFunction and GetFunctionConfiguration."""
    configuration = _function_configuration(self, *args, **kwargs)
    if getattr(self, "logging_config", None):
        configuration["LoggingConfig"] = self.logging_config
    return configuration


def _properties(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    template = kwargs.get("cloudformation_json") or next(a for a in args if isinstance(a, dict))
    return dict(template.get("Properties", {}))


_create_mapping = awslambda.LambdaBackend.create_event_source_mapping
_update_mapping = awslambda.LambdaBackend.update_event_source_mapping


def _check_filter_criteria(event_source_arn: str, spec: dict[str, Any]) -> None:
    if ":kinesis:" in event_source_arn and "FilterCriteria" in spec:
        try:
            patterns_of(spec["FilterCriteria"])
        except FilterError as error:
            raise InvalidParameterValueException(str(error)) from None


def create_mapping_checking_filters(self: Any, spec: dict[str, Any]) -> Any:
    """Fix 5: moto 5.2.5 stores any FilterCriteria. Lambda refuses an invalid pattern, and on
    a Kinesis mapping a pattern on anything but `data`, when the mapping is created
    (InvalidParameterValueException "Invalid filter pattern definition.", as recorded on
    real AWS); accepted, it would only fail later, as records are read, or filter them all."""
    _check_filter_criteria(spec.get("EventSourceArn", ""), spec)
    return _create_mapping(self, spec)


def update_mapping_checking_filters(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    """Fix 5, for UpdateEventSourceMapping: the new FilterCriteria is checked the same way."""
    mapping = self.get_event_source_mapping(uuid)
    if mapping is not None:
        _check_filter_criteria(mapping.event_source_arn, spec)
    return _update_mapping(self, uuid, spec)


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


# (owner, attribute, replacement): what apply_fixes sets, and what the tests patch in.
FIXES = (
    (cloudformation.CloudFormationBackend, "_resolve_update_parameters", resolve_update_parameters),
    (cloudformation.Stack, "outputs", property(deleted_stack_outputs)),
    (cloudformation.Stack, "exports", property(deleted_stack_exports)),
    (kinesis.Stream, "put_record", put_record_without_invoking),
    (
        awslambda.LambdaFunction,
        "create_from_cloudformation_json",
        classmethod(create_function_with_logging_config),
    ),
    (
        awslambda.LambdaFunction,
        "update_from_cloudformation_json",
        classmethod(update_function_with_logging_config),
    ),
    (awslambda.LambdaFunction, "get_configuration", function_configuration_with_logging_config),
    (awslambda.LambdaBackend, "create_event_source_mapping", create_mapping_checking_filters),
    (awslambda.LambdaBackend, "update_event_source_mapping", update_mapping_checking_filters),
    (parsing, "resource_class_from_type", resource_class_with_fixes),
    (s3.FakeBucket, "delete_from_cloudformation_json", classmethod(delete_bucket_resource)),
)


def apply_fixes() -> None:
    """Patch moto in this process; idempotent."""
    for owner, attribute, replacement in FIXES:
        setattr(owner, attribute, replacement)
