"""EventStream: the stream, its publisher functions, their roles, log groups and alarms."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from event_stream.bundled_code import bundled_code
from event_stream.checks import ConfigError, check_function_settings, check_int, check_seconds
from event_stream.config import (
    DEFAULT_RECORD_BYTES,
    DEFAULT_SERVICE,
    MAX_RECORD_BYTES,
    MAX_RETENTION_HOURS,
    MAX_SHARDS,
    MIN_RECORD_BYTES,
    MIN_RETENTION_HOURS,
    MIN_SHARDS,
    PUBLISH_BATCH_SUFFIX,
    PUBLISH_SUFFIX,
    check_stage,
    function_name,
    stream_name,
)
from event_stream.contracts.settings import STRICT_ENV, ContractSettings, checked
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
    Names follow the stage: stream `<stage>-<service>-s1`, functions
    `<service>-<stage>-publish` and `...-publish-batch`. Attributes: `stream`,
    `publish_function`, `publish_batch_function`, `alarms`.

    :param stage: the stage (letters, digits and hyphens; every name it makes must fit).
    :param service: the first word of every name. Default: `cncb-event-stream`.
    :param shard_count: shards of a provisioned stream, 1 to 10,000. Default: 1.
    :param on_demand: an on-demand stream (no shard count to manage). Default: False.
    :param retention: how long the stream keeps records, 24 hours to 365 days. Default:
        24 hours (Kinesis's included retention).
    :param max_record_bytes: the largest record (partition key + data) the publishers send,
        1 KiB to 10 MiB; over 1 MiB the stream opts into large records. Default: 1 MiB.
    :param removal_policy: what `cdk destroy` does with the stream. Default: DESTROY (so the
        stage can be deployed again; a retained, named stream collides with its next deploy).
    :param log_level, log_retention_days, tracing: the publishers' (INFO, 30 days, off).
    :param alarm_topic: where the alarms notify (an `ITopic` or a topic ARN). Default: none.
    :param contracts: the folder of the app's event contracts (`<folder>/<type>/v<N>.json`):
        the publishers check each event's body against its type's newest version, refuse a
        violation and tag the event `tags.contract`. Default: the `contracts` context key
        (relative to the folder of `cdk.json`, where the synth runs); none: no contracts, so
        an app without them is unchanged. `contractsStrict` and `contractsCompatibility`
        come from context too.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        service: str = DEFAULT_SERVICE,
        shard_count: int = 1,
        on_demand: bool = False,
        retention: Duration | None = None,
        max_record_bytes: int = DEFAULT_RECORD_BYTES,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        log_level: str = "INFO",
        log_retention_days: int = 30,
        tracing: bool = False,
        alarm_topic: sns.ITopic | str | None = None,
        contracts: str | Path | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_stage(stage, service)
        check_function_settings(log_level, log_retention_days, tracing)
        check_int("shard_count", shard_count, MIN_SHARDS, MAX_SHARDS)
        check_int("max_record_bytes", max_record_bytes, MIN_RECORD_BYTES, MAX_RECORD_BYTES)
        retention = retention or Duration.hours(MIN_RETENTION_HOURS)
        if not retention.is_unresolved():
            check_seconds(
                "retention",
                retention.to_seconds(),
                MIN_RETENTION_HOURS * 3600,
                MAX_RETENTION_HOURS * 3600,
            )
        if on_demand and shard_count != 1:
            raise ConfigError(
                f"stage {stage!r}: shard_count={shard_count} cannot be combined with "
                "on_demand (an on-demand stream has no shard count)"
            )
        self.stream_name = stream_name(stage, service)
        self.max_record_bytes = max_record_bytes
        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_name=self.stream_name,
            retention_period=retention,
            stream_mode=kinesis.StreamMode.ON_DEMAND
            if on_demand
            else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else shard_count,
            # Stated explicitly: the default hides the key behind a region condition.
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=removal_policy,
        )
        if max_record_bytes > DEFAULT_RECORD_BYTES:
            # The stream must opt into records over 1 MiB; the L2 has no property for it yet.
            cast(kinesis.CfnStream, self.stream.node.default_child).add_property_override(
                "MaxRecordSizeInKiB", math.ceil(max_record_bytes / 1024)
            )
        settings = ContractSettings.from_context(self.node.try_get_context, Path.cwd())
        if contracts is not None:
            settings = ContractSettings(Path(contracts), settings.strict, settings.mode)
        self.contracts = checked(settings)
        self.contracts_strict = settings.strict
        # Only the runtime files: no tests, caches or notes reach the asset. One Code object
        # for both functions: the asset is staged and hashed once.
        self.code = (
            bundled_code(
                code_dir=None,
                runtime_files=RUNTIME_FILES,
                contracts=self.contracts,
                types=self.contracts,
            )
            if self.contracts
            else lambda_.Code.from_asset(
                str(LAMBDA_SRC), exclude=["*", *(f"!{name}" for name in RUNTIME_FILES)]
            )
        )
        logging: dict[str, Any] = {"log_level": log_level, "log_retention_days": log_retention_days}
        # Plain names (not the functions' Ref tokens): alarms and descriptions read them.
        self.publish_function_name = function_name(stage, PUBLISH_SUFFIX, service)
        self.publish_batch_function_name = function_name(stage, PUBLISH_BATCH_SUFFIX, service)
        self.publish_function = self._function(
            "Publish",
            self.publish_function_name,
            "handler.publish",
            "kinesis:PutRecord",
            timeout=PUBLISH_TIMEOUT,
            tracing=tracing,
            **logging,
        )
        self.publish_batch_function = self._function(
            "PublishBatch",
            self.publish_batch_function_name,
            "handler.publish_batch",
            "kinesis:PutRecords",
            timeout=PUBLISH_BATCH_TIMEOUT,
            tracing=tracing,
            **logging,
        )
        self.alarms = self._alarms(alarm_topic)

    def _function(
        self,
        construct_id: str,
        name: str,
        handler: str,
        action: str,
        *,
        timeout: Duration,
        tracing: bool,
        log_level: str,
        log_retention_days: int,
    ) -> lambda_.Function:
        function = logged_function(
            self,
            construct_id,
            name=name,
            handler=handler,
            code=self.code,
            environment={
                "STREAM_NAME": self.stream.stream_name,
                "MAX_RECORD_BYTES": str(self.max_record_bytes),
                # Lambda does not tell the code its timeout; every call is sized from it.
                "FUNCTION_TIMEOUT_SECONDS": str(int(timeout.to_seconds())),
                **({STRICT_ENV: "true"} if self.contracts and self.contracts_strict else {}),
            },
            description=f"{action} on {self.stream_name}",
            log_level=log_level,
            log_retention_days=log_retention_days,
            tracing=tracing,
            timeout=timeout,
            # Lambda's own retry of an asynchronous invocation would publish the events
            # again under fresh ids; a caller that retries supplies the ids (README).
            async_retry_attempts=0,
        )
        # Exactly one action, on exactly this stream.
        self.stream.grant(cast(iam.IRole, function.role), action)
        return function

    def _alarms(self, topic: sns.ITopic | str | None) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of a publisher needs to hear about."""
        watched: list[tuple[str, cloudwatch.IMetric, str, float]] = [
            (
                "WriteThrottled",
                self.stream.metric_write_provisioned_throughput_exceeded(
                    period=ALARM_PERIOD, statistic="Sum"
                ),
                f"{self.stream_name}: writes throttled (shard write limit reached)",
                1,
            ),
            (
                "BatchUnpublished",
                cloudwatch.Metric(
                    namespace=metrics.NAMESPACE,
                    metric_name=metrics.UNPUBLISHED_METRIC,
                    dimensions_map={"FunctionName": self.publish_batch_function_name},
                    period=ALARM_PERIOD,
                    statistic="Sum",
                ),
                f"{self.publish_batch_function_name}: events it could not publish",
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
        return alarms(self, watched, topic=topic)
