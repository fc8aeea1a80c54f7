"""StreamProcessor: a consumer function on a stage's event stream, with safe defaults.

The consumer side of the cookbook: the stage's stream imported through its exports, the
user's handler folder shipped with the consumer runtime (`event_consumer.py` and the
envelope module, copied in at synth: no Docker), an event source mapping that bisects,
reports the failed record, gives up on a poison record after a bounded number of tries and
keeps the failed batch's coordinates in a dead-letter queue, and the alarms that say when
any of that happens.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from event_stream.function_parts import ALARM_PERIOD, alarms, logged_function
from event_stream.imports import import_stream
from event_stream.processor_config import ProcessorConfig
from event_stream.runtime import CONSUMER_RUNTIME_FILES, LAMBDA_SRC, event_consumer, metrics


class StreamProcessor(Construct):
    """A function that processes one stage's events, its mapping and its dead-letter queue.

    `StreamProcessor(self, "Listener", stage="john", name="listener", code_dir="listener",
    handler="handler.handler", event_types=["thing-created"])` deploys
    `<service>-john-listener`. Attributes: `function`, `dead_letter_queue`,
    `event_source_mapping`, `stream`, `alarms`, `config` (the validated `ProcessorConfig`).

    :param stage: the stage whose stream is read (its exports, unless `stream` is given).
    :param name: the processor's name: function `<service>-<stage>-<name>`.
    :param code_dir: the folder with the handler module; the consumer runtime
        (`event_consumer.py`, `event_envelope.py`, `metrics.py`) is shipped beside it.
    :param handler: `module.function` in `code_dir`.
    :param event_types: the envelope types to receive, as a filter on `data.type` (events of
        other types never invoke the function). Default: every event.
    :param service: the consumer's own service name, the first word of its names.
        Default: `cncb-stream-processor`.
    :param stream: an existing stream to read instead of the stage's export (any `IStream`).
        Default: the stage's stream, imported with `Fn::ImportValue`.
    :param stream_service: the service of the stream's stack, for the import.
        Default: `cncb-event-stream`.
    :param batch_size: records per invocation, 1 to 10,000. Default: 100.
    :param starting_position: where a new mapping starts reading. Default:
        `StartingPosition.TRIM_HORIZON` (every record the stream still has, so a new
        consumer misses nothing published before its first deploy).
    :param starting_position_timestamp: with `StartingPosition.AT_TIMESTAMP` only (epoch s).
    :param max_batching_window: how long to gather records before invoking, up to 5
        minutes. Default: no wait (lowest latency).
    :param retry_attempts: retries of a failed batch before it goes to the dead-letter
        queue, 0 to 10,000. Default: 5 (Lambda's own default retries until the records
        expire, blocking the shard behind one poison record).
    :param max_record_age: records older than this are not retried but dead-lettered, 60 s
        to 7 days. Default: 6 hours (the failed batch's coordinates reach the queue while the
        records are still on a 24-hour stream, so `dlq` can fetch them).
    :param bisect_batch_on_error: split a batch whose invocation failed, to isolate a poison
        record. Default: True.
    :param report_batch_item_failures: let the handler report the first failed record, so
        only the records from it on are retried. Default: True.
    :param parallelization_factor: concurrent batches per shard, 1 to 10 (order is kept
        per partition key). Default: 1.
    :param timeout: the function's timeout, up to 15 minutes. Default: 30 seconds.
    :param memory_size: MB, 128 to 10,240. Default: 256.
    :param log_level: the function's application log level (DEBUG, INFO, WARN, ERROR).
        Default: INFO.
    :param log_retention_days: a retention CloudWatch Logs accepts. Default: 30.
    :param iterator_age_alarm: alarm when the function falls this far behind the stream.
        Default: 1 hour.
    :param alarm_topic: where the alarms notify: an `ITopic` or a topic ARN (a token from
        the same app is fine). Default: no notification.
    :param tracing: X-Ray active tracing. Default: False.
    :param environment: extra environment variables for the function. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        name: str,
        code_dir: str | Path,
        handler: str,
        event_types: Sequence[str] = (),
        service: str | None = None,
        stream: kinesis.IStream | None = None,
        stream_service: str | None = None,
        batch_size: int | None = None,
        starting_position: lambda_.StartingPosition | None = None,
        starting_position_timestamp: float | None = None,
        max_batching_window: Duration | None = None,
        retry_attempts: int | None = None,
        max_record_age: Duration | None = None,
        bisect_batch_on_error: bool | None = None,
        report_batch_item_failures: bool | None = None,
        parallelization_factor: int | None = None,
        timeout: Duration | None = None,
        memory_size: int | None = None,
        log_level: str | None = None,
        log_retention_days: int | None = None,
        iterator_age_alarm: Duration | None = None,
        alarm_topic: sns.ITopic | str | None = None,
        tracing: bool | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # What the caller gave; ProcessorConfig holds the defaults and checks every value.
        given: dict[str, Any] = {
            "service": service,
            "stream_service": stream_service,
            "batch_size": batch_size,
            "starting_position": starting_position,
            "starting_position_timestamp": starting_position_timestamp,
            "max_batching_window": max_batching_window,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "bisect_batch_on_error": bisect_batch_on_error,
            "report_batch_item_failures": report_batch_item_failures,
            "parallelization_factor": parallelization_factor,
            "timeout": timeout,
            "memory_size": memory_size,
            "log_level": log_level,
            "log_retention_days": log_retention_days,
            "iterator_age_alarm": iterator_age_alarm,
            "alarm_topic": alarm_topic,
            "tracing": tracing,
            "environment": environment,
        }
        config = ProcessorConfig(
            stage=stage,
            name=name,
            code_dir=str(code_dir),
            handler=handler,
            event_types=tuple(event_types),
            **{key: value for key, value in given.items() if value is not None},
        )
        self.config = config
        self.stream = stream or import_stream(
            self, "Stream", stage=config.stage, service=config.stream_service
        )
        environment = dict(config.environment)
        if config.event_types:
            environment[event_consumer.EVENT_TYPES_ENV] = json.dumps(list(config.event_types))
        self.function = logged_function(
            self,
            "Function",
            name=config.function_name,
            handler=config.handler,
            code=_code(Path(config.code_dir)),
            environment=environment,
            description=f"reads the {config.stage} event stream, sends failed batches to "
            f"{config.queue_name}",
            log_level=config.log_level,
            log_retention_days=config.log_retention_days,
            tracing=config.tracing,
            timeout=config.timeout,
            memory_size=config.memory_size,
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=config.queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(self.dead_letter_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="this queue is the dead-letter destination of the event source mapping",
            )
        )
        # Read exactly this stream; the on-failure destination grants sending to the queue.
        self.stream.grant_read(self.function)
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=self.function,
            event_source_arn=self.stream.stream_arn,
            batch_size=config.batch_size,
            starting_position=config.starting_position,
            starting_position_timestamp=config.starting_position_timestamp,
            max_batching_window=config.max_batching_window,
            bisect_batch_on_error=config.bisect_batch_on_error,
            report_batch_item_failures=config.report_batch_item_failures,
            retry_attempts=config.retry_attempts,
            max_record_age=config.max_record_age,
            parallelization_factor=config.parallelization_factor,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=[
                lambda_.FilterCriteria.filter(
                    {"data": {"type": lambda_.FilterRule.or_(*config.event_types)}}
                )
            ]
            if config.event_types
            else None,
        )
        self.alarms = self._alarms()

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of a consumer needs to hear about."""
        name = self.config.function_name
        watched: list[tuple[str, cloudwatch.IMetric, str, float]] = [
            (
                "IteratorAge",
                self.function.metric("IteratorAge", period=ALARM_PERIOD, statistic="Maximum"),
                f"{name}: falling behind the stream (records expire when retention runs out)",
                self.config.iterator_age_alarm.to_milliseconds(),
            ),
            (
                "DeadLetters",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                f"{name}: failed batches waiting in {self.config.queue_name} "
                "(python -m event_stream dlq --function ...)",
                1,
            ),
            (
                "Errors",
                self.function.metric_errors(period=ALARM_PERIOD),
                f"{name}: invocations that failed",
                1,
            ),
            (
                "UnreadableRecords",
                cloudwatch.Metric(
                    namespace=metrics.NAMESPACE,
                    metric_name=event_consumer.UNREADABLE_METRIC,
                    dimensions_map={"FunctionName": name},
                    period=ALARM_PERIOD,
                    statistic="Sum",
                ),
                f"{name}: records that are not event envelopes (skipped)",
                1,
            ),
        ]
        return alarms(self, watched, topic=self.config.alarm_topic)


@jsii.implements(ILocalBundling)
class _WithConsumerRuntime:
    """Local bundling: the user's folder plus the consumer runtime files, no Docker."""

    def __init__(self, code_dir: Path) -> None:
        self.code_dir = code_dir

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        shutil.copytree(
            self.code_dir,
            output_dir,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        for file_name in CONSUMER_RUNTIME_FILES:
            shutil.copy(LAMBDA_SRC / file_name, Path(output_dir) / file_name)
        return True


def _code(code_dir: Path) -> lambda_.Code:
    # Hashed on the bundled output: a new runtime version redeploys every processor.
    return lambda_.Code.from_asset(
        str(code_dir),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),
            # jsii hands try_bundle its options positionally, not as the protocol's keywords.
            local=_WithConsumerRuntime(code_dir),  # type: ignore[arg-type]
        ),
    )
