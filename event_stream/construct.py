"""EventStream: the stream, its publisher functions, their roles, log groups and alarms."""

from __future__ import annotations

import math

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from event_stream.config import DEFAULT_RECORD_BYTES, StageConfig
from event_stream.runtime import LAMBDA_SRC, RUNTIME_FILES, publisher

# The newest Python runtime Lambda offers; the asset is stdlib + boto3 only.
RUNTIME = lambda_.Runtime.PYTHON_3_14


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
            timeout=Duration.seconds(10),
        )
        self.publish_batch_function = self._function(
            "PublishBatch",
            config.publish_batch_function_name,
            "handler.publish_batch",
            "kinesis:PutRecords",
            timeout=Duration.seconds(60),
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
            stream.node.default_child.add_property_override(
                "MaxRecordSizeInKiB", math.ceil(config.max_record_bytes / 1024)
            )
        return stream

    def _function(
        self, construct_id: str, name: str, handler: str, action: str, *, timeout: Duration
    ) -> lambda_.Function:
        config = self.config
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{name}",
            removal_policy=RemovalPolicy.DESTROY,
        )
        # RetentionDays is a named enum; the validated number of days goes straight in.
        log_group.node.default_child.retention_in_days = config.log_retention_days
        # A role of its own instead of AWSLambdaBasicExecutionRole, whose log rights
        # cover every log group in the account.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name}: {action} on {config.stream_name}, logs to /aws/lambda/{name}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            construct_id,
            function_name=name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self.code,
            environment={
                "STREAM_NAME": self.stream.stream_name,
                "MAX_RECORD_BYTES": str(config.max_record_bytes),
            },
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel[config.log_level],
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            memory_size=256,
            timeout=timeout,
        )
        # Exactly one action, on exactly this stream.
        self.stream.grant(role, action)
        if config.tracing:
            # Tracing.ACTIVE adds xray:PutTraceSegments/PutTelemetryRecords on "*".
            Validations.of(role.node.find_child("DefaultPolicy")).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                    reason="X-Ray's PutTraceSegments and PutTelemetryRecords accept no "
                    "resource-level permissions; the Kinesis and log rights stay scoped",
                )
            )
        return function

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of a publisher needs to hear about."""
        period = Duration.minutes(5)
        watched: list[tuple[str, cloudwatch.IMetric, str]] = [
            (
                "WriteThrottled",
                self.stream.metric_write_provisioned_throughput_exceeded(
                    period=period, statistic="Sum"
                ),
                f"{self.config.stream_name}: writes throttled (shard write limit reached)",
            ),
            (
                "BatchUnpublished",
                cloudwatch.Metric(
                    namespace=publisher.METRICS_NAMESPACE,
                    metric_name=publisher.UNPUBLISHED_METRIC,
                    dimensions_map={"FunctionName": self.config.publish_batch_function_name},
                    period=period,
                    statistic="Sum",
                ),
                f"{self.config.publish_batch_function_name}: events it could not publish",
            ),
        ]
        for name, function in (
            ("Publish", self.publish_function),
            ("PublishBatch", self.publish_batch_function),
        ):
            watched.append(
                (
                    f"{name}Errors",
                    function.metric_errors(period=period),
                    f"{function.function_name}: invocations that failed",
                )
            )
            watched.append(
                (
                    f"{name}Throttles",
                    function.metric_throttles(period=period),
                    f"{function.function_name}: invocations throttled",
                )
            )
        action = None
        if self.config.alarm_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "AlarmTopic", self.config.alarm_topic_arn)
            action = cloudwatch_actions.SnsAction(topic)
        alarms = []
        for name, metric, description in watched:
            alarm = metric.create_alarm(
                self,
                f"{name}Alarm",
                alarm_description=description,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            if action:
                alarm.add_alarm_action(action)
            alarms.append(alarm)
        return alarms
