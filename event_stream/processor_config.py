"""ProcessorConfig: a StreamProcessor's settings, validated once, with their defaults.

The defaults live here, and only here; `StreamProcessor` passes on what its caller gave.
Settings use CDK's types and names (as `aws_lambda_event_sources.KinesisEventSource` has
them); a value that is an unresolved token is left for AWS to check at deploy time.
Names follow the consumer's own service: `<service>-<stage>-<name>` for the function,
`...-dlq` for its dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from event_stream.checks import (
    ConfigError,
    check_bool,
    check_int,
    check_log_level,
    check_log_retention_days,
    check_name,
    check_seconds,
    check_topic_arn,
)
from event_stream.config import (
    DEFAULT_SERVICE,
    MAX_FUNCTION_NAME,
    SERVICE_PATTERN,
    STAGE_PATTERN,
    function_name,
)
from event_stream.runtime import CONSUMER_RUNTIME_FILES

DEFAULT_CONSUMER_SERVICE = "cncb-stream-processor"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*$"
HANDLER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
MAX_QUEUE_NAME = 80
# Lambda's ranges for a Kinesis event source mapping (CreateEventSourceMapping).
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW_SECONDS = 300
MAX_RETRY_ATTEMPTS = 10_000
MIN_RECORD_AGE_SECONDS, MAX_RECORD_AGE_SECONDS = 60, 604_800
MAX_PARALLELIZATION_FACTOR = 10
MAX_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class ProcessorConfig:
    """How one consumer function processes a stage's stream.

    The defaults are what a consumer should have and Lambda does not give by default:
    bisect a failing batch, report the failed record instead of failing the batch, stop
    retrying a poison record after 5 attempts or 6 hours (Lambda's own default retries for
    up to the record's expiry, blocking its shard), and keep a failed batch's coordinates
    in a dead-letter queue for 14 days, while the records are still on the stream.
    `StreamProcessor`'s docstring says what each setting protects against.
    """

    stage: str
    name: str
    code_dir: str
    handler: str
    event_types: tuple[str, ...] = ()
    service: str = DEFAULT_CONSUMER_SERVICE
    stream_service: str = DEFAULT_SERVICE
    batch_size: int = 100
    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON
    starting_position_timestamp: float | None = None
    max_batching_window: Duration = field(default_factory=lambda: Duration.seconds(0))
    retry_attempts: int = 5
    max_record_age: Duration = field(default_factory=lambda: Duration.hours(6))
    bisect_batch_on_error: bool = True
    report_batch_item_failures: bool = True
    parallelization_factor: int = 1
    timeout: Duration = field(default_factory=lambda: Duration.seconds(30))
    memory_size: int = 256
    log_level: str = "INFO"
    log_retention_days: int = 30
    iterator_age_alarm: Duration = field(default_factory=lambda: Duration.hours(1))
    alarm_topic: sns.ITopic | str | None = None
    tracing: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name("service", self.service, SERVICE_PATTERN, "letters, digits and hyphens")
        check_name("stage", self.stage, STAGE_PATTERN, "letters, digits and hyphens")
        check_name("name", self.name, NAME_PATTERN, "letters, digits and hyphens")
        check_name("handler", self.handler, HANDLER_PATTERN, "module.function")
        for kind, value, limit in (
            ("function name", self.function_name, MAX_FUNCTION_NAME),
            ("queue name", self.queue_name, MAX_QUEUE_NAME),
        ):
            if len(value) > limit:
                raise ConfigError(
                    f"invalid stream processor {self.name!r}: the {kind} {value!r} would be "
                    f"{len(value)} characters, AWS allows {limit}"
                )
        if isinstance(self.event_types, str) or not all(  # type: ignore[unreachable]
            isinstance(t, str) and t for t in self.event_types
        ):
            raise ConfigError(
                f"invalid event_types {self.event_types!r}: must be a list of non-empty strings"
            )
        object.__setattr__(self, "event_types", tuple(self.event_types))
        check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        if not isinstance(self.starting_position, lambda_.StartingPosition):
            raise ConfigError(
                f"invalid starting_position {self.starting_position!r}: must be a "
                "StartingPosition (TRIM_HORIZON, LATEST or AT_TIMESTAMP)"
            )
        if (self.starting_position == lambda_.StartingPosition.AT_TIMESTAMP) != (
            self.starting_position_timestamp is not None
        ):
            raise ConfigError(
                "invalid starting_position_timestamp: give it exactly when starting_position "
                "is AT_TIMESTAMP"
            )
        for key, low, high in (
            ("max_batching_window", 0, MAX_BATCHING_WINDOW_SECONDS),
            ("max_record_age", MIN_RECORD_AGE_SECONDS, MAX_RECORD_AGE_SECONDS),
            ("timeout", 1, MAX_TIMEOUT_SECONDS),
            ("iterator_age_alarm", 1, MAX_RECORD_AGE_SECONDS),
        ):
            check_seconds(key, _seconds(key, getattr(self, key)), low, high)
        check_int("retry_attempts", self.retry_attempts, 0, MAX_RETRY_ATTEMPTS)
        check_int(
            "parallelization_factor", self.parallelization_factor, 1, MAX_PARALLELIZATION_FACTOR
        )
        check_int("memory_size", self.memory_size, 128, 10_240)
        for key in ("bisect_batch_on_error", "report_batch_item_failures", "tracing"):
            check_bool(key, getattr(self, key))
        check_log_level("log_level", self.log_level)
        check_log_retention_days("log_retention_days", self.log_retention_days)
        # An ITopic (jsii interfaces are protocols: known by their attribute), or an ARN.
        if self.alarm_topic is not None and not hasattr(self.alarm_topic, "topic_arn"):
            check_topic_arn("alarm_topic", self.alarm_topic)
        code_dir = Path(self.code_dir)
        module = Path(*self.handler.split(".")[:-1]).with_suffix(".py")
        if not (code_dir / module).is_file():
            raise ConfigError(
                f"invalid handler {self.handler!r}: there is no {module} in code_dir {code_dir}"
            )
        shipped = sorted(f for f in CONSUMER_RUNTIME_FILES if (code_dir / f).exists())
        if shipped:
            raise ConfigError(
                f"invalid code_dir {code_dir}: it has its own {', '.join(shipped)}, which the "
                "processor ships itself (remove it from the folder)"
            )
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.environment.items()):
            raise ConfigError("invalid environment: names and values must be strings")

    @property
    def function_name(self) -> str:
        return function_name(self.stage, self.name, self.service)

    @property
    def queue_name(self) -> str:
        return f"{self.function_name}-dlq"


def _seconds(key: str, value: object) -> float | Duration:
    """A Duration's seconds (an unresolved Duration as it is), or one line if no Duration."""
    if not isinstance(value, Duration):
        raise ConfigError(f"invalid {key} {value!r}: must be a Duration (Duration.seconds(...))")
    return value if value.is_unresolved() else value.to_seconds(integral=False)
