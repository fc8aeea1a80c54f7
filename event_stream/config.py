"""Stage rules and naming: the one home of every name the stack makes.

`StageConfig` is the construct's props: a frozen dataclass validated once, in
`__post_init__`, so a stage that would break a name at deploy time fails at synth with
one line (`ConfigError`). Nothing here imports aws_cdk: the CLI reads names from this
module without paying for the CDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from event_stream.checks import (
    ConfigError,
    check_bool,
    check_int,
    check_log_level,
    check_log_retention_days,
    check_name,
    check_topic_arn,
)
from event_stream.lambda_src import event_envelope

__all__ = ["ConfigError", "StageConfig"]

DEFAULT_SERVICE = "cncb-event-stream"
DEFAULT_STAGE = "dev"

STAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*$"
# A stack name must start with a letter, so the service (its first word) must too.
SERVICE_PATTERN = r"^[A-Za-z][A-Za-z0-9-]*$"

# AWS name limits.
MAX_STREAM_NAME = 128
MAX_FUNCTION_NAME = 64
MAX_STACK_NAME = 128
MAX_DELIVERY_STREAM_NAME = 64

# Firehose buffering (BufferingHints): seconds, and MiB.
MIN_LAKE_BUFFER_SECONDS, MAX_LAKE_BUFFER_SECONDS = 0, 900
DEFAULT_LAKE_BUFFER_SECONDS = 300
MAX_LAKE_RETENTION_DAYS = 36_500

# Kinesis limits that bound the context values.
MIN_RETENTION_HOURS, MAX_RETENTION_HOURS = 24, 8760
MIN_SHARDS, MAX_SHARDS = 1, 10_000
MIN_RECORD_BYTES = 1024
MAX_RECORD_BYTES = event_envelope.LARGEST_MAX_RECORD_BYTES
DEFAULT_RECORD_BYTES = event_envelope.DEFAULT_MAX_RECORD_BYTES

# The functions of a stage's stack: the publishers and the lake's transformer.
PUBLISH_SUFFIX, PUBLISH_BATCH_SUFFIX, LAKE_SUFFIX = "publish", "publish-batch", "lake"
STAGE_FUNCTION_SUFFIXES = (PUBLISH_SUFFIX, PUBLISH_BATCH_SUFFIX, LAKE_SUFFIX)

# Outputs exported for other stacks; the function names are outputs for people and tools only.
EXPORTED_OUTPUT_KEYS = ("streamName", "streamArn", "lakeBucketName", "lakeBucketArn")


def stack_name(stage: str, service: str = DEFAULT_SERVICE) -> str:
    """The CloudFormation stack name of a stage: `<service>-<stage>`."""
    return f"{service}-{stage}"


def stream_name(stage: str, service: str = DEFAULT_SERVICE) -> str:
    """The Kinesis stream name of a stage: `<stage>-<service>-s1` (the original recipe's)."""
    return f"{stage}-{service}-s1"


def function_name(stage: str, suffix: str, service: str = DEFAULT_SERVICE) -> str:
    """A function name: `<service>-<stage>-<suffix>` (publishers and stream processors)."""
    return f"{service}-{stage}-{suffix}"


def lake_delivery_stream_name(stage: str, service: str = DEFAULT_SERVICE) -> str:
    """The Firehose delivery stream that keeps a stage's events: `<stage>-<service>-lake`."""
    return f"{stage}-{service}-lake"


def export_name(stage: str, output_key: str, service: str = DEFAULT_SERVICE) -> str:
    """The export name other stacks import: `<service>-<stage>-<outputKey>`."""
    return f"{stack_name(stage, service)}-{output_key}"


def check_stage(stage: str, service: str = DEFAULT_SERVICE) -> None:
    """`stage` and `service` are valid and every name they make fits its AWS limit."""
    check_name(
        "service", service, SERVICE_PATTERN, "letters, digits and hyphens, starting with a letter"
    )
    check_name(
        "stage",
        stage,
        STAGE_PATTERN,
        "letters, digits and hyphens, starting with a letter or digit",
    )
    names = (
        ("stack name", stack_name(stage, service), MAX_STACK_NAME),
        ("stream name", stream_name(stage, service), MAX_STREAM_NAME),
        *(
            ("function name", function_name(stage, suffix, service), MAX_FUNCTION_NAME)
            for suffix in STAGE_FUNCTION_SUFFIXES
        ),
        (
            "delivery stream name",
            lake_delivery_stream_name(stage, service),
            MAX_DELIVERY_STREAM_NAME,
        ),
    )
    # The longest stage every name still fits with: the tightest of the limits.
    room = min(limit - len(name) + len(stage) for _, name, limit in names)
    if len(stage) > room:
        kind, name, limit = max(names, key=lambda n: len(n[1]) - n[2])
        raise ConfigError(
            f"invalid stage {stage!r}: the {kind} {name!r} would be {len(name)} "
            f"characters, AWS allows {limit} (with service {service!r} a stage "
            f"has at most {room} characters)"
        )


# The context keys a stage reads, with the dataclass field each one sets.
CONTEXT_KEYS = {
    "stage": "stage",
    "service": "service",
    "shardCount": "shard_count",
    "onDemand": "on_demand",
    "retentionHours": "retention_hours",
    "maxRecordBytes": "max_record_bytes",
    "retainStream": "retain_stream",
    "logRetentionDays": "log_retention_days",
    "logLevel": "log_level",
    "tracing": "tracing",
    "alarmTopicArn": "alarm_topic_arn",
    "lake": "lake",
    "lakeBufferSeconds": "lake_buffer_seconds",
    "lakeRetentionDays": "lake_retention_days",
}


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between stages. Defaults are the safe, cheap dev stage."""

    stage: str = DEFAULT_STAGE
    service: str = DEFAULT_SERVICE
    shard_count: int = 1
    on_demand: bool = False
    retention_hours: int = 24
    max_record_bytes: int = DEFAULT_RECORD_BYTES
    # False: the stream goes with the stack, so the stage can be deployed again.
    retain_stream: bool = False
    log_retention_days: int = 30
    log_level: str = "INFO"
    tracing: bool = False
    alarm_topic_arn: str | None = None
    # The event lake: every event kept in S3 through Firehose (see EventLake).
    lake: bool = True
    lake_buffer_seconds: int = DEFAULT_LAKE_BUFFER_SECONDS
    lake_retention_days: int = 0  # 0: kept forever

    def __post_init__(self) -> None:
        check_stage(self.stage, self.service)
        check_int("shardCount", self.shard_count, MIN_SHARDS, MAX_SHARDS)
        check_bool("onDemand", self.on_demand)
        if self.on_demand and self.shard_count != 1:
            raise ConfigError(
                f"stage {self.stage!r}: shardCount={self.shard_count} cannot be combined with "
                "onDemand=true (an on-demand stream has no shard count)"
            )
        check_int("retentionHours", self.retention_hours, MIN_RETENTION_HOURS, MAX_RETENTION_HOURS)
        check_int("maxRecordBytes", self.max_record_bytes, MIN_RECORD_BYTES, MAX_RECORD_BYTES)
        check_bool("retainStream", self.retain_stream)
        check_bool("tracing", self.tracing)
        check_log_retention_days("logRetentionDays", self.log_retention_days)
        check_log_level("logLevel", self.log_level)
        if self.alarm_topic_arn is not None:
            check_topic_arn("alarmTopicArn", self.alarm_topic_arn)
        check_bool("lake", self.lake)
        check_int(
            "lakeBufferSeconds",
            self.lake_buffer_seconds,
            MIN_LAKE_BUFFER_SECONDS,
            MAX_LAKE_BUFFER_SECONDS,
        )
        check_int("lakeRetentionDays", self.lake_retention_days, 0, MAX_LAKE_RETENTION_DAYS)

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Build a stage from CDK context (`node.try_get_context`).

        Precedence, lowest first: the defaults, `stages.<stage>` in cdk.json, then top-level
        context keys (so `--context shardCount=2` overrides the file for one deploy).
        """
        stage = _text(get("stage")) or DEFAULT_STAGE
        per_stage = get("stages") or {}
        if not isinstance(per_stage, Mapping):
            raise ConfigError(
                f"invalid context 'stages': must be an object of stage -> settings, "
                f"got {type(per_stage).__name__}"
            )
        for name, block in per_stage.items():
            if not isinstance(block, Mapping):
                raise ConfigError(
                    f"invalid context 'stages.{name}': must be an object of settings, "
                    f"got {type(block).__name__}"
                )
            if "stage" in block:
                raise ConfigError(
                    f"invalid context 'stages.{name}.stage': a stage block cannot set the "
                    "stage (choose it with --context stage=...)"
                )
        values: dict[str, Any] = {}
        layers = (per_stage.get(stage, {}), {k: get(k) for k in CONTEXT_KEYS})
        for layer in layers:
            for key, value in layer.items():
                if key not in CONTEXT_KEYS:
                    raise ConfigError(
                        f"unknown context key {key!r} for stage {stage!r}: known keys are "
                        f"{', '.join(CONTEXT_KEYS)}"
                    )
                if value is not None:
                    values[CONTEXT_KEYS[key]] = _coerce(key, value, cls)
        values["stage"] = stage
        return cls(**values)

    @property
    def stack_name(self) -> str:
        return stack_name(self.stage, self.service)

    @property
    def stream_name(self) -> str:
        return stream_name(self.stage, self.service)

    @property
    def publish_function_name(self) -> str:
        return function_name(self.stage, PUBLISH_SUFFIX, self.service)

    @property
    def publish_batch_function_name(self) -> str:
        return function_name(self.stage, PUBLISH_BATCH_SUFFIX, self.service)

    @property
    def lake_function_name(self) -> str:
        """The lake's Firehose transformer."""
        return function_name(self.stage, LAKE_SUFFIX, self.service)

    @property
    def lake_delivery_stream_name(self) -> str:
        return lake_delivery_stream_name(self.stage, self.service)

    def export_name(self, output_key: str) -> str:
        """The export name of one of the stack's outputs."""
        return export_name(self.stage, output_key, self.service)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _coerce(key: str, value: Any, cls: type) -> Any:
    """`--context` values arrive as strings; cdk.json values arrive typed. Accept both."""
    field_type = {f.name: f.type for f in fields(cls)}[CONTEXT_KEYS[key]]
    if not isinstance(value, str) or field_type in ("str", "str | None"):
        return value
    if field_type == "bool":
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ConfigError(f"invalid {key} {value!r}: must be true or false")
    if field_type == "int":
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"invalid {key} {value!r}: must be a whole number") from None
    return value
