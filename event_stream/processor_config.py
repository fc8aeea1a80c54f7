"""ProcessorConfig: the props of a StreamProcessor, validated once, with safe defaults.

Nothing here imports aws_cdk. Names follow the consumer's own service:
`<service>-<stage>-<name>` for the function, `...-dlq` for its dead-letter queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from event_stream.config import (
    ARN_TOPIC_PATTERN,
    DEFAULT_SERVICE,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_FUNCTION_NAME,
    SERVICE_PATTERN,
    STAGE_PATTERN,
    ConfigError,
    check_bool,
    check_int,
    check_name,
    function_name,
)
from event_stream.runtime import CONSUMER_RUNTIME_FILES

DEFAULT_CONSUMER_SERVICE = "cncb-stream-processor"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*$"
HANDLER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
MAX_QUEUE_NAME = 80
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
# Lambda's ranges for a Kinesis event source mapping (CreateEventSourceMapping).
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW_SECONDS = 300
MAX_RETRY_ATTEMPTS = 10_000
MIN_RECORD_AGE_SECONDS, MAX_RECORD_AGE_SECONDS = 60, 604_800
MAX_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class ProcessorConfig:
    """How one consumer function processes a stage's stream.

    The defaults are what a consumer should have and Lambda does not give by default:
    bisect a failing batch, report the failed record instead of failing the batch, stop
    retrying a poison record after 5 attempts or 6 hours (Lambda's own default retries for
    up to the record's expiry, blocking its shard), and keep a failed batch's coordinates
    in a dead-letter queue for 14 days, while the records are still on the stream.
    """

    stage: str
    name: str
    code_dir: str
    handler: str
    event_types: tuple[str, ...] = ()
    service: str = DEFAULT_CONSUMER_SERVICE
    stream_service: str = DEFAULT_SERVICE
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    starting_position_timestamp: float | None = None
    max_batching_window_seconds: int = 0
    retry_attempts: int = 5
    max_record_age_seconds: int = 6 * 3600
    bisect_batch_on_error: bool = True
    report_batch_item_failures: bool = True
    timeout_seconds: int = 30
    memory_size: int = 256
    log_level: str = "INFO"
    log_retention_days: int = 30
    iterator_age_alarm_seconds: int = 3600
    alarm_topic_arn: str | None = None
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
        if isinstance(self.event_types, str) or not all(
            isinstance(t, str) and t for t in self.event_types
        ):
            raise ConfigError(
                f"invalid event_types {self.event_types!r}: must be a list of non-empty strings"
            )
        object.__setattr__(self, "event_types", tuple(self.event_types))
        check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        if self.starting_position not in STARTING_POSITIONS:
            raise ConfigError(
                f"invalid starting_position {self.starting_position!r}: must be one of "
                f"{', '.join(STARTING_POSITIONS)}"
            )
        if (self.starting_position == "AT_TIMESTAMP") != (
            self.starting_position_timestamp is not None
        ):
            raise ConfigError(
                "invalid starting_position_timestamp: give it exactly when starting_position "
                "is AT_TIMESTAMP"
            )
        check_int(
            "max_batching_window_seconds",
            self.max_batching_window_seconds,
            0,
            MAX_BATCHING_WINDOW_SECONDS,
        )
        check_int("retry_attempts", self.retry_attempts, 0, MAX_RETRY_ATTEMPTS)
        check_int(
            "max_record_age_seconds",
            self.max_record_age_seconds,
            MIN_RECORD_AGE_SECONDS,
            MAX_RECORD_AGE_SECONDS,
        )
        check_int("timeout_seconds", self.timeout_seconds, 1, MAX_TIMEOUT_SECONDS)
        check_int("memory_size", self.memory_size, 128, 10_240)
        check_int(
            "iterator_age_alarm_seconds", self.iterator_age_alarm_seconds, 1, MAX_RECORD_AGE_SECONDS
        )
        for key in ("bisect_batch_on_error", "report_batch_item_failures", "tracing"):
            check_bool(key, getattr(self, key))
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"invalid log_level {self.log_level!r}: must be one of {', '.join(LOG_LEVELS)}"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ConfigError(f"invalid log_retention_days {self.log_retention_days!r}")
        if self.alarm_topic_arn is not None and not re.fullmatch(
            ARN_TOPIC_PATTERN, str(self.alarm_topic_arn)
        ):
            raise ConfigError(
                f"invalid alarm_topic_arn {self.alarm_topic_arn!r}: not an SNS topic ARN"
            )
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
