"""EventStream: the stream, its publisher functions, their roles, log groups and alarms."""

from __future__ import annotations

import math
from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from event_stream.config import DEFAULT_RECORD_BYTES, StageConfig
from event_stream.function_parts import ALARM_PERIOD, alarms, logged_function
from event_stream.runtime import LAMBDA_SRC, RUNTIME_FILES, metrics

# One event: a few Kinesis calls. Many: a payload of up to 6 MB (Lambda's limit) is at most
# a few hundred PutRecords requests; whatever does not fit is answered NotSent.
PUBLISH_TIMEOUT = Duration.seconds(10)
PUBLISH_BATCH_TIMEOUT = Duration.seconds(30)


class EventStream(Construct):
    """A stage's Kinesis stream and the two publisher functions that write to it.

    Each function has its own role, allowed exactly one Kinesis action on this one stream
    and writing only to its own log group; nothing else may invoke it but an IAM principal.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.stream = self._stream()
        # Only the runtime files: no tests, caches or notes reach the asset. One Code object
        # for both functions: the asset is staged and hashed once.
        self.code = lambda_.Code.from_asset(
            str(LAMBDA_SRC), exclude=["*", *(f"!{name}" for name in RUNTIME_FILES)]
        )
        self.publish_function = self._function(
            "Publish",
            config.publish_function_name,
            "handler.publish",
            "kinesis:PutRecord",
            timeout=PUBLISH_TIMEOUT,
        )
        self.publish_batch_function = self._function(
            "PublishBatch",
            config.publish_batch_function_name,
            "handler.publish_batch",
            "kinesis:PutRecords",
            timeout=PUBLISH_BATCH_TIMEOUT,
        )
        self.alarms = self._alarms()

    def _stream(self) -> kinesis.Stream:
        config = self.config
        stream = kinesis.Stream(
            self,
            "Stream",
            stream_name=config.stream_name,
            retention_period=Duration.hours(config.retention_hours),
            stream_mode=(
                kinesis.StreamMode.ON_DEMAND if config.on_demand else kinesis.StreamMode.PROVISIONED
            ),
            shard_count=None if config.on_demand else config.shard_count,
            # Stated explicitly: the default hides the key behind a region condition.
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=RemovalPolicy.RETAIN if config.retain_stream else RemovalPolicy.DESTROY,
        )
        if config.max_record_bytes > DEFAULT_RECORD_BYTES:
            # The stream must opt into records over 1 MiB; the L2 has no property for it yet.
            cast(kinesis.CfnStream, stream.node.default_child).add_property_override(
                "MaxRecordSizeInKiB", math.ceil(config.max_record_bytes / 1024)
            )
        return stream

    def _function(
        self, construct_id: str, name: str, handler: str, action: str, *, timeout: Duration
    ) -> lambda_.Function:
        config = self.config
        function = logged_function(
            self,
            construct_id,
            name=name,
            handler=handler,
            code=self.code,
            environment={
                "STREAM_NAME": self.stream.stream_name,
                "MAX_RECORD_BYTES": str(config.max_record_bytes),
                # Lambda does not tell the code its timeout; every call is sized from it.
                "FUNCTION_TIMEOUT_SECONDS": str(int(timeout.to_seconds())),
            },
            description=f"{action} on {config.stream_name}",
            log_level=config.log_level,
            log_retention_days=config.log_retention_days,
            tracing=config.tracing,
            timeout=timeout,
            # Lambda's own retry of an asynchronous invocation would publish the events
            # again under fresh ids; a caller that retries supplies the ids (README).
            async_retry_attempts=0,
        )
        # Exactly one action, on exactly this stream.
        self.stream.grant(cast(iam.IRole, function.role), action)
        return function

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of a publisher needs to hear about."""
        watched: list[tuple[str, cloudwatch.IMetric, str, float]] = [
            (
                "WriteThrottled",
                self.stream.metric_write_provisioned_throughput_exceeded(
                    period=ALARM_PERIOD, statistic="Sum"
                ),
                f"{self.config.stream_name}: writes throttled (shard write limit reached)",
                1,
            ),
            (
                "BatchUnpublished",
                cloudwatch.Metric(
                    namespace=metrics.NAMESPACE,
                    metric_name=metrics.UNPUBLISHED_METRIC,
                    dimensions_map={"FunctionName": self.config.publish_batch_function_name},
                    period=ALARM_PERIOD,
                    statistic="Sum",
                ),
                f"{self.config.publish_batch_function_name}: events it could not publish",
                1,
            ),
        ]
        for name, function in (
            ("Publish", self.publish_function),
            ("PublishBatch", self.publish_batch_function),
        ):
            watched.append(
                (
                    f"{name}Errors",
                    function.metric_errors(period=ALARM_PERIOD),
                    f"{function.function_name}: invocations that failed",
                    1,
                )
            )
            watched.append(
                (
                    f"{name}Throttles",
                    function.metric_throttles(period=ALARM_PERIOD),
                    f"{function.function_name}: invocations throttled",
                    1,
                )
            )
        return alarms(self, watched, topic=self.config.alarm_topic_arn)
