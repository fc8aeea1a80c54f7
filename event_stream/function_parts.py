"""What both constructs build: a function with its own role and log group, and alarms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

# The newest Python runtime Lambda offers; the assets are stdlib + boto3 only.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ALARM_PERIOD = Duration.minutes(5)


def logged_function(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    handler: str,
    code: lambda_.Code,
    environment: Mapping[str, str],
    description: str,
    log_level: str | None,
    log_retention_days: int,
    tracing: bool,
    timeout: Duration,
    memory_size: int = 256,
    async_retry_attempts: int | None = None,
    runtime: lambda_.Runtime = RUNTIME,
    overrides: Mapping[str, Any] | None = None,
) -> lambda_.Function:
    """A function named `name` with a role and a log group of its own.

    The role may write only to that log group (instead of AWSLambdaBasicExecutionRole,
    whose log rights cover every log group in the account); the caller grants the rest.
    Logs are JSON at `log_level`; `log_level` None leaves the levels (and, through
    `overrides`, the format) to the caller. `overrides` are `lambda_.Function` arguments laid
    over these.
    """
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        log_group_name=f"/aws/lambda/{name}",
        removal_policy=RemovalPolicy.DESTROY,
    )
    # RetentionDays is a named enum; the validated number of days goes straight in.
    cast(logs.CfnLogGroup, log_group.node.default_child).retention_in_days = log_retention_days
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"{name}: {description}, logs to /aws/lambda/{name}",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    levels: dict[str, Any] = (
        {
            "application_log_level_v2": lambda_.ApplicationLogLevel[log_level],
            "system_log_level_v2": lambda_.SystemLogLevel.WARN,
        }
        if log_level
        else {}
    )
    function = lambda_.Function(
        scope,
        construct_id,
        **{
            "function_name": name,
            "runtime": runtime,
            "architecture": lambda_.Architecture.ARM_64,
            "handler": handler,
            "code": code,
            "environment": dict(environment),
            "role": role,
            "log_group": log_group,
            "logging_format": lambda_.LoggingFormat.JSON,
            **levels,
            "tracing": lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            "memory_size": memory_size,
            "timeout": timeout,
            "retry_attempts": async_retry_attempts,
            **(overrides or {}),
        },
    )
    if tracing:
        # Tracing.ACTIVE adds xray:PutTraceSegments/PutTelemetryRecords on "*".
        Validations.of(role.node.find_child("DefaultPolicy")).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray's PutTraceSegments and PutTelemetryRecords accept no "
                "resource-level permissions; the other rights stay scoped",
            )
        )
    return function


def alarms(
    scope: Construct,
    watched: list[tuple[str, cloudwatch.IMetric, str, float]],
    *,
    topic: sns.ITopic | str | None,
) -> list[cloudwatch.Alarm]:
    """One alarm per `(id, metric, description, threshold)`: at or over the threshold in one
    period, missing data is fine; each notifies `topic` (an ITopic or a topic ARN) if given."""
    action = None
    if isinstance(topic, str):
        topic = sns.Topic.from_topic_arn(scope, "AlarmTopic", topic)
    if topic is not None:
        action = cloudwatch_actions.SnsAction(topic)
    created = []
    for name, metric, description, threshold in watched:
        alarm = cloudwatch.Alarm(
            scope,
            f"{name}Alarm",
            metric=metric,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if action:
            alarm.add_alarm_action(action)
        created.append(alarm)
    return created
