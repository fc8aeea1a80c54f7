"""EventLake: every event of a stage kept in S3, beyond the stream's retention, via Firehose.

The cookbook's data lake recipe, on aws-cdk-lib's stable `aws_kinesisfirehose` L2: a
Firehose delivery stream reads the stage's stream and writes GZIP objects of one JSON line
per event (the stdlib transformer `lambda_src/lake_transformer.py` adds each record's Kinesis
coordinates), under `<stream name>/YYYY/MM/dd/HH/` by the UTC hour of the oldest record in
the object ("Custom Prefixes for Amazon S3 Objects"); what the transformer cannot read lands
under `<stream name>-errors/processing-failed/...`, untouched, never dropped.

Firehose "starts reading data from the LATEST position of your Kinesis stream" ("Configure
source settings for Amazon Kinesis Data Streams"): a lake created after events were
published never sees them, which is why `EventStreamStack` creates it with the stream.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Duration, RemovalPolicy, Size, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from event_stream.checks import (
    ConfigError,
    check_function_settings,
    check_seconds,
    is_unresolved,
)
from event_stream.config import (
    DEFAULT_LAKE_BUFFER_SECONDS,
    DEFAULT_SERVICE,
    LAKE_SUFFIX,
    MAX_LAKE_BUFFER_SECONDS,
    check_stage,
    function_name,
    lake_delivery_stream_name,
    stream_name,
)
from event_stream.function_parts import ALARM_PERIOD, alarms, logged_function
from event_stream.imports import import_stream
from event_stream.runtime import LAKE_RUNTIME_FILES, LAMBDA_SRC, metrics

TRANSFORMER_TIMEOUT = Duration.minutes(1)
BUFFER_SIZE = Size.mebibytes(5)  # Firehose's default; the interval decides on a quiet stream


def lake_prefixes(stream_name: str) -> tuple[str, str]:
    """Where the lake's objects go, and where the records Firehose could not process go."""
    hour = "!{timestamp:yyyy/MM/dd/HH}"
    return f"{stream_name}/{hour}/", f"{stream_name}-errors/!{{firehose:error-output-type}}/{hour}/"


