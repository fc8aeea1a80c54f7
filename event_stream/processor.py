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
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from event_stream.function_parts import ALARM_PERIOD, alarms, logged_function
from event_stream.imports import import_stream
from event_stream.processor_config import DEFAULT_CONSUMER_SERVICE, ProcessorConfig
from event_stream.runtime import CONSUMER_RUNTIME_FILES, LAMBDA_SRC, event_consumer, metrics


class StreamProcessor(Construct):
    """A function that processes one stage's events, its mapping and its dead-letter queue.

    `StreamProcessor(self, "Listener", stage="john", name="listener", code_dir="listener",
    handler="handler.handler", event_types=["thing-created"])` deploys
    `<service>-john-listener`. Any field of `ProcessorConfig` may be passed as a keyword.
    Attributes: `function`, `dead_letter_queue`, `event_source_mapping`, `alarms`, `config`.
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
        event_types: tuple[str, ...] | list[str] = (),
        service: str = DEFAULT_CONSUMER_SERVICE,
        **options: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        config = ProcessorConfig(
            stage=stage,
            name=name,
            code_dir=str(code_dir),
            handler=handler,
            event_types=tuple(event_types),
            service=service,
            **options,
        )
        self.config = config
        self.stream = import_stream(
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
            timeout=Duration.seconds(config.timeout_seconds),
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
            starting_position=lambda_.StartingPosition[config.starting_position],
            starting_position_timestamp=config.starting_position_timestamp,
            max_batching_window=Duration.seconds(config.max_batching_window_seconds),
            bisect_batch_on_error=config.bisect_batch_on_error,
            report_batch_item_failures=config.report_batch_item_failures,
            retry_attempts=config.retry_attempts,
            max_record_age=Duration.seconds(config.max_record_age_seconds),
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
                self.config.iterator_age_alarm_seconds * 1000,
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
        return alarms(self, watched, topic_arn=self.config.alarm_topic_arn)


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
            local=_WithConsumerRuntime(code_dir),
        ),
    )
