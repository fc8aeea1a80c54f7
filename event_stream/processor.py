"""StreamProcessor: a consumer function on a stage's event stream, with safe defaults.

The consumer side of the cookbook: the stage's stream imported through its exports, the
user's handler folder (Python: shipped with the consumer runtime, `event_consumer.py` and
the envelope module, copied in at synth with no Docker; Node.js: as it is) or the user's own
function (`existing_function`), an event source mapping that bisects,
reports the failed record, gives up on a poison record after a bounded number of tries and
keeps the failed batch's coordinates in a dead-letter queue, and the alarms that say when
any of that happens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Duration,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from event_stream.bundled_code import bundled_code
from event_stream.checks import ConfigError
from event_stream.contracts.files import Contract
from event_stream.contracts.settings import STRICT_ENV, ContractSettings, checked
from event_stream.function_parts import ALARM_PERIOD, alarms, logged_function
from event_stream.imports import import_stream
from event_stream.processor_config import ProcessorConfig, takes_options_of
from event_stream.runtime import CONSUMER_RUNTIME_FILES, event_consumer, metrics


class StreamProcessor(Construct):
    """A function that processes one stage's events, its mapping and its dead-letter queue.

    `StreamProcessor(self, "Listener", stage="john", name="listener", code_dir="listener",
    handler="handler.handler", event_types=["thing-created"])` deploys
    `<service>-john-listener`. Attributes: `function` (the one built, or `existing_function`),
    `dead_letter_queue` (None with `deploy_dead_letter_queue=False` or `on_failure`),
    `event_source_mapping`,
    `stream`, `alarms` (empty with `create_alarms=False`), `config` (the validated
    `ProcessorConfig`). Every option, its default and what it protects against are listed
    under `__init__`, made from `ProcessorConfig`'s fields.
    """

    @takes_options_of(ProcessorConfig)
    def __init__(self, scope: Construct, construct_id: str, **options: Any) -> None:
        super().__init__(scope, construct_id)
        config = ProcessorConfig.from_options(options)
        self.config = config
        self.stream = config.stream or import_stream(
            self, "Stream", stage=config.stage, service=config.stream_service
        )
        self.contracts = self._contracts()
        self.function = config.existing_function or self._function()
        self.dead_letter_queue = self._queue() if config.builds_queue else None
        if (
            self.contracts
            and self.dead_letter_queue
            and isinstance(self.function, lambda_.Function)
        ):
            # Where the runtime sends the events that break their contract.
            self.function.add_environment(
                event_consumer.VIOLATIONS_QUEUE_ENV, self.dead_letter_queue.queue_url
            )
            self.dead_letter_queue.grant_send_messages(self.function)
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
            on_failure=config.on_failure
            or (event_sources.SqsDlq(self.dead_letter_queue) if self.dead_letter_queue else None),
            tumbling_window=config.tumbling_window,
            filters=[
                lambda_.FilterCriteria.filter(
                    {"data": {"type": lambda_.FilterRule.or_(*config.event_types)}}
                )
            ]
            if config.event_types
            else None,
        )
        self.alarms = self._alarms() if config.create_alarms else []

    def _contracts(self) -> dict[str, list[Contract]]:
        """The contracts this function checks: its event types' (every type's without a
        filter), from the `contracts` option or context; none for a function not built here
        or not Python (the consumer runtime is what checks)."""
        config = self.config
        settings = ContractSettings.from_context(self.node.try_get_context, Path.cwd())
        if config.contracts is not None:
            settings = ContractSettings(Path(config.contracts), settings.strict, settings.mode)
        self.contracts_strict = settings.strict
        if config.existing_function is not None or not config.is_python:
            return {}
        contracts = checked(settings)
        if contracts and not config.builds_queue:
            raise ConfigError(
                f"stream processor {config.name!r}: contracts send violating events to the "
                "processor's dead-letter queue: keep deploy_dead_letter_queue (and no on_failure)"
            )
        if config.event_types:
            return {t: v for t, v in contracts.items() if t in config.event_types}
        return contracts

    def _function(self) -> lambda_.Function:
        config = self.config
        assert config.code_dir is not None and config.handler is not None  # checked in config
        environment = dict(config.environment)
        if config.event_types and config.is_python:
            environment[event_consumer.EVENT_TYPES_ENV] = json.dumps(list(config.event_types))
        if config.is_python:
            environment[event_consumer.RETRIES_ENV] = str(config.handler_retries)
        if self.contracts and self.contracts_strict:
            environment[STRICT_ENV] = "true"
        destination = f", sends failed batches to {config.queue_name}"
        return logged_function(
            self,
            "Function",
            name=config.function_name,
            handler=config.handler,
            runtime=config.runtime,
            code=bundled_code(
                code_dir=Path(config.code_dir),
                runtime_files=CONSUMER_RUNTIME_FILES,
                contracts=self.contracts,
                types=self.contracts,
            )
            if config.is_python
            else lambda_.Code.from_asset(str(config.code_dir)),
            environment=environment,
            description=f"reads the {config.stage} event stream"
            + (destination if config.builds_queue else ""),
            log_level=config.log_level if config.uses_json_logs else None,
            log_retention_days=config.log_retention_days,
            tracing=config.tracing,
            timeout=config.timeout,
            memory_size=config.memory_size,
            overrides=config.function_props,
        )

    def _queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            **{
                "queue_name": self.config.queue_name,
                "encryption": sqs.QueueEncryption.SQS_MANAGED,
                "enforce_ssl": True,
                "retention_period": Duration.days(14),
                **(self.config.dead_letter_queue_props or {}),
            },
        )
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="this queue is the dead-letter destination of the event source mapping",
            )
        )
        return queue

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """What an on-call engineer of a consumer needs to hear about."""
        built = self.config.existing_function is None
        # The plain name of the function built here (its function_name is a Ref token).
        name = self.config.function_name if built else self.function.function_name
        watched: list[tuple[str, cloudwatch.IMetric, str, float]] = [
            (
                "IteratorAge",
                self.function.metric("IteratorAge", period=ALARM_PERIOD, statistic="Maximum"),
                f"{name}: falling behind the stream (records expire when retention runs out)",
                self.config.iterator_age_alarm.to_milliseconds(),
            ),
            (
                "Errors",
                self.function.metric_errors(period=ALARM_PERIOD),
                f"{name}: invocations that failed",
                1,
            ),
        ]
        if self.dead_letter_queue:
            watched.append(
                (
                    "DeadLetters",
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=ALARM_PERIOD, statistic="Maximum"
                    ),
                    f"{name}: failed batches waiting in {self.config.queue_name} "
                    "(python -m event_stream dlq --function ...)",
                    1,
                )
            )
        # Counted by the consumer runtime the construct ships (Python functions only).
        counted = []
        if self.contracts:
            counted.append(
                (
                    "ContractViolations",
                    metrics.CONTRACT_VIOLATIONS_METRIC,
                    f"{name}: events that break their contract (in {self.config.queue_name})",
                )
            )
        if built and self.config.is_python:
            counted.append(
                (
                    "UnreadableRecords",
                    metrics.UNREADABLE_METRIC,
                    f"{name}: records that are not event envelopes (skipped)",
                )
            )
        for alarm_id, metric_name, description in counted:
            metric = cloudwatch.Metric(
                namespace=metrics.NAMESPACE,
                metric_name=metric_name,
                dimensions_map={"FunctionName": self.config.function_name},
                period=ALARM_PERIOD,
                statistic="Sum",
            )
            watched.append((alarm_id, metric, description, 1))
        return alarms(self, watched, topic=self.config.alarm_topic)