class EventLake(Construct):
    """A stage's event lake: an S3 bucket, the Firehose delivery stream that fills it from
    the stage's stream, its transformer function, and alarms.

    Attributes: `bucket`, `delivery_stream`, `transformer`, `alarms`, `stream_name`,
    `delivery_stream_name`.

    :param stage: the stage whose stream is kept (names follow it, checked as StageConfig does).
    :param stream: the stream to read (any `IStream`). Default: the stage's, imported through
        its exports.
    :param service: the event stream's service name. Default: `cncb-event-stream`.
    :param buffering_interval: how long Firehose gathers records before writing an object,
        0 to 900 s. Default: 300 s (fewer, larger objects; a dev stage wants seconds).
    :param retention: how long objects are kept. Default: forever (the lake is the history).
    :param removal_policy: what `cdk destroy` does with the bucket. Default: RETAIN; with
        DESTROY the bucket is emptied first (CDK's auto-delete), so the stack goes cleanly.
    :param log_level, log_retention_days, tracing: the transformer's, as the publishers'.
    :param alarm_topic: where the alarms notify (an `ITopic` or a topic ARN). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        stream: kinesis.IStream | None = None,
        service: str = DEFAULT_SERVICE,
        buffering_interval: Duration | None = None,
        retention: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        log_level: str = "INFO",
        log_retention_days: int = 30,
        tracing: bool = False,
        alarm_topic: sns.ITopic | str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_stage(stage, service)
        check_function_settings(log_level, log_retention_days, tracing)
        interval = buffering_interval or Duration.seconds(DEFAULT_LAKE_BUFFER_SECONDS)
        if not isinstance(interval, Duration):
            raise ConfigError(f"invalid buffering_interval {interval!r}: must be a Duration")
        if not interval.is_unresolved():
            check_seconds("buffering_interval", interval.to_seconds(), 0, MAX_LAKE_BUFFER_SECONDS)
        self.stream_name = stream_name(stage, service)
        self.delivery_stream_name = lake_delivery_stream_name(stage, service)
        source = stream or import_stream(self, "Stream", stage=stage, service=service)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            lifecycle_rules=(
                [s3.LifecycleRule(expiration=retention, noncurrent_version_expiration=retention)]
                if retention
                else None
            ),
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="only Firehose writes the lake and readers use the stage's exports; "
                "CloudTrail data events, not a second bucket of access logs, are its audit",
            )
        )
        self.transformer = logged_function(
            self,
            "Transformer",
            name=function_name(stage, LAKE_SUFFIX, service),
            handler="lake_transformer.handler",
            code=lambda_.Code.from_asset(
                str(LAMBDA_SRC), exclude=["*", *(f"!{name}" for name in LAKE_RUNTIME_FILES)]
            ),
            environment={},
            description=f"Firehose transformer of {self.stream_name} into its lake",
            log_level=log_level,
            log_retention_days=log_retention_days,
            tracing=tracing,
            timeout=TRANSFORMER_TIMEOUT,
        )
        data_prefix, error_prefix = lake_prefixes(self.stream_name)
        self.delivery_stream = firehose.DeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_name=self.delivery_stream_name,
            source=firehose.KinesisStreamSource(source),
            destination=firehose.S3Bucket(
                self.bucket,
                buffering_interval=interval,
                buffering_size=BUFFER_SIZE,
                compression=firehose.Compression.GZIP,
                data_output_prefix=data_prefix,
                error_output_prefix=error_prefix,
                processors=[
                    firehose.LambdaFunctionProcessor(
                        self.transformer, buffer_interval=interval, buffer_size=Size.mebibytes(1)
                    )
                ],
            ),
        )
        # The L2 adds a region map of Firehose's CIDR blocks, read only by destinations that
        # Firehose reaches over the network (Redshift, Splunk): unused here, and CDK's own
        # template validation warns about an unused mapping on every synth.
        Stack.of(self).node.try_remove_child("@aws-cdk--aws-kinesisfirehose.CidrBlocks")
        self._acknowledge_firehose_findings()
        self.alarms = self._alarms(interval, alarm_topic)

    def _acknowledge_firehose_findings(self) -> None:
        Validations.of(self.delivery_stream).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-KDF1",
                reason="Firehose offers no server-side encryption for a Kinesis source: the "
                "records are encrypted in the stream (KMS) and in the bucket (S3-managed)",
            )
        )
        stack = Stack.of(self)
        bucket_id = stack.resolve(stack.get_logical_id(_cfn(self.bucket)))
        function_id = stack.resolve(stack.get_logical_id(_cfn(self.transformer)))
        grants = {
            "Action::s3:Abort*": "S3 actions the Firehose L2 grants on exactly this bucket",
            "Action::s3:DeleteObject*": "S3 actions the Firehose L2 grants on this bucket",
            "Action::s3:GetBucket*": "S3 actions the Firehose L2 grants on exactly this bucket",
            "Action::s3:GetObject*": "S3 actions the Firehose L2 grants on exactly this bucket",
            "Action::s3:List*": "S3 actions the Firehose L2 grants on exactly this bucket",
            f"Resource::<{bucket_id}.Arn>/*": "the objects of exactly this bucket, any key",
            f"Resource::<{function_id}.Arn>:*": "invoking exactly the transformer, any version",
        }
        for finding, what in grants.items():
            Validations.of(self.delivery_stream).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]",
                    reason=f"{what}: Firehose writes the lake's objects and calls the "
                    "transformer, nothing else",
                )
            )

    def _alarms(self, interval: Duration, topic: sns.ITopic | str | None) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of the lake needs to hear about."""
        name = self.delivery_stream_name
        seconds = 300 if is_unresolved(interval) else interval.to_seconds()
        stale_after = 3 * max(seconds, 60)  # a few buffer intervals
        watched: list[tuple[str, cloudwatch.IMetric, str, float]] = [
            (
                "LakeFreshness",
                self.delivery_stream.metric(
                    "DeliveryToS3.DataFreshness", period=ALARM_PERIOD, statistic="Maximum"
                ),
                f"{name}: the oldest record not yet in the lake is over {stale_after} s old",
                stale_after,
            ),
            (
                "LakeTransformerErrors",
                self.transformer.metric_errors(period=ALARM_PERIOD),
                f"{self.transformer.function_name}: invocations that failed (Firehose "
                "retries, then writes the batch under the error prefix)",
                1,
            ),
            (
                "LakeUnreadableRecords",
                cloudwatch.Metric(
                    namespace=metrics.NAMESPACE,
                    metric_name=metrics.UNREADABLE_METRIC,
                    dimensions_map={"FunctionName": self.transformer.function_name},
                    period=ALARM_PERIOD,
                    statistic="Sum",
                ),
                f"{name}: records that are not event envelopes (under the error prefix)",
                1,
            ),
        ]
        return alarms(self, watched, topic=topic)


def _cfn(construct: Construct) -> CfnElement:
    """The L1 resource behind an L2 construct."""
    return cast(CfnElement, construct.node.default_child)
