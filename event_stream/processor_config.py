"""ProcessorConfig: a StreamProcessor's settings, each written once with its default and its
docs, validated once.

Every option lives here and only here: its type, its default, and one sentence of what it
is for and what the default protects against (`field(metadata=doc(...))`).
`StreamProcessor`'s signature and docstring are made from these fields (`takes_options_of`),
so a setting is added in one place. Settings use CDK's types and names (as
`aws_lambda_event_sources.KinesisEventSource` and Solutions Constructs'
`aws-kinesisstreams-lambda` have them); a value that is an unresolved token is left for AWS
to check at deploy time. Names follow the consumer's own service: `<service>-<stage>-<name>`
for the function, `...-dlq` for its dead-letter queue.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from event_stream.checks import (
    ConfigError,
    check_bool,
    check_function_settings,
    check_int,
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
from event_stream.function_parts import RUNTIME
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
MAX_TUMBLING_WINDOW_SECONDS = 900
MAX_HANDLER_RETRIES = 10  # in place, within one invocation: more belongs to Lambda's retries
# Where a handler `module.function` lives, per runtime family.
HANDLER_SUFFIXES = {
    lambda_.RuntimeFamily.PYTHON: (".py",),
    lambda_.RuntimeFamily.NODEJS: (".js", ".mjs", ".cjs"),
}

# What the construct decides about its function, and the option that sets it instead.
FUNCTION_PROPS_OWNED = {
    "function_name": "name and service",
    "code": "code_dir",
    "handler": "handler",
    "runtime": "runtime",
    "role": "existing_function (a function with a role of your own)",
    "log_group": "log_retention_days (the construct names the log group)",
    "environment": "environment",
    "timeout": "timeout",
    "memory_size": "memory_size",
    "tracing": "tracing",
    "application_log_level_v2": "log_level",
    "system_log_level_v2": "log_level",
}
QUEUE_PROPS_OWNED = {"queue_name": "name and service (the queue is <function>-dlq)"}
# Settings of the function the construct builds: ignored with an existing function.
OWN_FUNCTION_SETTINGS = (
    "code_dir",
    "contracts",
    "handler_retries",
    "handler",
    "runtime",
    "function_props",
    "timeout",
    "memory_size",
    "log_level",
    "log_retention_days",
    "tracing",
    "environment",
)


def doc(text: str) -> dict[str, str]:
    """A field's documentation: what it is for and what its default protects against."""
    return {"doc": text}


@dataclass(frozen=True, kw_only=True)
class ProcessorConfig:
    """How one consumer function processes a stage's stream.

    The defaults are what a consumer should have and Lambda does not give by default:
    bisect a failing batch, report the failed record instead of failing the batch, stop
    retrying a poison record after 5 attempts or 6 hours (Lambda's own default retries for
    up to the record's expiry, blocking its shard), and keep a failed batch's coordinates
    in a dead-letter queue for 14 days, while the records are still on the stream.
    """

    stage: str = field(
        metadata=doc("the stage whose stream is read (its exports, unless `stream` is given).")
    )
    name: str = field(
        metadata=doc(
            "the processor's name: function `<service>-<stage>-<name>`, "
            "queue `<service>-<stage>-<name>-dlq`."
        )
    )
    code_dir: str | Path | None = field(
        default=None,
        metadata=doc(
            "the folder with the handler's code (required unless `existing_function`); for a "
            "Python runtime the consumer runtime (`event_consumer.py`, `event_envelope.py`, "
            "`metrics.py`) is shipped beside it, for Node.js the folder ships as it is."
        ),
    )
    handler: str | None = field(
        default=None,
        metadata=doc("`module.function` in `code_dir` (required unless `existing_function`)."),
    )
    event_types: Collection[str] = field(
        default=(),
        metadata=doc(
            "the envelope types to receive, as a filter on `data.type`: events of other types "
            "never invoke the function (empty: every event)."
        ),
    )
    service: str = field(
        default=DEFAULT_CONSUMER_SERVICE,
        metadata=doc("the consumer's own service name, the first word of its names."),
    )
    stream: kinesis.IStream | None = field(
        default=None,
        metadata=doc(
            "an existing stream to read instead of the stage's (any `IStream`); none: the "
            "stage's stream, imported with `Fn::ImportValue`."
        ),
    )
    stream_service: str = field(
        default=DEFAULT_SERVICE, metadata=doc("the service of the stream's stack, for the import.")
    )
    runtime: lambda_.Runtime = field(
        default=RUNTIME,
        metadata=doc(
            "a Python or Node.js runtime; with Node.js the consumer code is yours (read "
            "`record.kinesis.data` yourself) and no Python file is added."
        ),
    )
    existing_function: lambda_.IFunction | None = field(
        default=None,
        metadata=doc(
            "your own function (any `IFunction`): the construct adds the mapping, the queue, the "
            "grants and the alarms to it, and builds no function (the function's own settings "
            "are then yours to set, on it); none: the construct builds one."
        ),
    )
    function_props: Mapping[str, Any] | None = field(
        default=None,
        metadata=doc(
            "keyword arguments of `aws_lambda.Function` laid over what the construct builds "
            "(say `reserved_concurrent_executions`, `logging_format`); the settings that have "
            "an option here are refused in it, so each has one home."
        ),
    )
    deploy_dead_letter_queue: bool = field(
        default=True,
        metadata=doc(
            "keep each failed batch's coordinates in an SQS queue (the mapping's on-failure "
            "destination); without it a batch that runs out of retries is gone without trace."
        ),
    )
    dead_letter_queue_props: Mapping[str, Any] | None = field(
        default=None,
        metadata=doc(
            "keyword arguments of `aws_sqs.Queue` laid over the queue's defaults (SQS-managed "
            "encryption, SSL only, 14 days' retention)."
        ),
    )
    on_failure: lambda_.IEventSourceDlq | None = field(
        default=None,
        metadata=doc(
            "where a failed batch goes instead of the construct's queue: CDK's `SqsDlq`, "
            "`SnsDlq` or `S3OnFailureDestination` (S3 keeps the batch's records too, beyond "
            "the stream's retention); none: the construct's queue."
        ),
    )
    tumbling_window: Duration | None = field(
        default=None,
        metadata=doc(
            "aggregate over windows of up to 15 minutes: each invocation gets the window and "
            "the state the previous one returned, and a final one closes the window "
            "(Lambda's tumbling windows; the local AWS runs them too); none: no windows."
        ),
    )
    create_alarms: bool = field(
        default=True,
        metadata=doc(
            "the alarms an on-call engineer needs (iterator age, dead letters, errors, "
            "unreadable records)."
        ),
    )
    batch_size: int = field(default=100, metadata=doc("records per invocation, 1 to 10,000."))
    starting_position: lambda_.StartingPosition = field(
        default=lambda_.StartingPosition.TRIM_HORIZON,
        metadata=doc(
            "where a new mapping starts reading; TRIM_HORIZON: every record the stream "
            "still has, so a new consumer misses nothing published before its first "
            "deploy."
        ),
    )
    starting_position_timestamp: float | None = field(
        default=None, metadata=doc("with `StartingPosition.AT_TIMESTAMP` only (epoch seconds).")
    )
    max_batching_window: Duration = field(
        default_factory=lambda: Duration.seconds(0),
        metadata=doc(
            "how long to gather records before invoking, up to 5 minutes; none: the lowest latency."
        ),
    )
    retry_attempts: int = field(
        default=5,
        metadata=doc(
            "retries of a failed batch before it goes to the dead-letter queue, 0 to 10,000 "
            "(Lambda's own default retries until the records expire, blocking the shard behind "
            "one poison record)."
        ),
    )
    max_record_age: Duration = field(
        default_factory=lambda: Duration.hours(6),
        metadata=doc(
            "records older than this are not retried but dead-lettered, 60 s to 7 days (the "
            "failed batch's coordinates reach the queue while its records are still on a "
            "24-hour stream, so `dlq` can fetch them)."
        ),
    )
    contracts: str | Path | None = field(
        default=None,
        metadata=doc(
            "the folder of the app's event contracts (`<folder>/<type>/v<N>.json`); the "
            "runtime checks each event against its contract before `handle` and sends a "
            "violation to the dead-letter queue instead of retrying it (default: the "
            "`contracts` context key, relative to the folder of `cdk.json`; none: no checks). "
            "Python runtimes built from `code_dir` only."
        ),
    )
    handler_retries: int = field(
        default=2,
        metadata=doc(
            "times the consumer runtime retries a failing `handle` in place, after a jittered "
            "backoff of up to 0.1 s then 0.2 s, 0.4 s, ..., before it reports the record to "
            "Lambda, 0 to 10 (a transient fault, such as a throttled write, then costs a "
            "retry, not a Lambda retry that may count against `retry_attempts` and "
            "dead-letter good records behind it); 0 for a handler that must not run twice "
            "in one invocation. Python runtimes built from `code_dir` only."
        ),
    )
    bisect_batch_on_error: bool = field(
        default=True,
        metadata=doc("split a batch whose invocation failed, to isolate a poison record."),
    )
    report_batch_item_failures: bool = field(
        default=True,
        metadata=doc(
            "let the handler report the first failed record, so only the records from it on "
            "are retried."
        ),
    )
    parallelization_factor: int = field(
        default=1,
        metadata=doc("concurrent batches per shard, 1 to 10 (order is kept per partition key)."),
    )
    timeout: Duration = field(
        default_factory=lambda: Duration.seconds(30),
        metadata=doc("the function's timeout, up to 15 minutes."),
    )
    memory_size: int = field(default=256, metadata=doc("the function's memory, MB, 128 to 10,240."))
    log_level: str = field(
        default="INFO",
        metadata=doc("the function's application log level (DEBUG, INFO, WARN, ERROR)."),
    )
    log_retention_days: int = field(
        default=30,
        metadata=doc("a retention CloudWatch Logs accepts, for the function's log group."),
    )
    iterator_age_alarm: Duration = field(
        default_factory=lambda: Duration.hours(1),
        metadata=doc(
            "alarm when the function falls this far behind the stream (records expire when "
            "the stream's retention runs out)."
        ),
    )
    alarm_topic: sns.ITopic | str | None = field(
        default=None,
        metadata=doc(
            "where the alarms notify: an `ITopic` or a topic ARN (a token from the same app is "
            "fine); none: no notification."
        ),
    )
    tracing: bool = field(default=False, metadata=doc("X-Ray active tracing."))
    environment: Mapping[str, str] = field(
        default_factory=dict, metadata=doc("extra environment variables for the function.")
    )

    def __post_init__(self) -> None:
        check_name("service", self.service, SERVICE_PATTERN, "letters, digits and hyphens")
        check_name("stage", self.stage, STAGE_PATTERN, "letters, digits and hyphens")
        check_name("name", self.name, NAME_PATTERN, "letters, digits and hyphens")
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
        self._check_mapping()
        for key in ("deploy_dead_letter_queue", "create_alarms"):
            check_bool(key, getattr(self, key))
        if self.tumbling_window is not None:
            check_seconds(
                "tumbling_window",
                _seconds("tumbling_window", self.tumbling_window),
                0,
                MAX_TUMBLING_WINDOW_SECONDS,
            )
        if self.on_failure is not None and not hasattr(self.on_failure, "bind"):
            raise ConfigError(
                f"invalid on_failure {self.on_failure!r}: must be an IEventSourceDlq (SqsDlq, "
                "SnsDlq or S3OnFailureDestination of aws_lambda_event_sources)"
            )
        check_seconds(
            "iterator_age_alarm",
            _seconds("iterator_age_alarm", self.iterator_age_alarm),
            1,
            MAX_RECORD_AGE_SECONDS,
        )
        # An ITopic (jsii interfaces are protocols: known by their attribute), or an ARN.
        if self.alarm_topic is not None and not hasattr(self.alarm_topic, "topic_arn"):
            check_topic_arn("alarm_topic", self.alarm_topic)
        _check_props(
            "dead_letter_queue_props", self.dead_letter_queue_props, sqs.Queue, QUEUE_PROPS_OWNED
        )
        if self.existing_function is None:
            self._check_function()

    def _check_mapping(self) -> None:
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
        ):
            check_seconds(key, _seconds(key, getattr(self, key)), low, high)
        check_int("retry_attempts", self.retry_attempts, 0, MAX_RETRY_ATTEMPTS)
        check_int("handler_retries", self.handler_retries, 0, MAX_HANDLER_RETRIES)
        check_int(
            "parallelization_factor", self.parallelization_factor, 1, MAX_PARALLELIZATION_FACTOR
        )
        for key in ("bisect_batch_on_error", "report_batch_item_failures"):
            check_bool(key, getattr(self, key))

    def _check_function(self) -> None:
        """The settings of the function the construct builds."""
        if self.code_dir is None or self.handler is None:
            raise ConfigError(
                f"stream processor {self.name!r}: give code_dir and handler, or existing_function"
            )
        check_name("handler", self.handler, HANDLER_PATTERN, "module.function")
        family = getattr(self.runtime, "family", None)
        if family not in HANDLER_SUFFIXES:
            raise ConfigError(
                f"invalid runtime {getattr(self.runtime, 'name', self.runtime)!r}: must be a "
                "Python or Node.js runtime (aws_lambda.Runtime.PYTHON_3_14, NODEJS_22_X, ...)"
            )
        code_dir = Path(self.code_dir)
        module = Path(*self.handler.split(".")[:-1])
        suffixes = HANDLER_SUFFIXES[family]
        if not any((code_dir / module).with_suffix(s).is_file() for s in suffixes):
            raise ConfigError(
                f"invalid handler {self.handler!r}: there is no "
                f"{' or '.join(str(module.with_suffix(s)) for s in suffixes)} in code_dir "
                f"{code_dir}"
            )
        if self.is_python:
            shipped = sorted(f for f in CONSUMER_RUNTIME_FILES if (code_dir / f).exists())
            if shipped:
                raise ConfigError(
                    f"invalid code_dir {code_dir}: it has its own {', '.join(shipped)}, which "
                    "the processor ships itself (remove it from the folder)"
                )
        check_seconds("timeout", _seconds("timeout", self.timeout), 1, MAX_TIMEOUT_SECONDS)
        check_int("memory_size", self.memory_size, 128, 10_240)
        check_function_settings(self.log_level, self.log_retention_days, self.tracing)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.environment.items()):
            raise ConfigError("invalid environment: names and values must be strings")
        _check_props("function_props", self.function_props, lambda_.Function, FUNCTION_PROPS_OWNED)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ProcessorConfig:
        """The settings a caller gave (keyword arguments, unknown ones refused in one line),
        with the defaults for the rest; a setting given that would be ignored is refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown StreamProcessor option {unknown[0]!r}: known options are "
                f"{', '.join(sorted(known))}"
            )
        # None stands for "not given", as CDK's optional props do.
        given = {key: value for key, value in options.items() if value is not None}
        config = cls(**given)
        ignored_with = (
            (config.existing_function is not None, "existing_function", OWN_FUNCTION_SETTINGS),
            (
                not config.deploy_dead_letter_queue,
                "deploy_dead_letter_queue=False",
                ("dead_letter_queue_props",),
            ),
            (
                config.on_failure is not None,
                "on_failure (it replaces the construct's queue)",
                ("deploy_dead_letter_queue", "dead_letter_queue_props"),
            ),
            (
                not config.create_alarms,
                "create_alarms=False",
                ("alarm_topic", "iterator_age_alarm"),
            ),
            (not config.uses_json_logs, "a Text logging_format", ("log_level",)),
            (
                config.existing_function is None and not config.is_python,
                "a Node.js runtime (the consumer runtime that retries and checks is Python's)",
                ("handler_retries", "contracts"),
            ),
        )
        for active, reason, keys in ignored_with:
            clashing = [key for key in keys if key in given]
            if active and clashing:
                raise ConfigError(
                    f"stream processor {config.name!r}: {clashing[0]} would be ignored with "
                    f"{reason} (give one or the other)"
                )
        return config

    @property
    def function_name(self) -> str:
        return function_name(self.stage, self.name, self.service)

    @property
    def queue_name(self) -> str:
        return f"{self.function_name}-dlq"

    @property
    def builds_queue(self) -> bool:
        """The construct builds the dead-letter queue (not turned off, not replaced)."""
        return self.deploy_dead_letter_queue and self.on_failure is None

    @property
    def is_python(self) -> bool:
        """True when the construct builds a Python function (it then ships the runtime)."""
        return bool(self.runtime.family == lambda_.RuntimeFamily.PYTHON)

    @property
    def uses_json_logs(self) -> bool:
        """Lambda's log levels need the JSON log format (the construct's default)."""
        chosen = (self.function_props or {}).get("logging_format", lambda_.LoggingFormat.JSON)
        return bool(chosen == lambda_.LoggingFormat.JSON)


def _seconds(key: str, value: object) -> float | Duration:
    """A Duration's seconds (an unresolved Duration as it is), or one line if no Duration."""
    if not isinstance(value, Duration):
        raise ConfigError(f"invalid {key} {value!r}: must be a Duration (Duration.seconds(...))")
    return value if value.is_unresolved() else value.to_seconds(integral=False)


def _check_props(
    key: str, props: Mapping[str, Any] | None, construct: type, owned: Mapping[str, str]
) -> None:
    """`props` are keyword arguments of `construct`, none of them the construct's own."""
    if props is None:
        return
    if not isinstance(props, Mapping):
        raise ConfigError(f"invalid {key}: must be a dict of {construct.__name__} arguments")
    # jsii classes are called through a metaclass: their own __init__ holds the arguments.
    accepted = set(inspect.signature(vars(construct)["__init__"]).parameters)
    accepted -= {"self", "scope", "id"}
    for name in props:
        if name in owned:
            raise ConfigError(f"invalid {key}[{name!r}]: set it with {owned[name]}")
        if name not in accepted:
            raise ConfigError(
                f"invalid {key}[{name!r}]: not an argument of aws_cdk."
                f"{construct.__module__.split('.')[-1]}.{construct.__name__}"
            )


P = ParamSpec("P")
T = TypeVar("T")


def takes_options_of(
    settings: Callable[P, Any],
) -> Callable[
    [Callable[Concatenate[T, Any, str, ...], None]], Callable[Concatenate[T, Any, str, P], None]
]:
    """Give a construct's `__init__(self, scope, id, **options)` the keyword signature and
    docs of `settings` (a dataclass): type checkers and `help()` see every option, while
    each option is written once, in the dataclass."""

    def decorate(
        init: Callable[Concatenate[T, Any, str, ...], None],
    ) -> Callable[Concatenate[T, Any, str, P], None]:
        shown = inspect.signature(init)
        head = [p for p in shown.parameters.values() if p.kind != p.VAR_KEYWORD]
        options = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=_default(f) if _has_default(f) else inspect.Parameter.empty,
                annotation=f.type,
            )
            for f in fields(settings)  # type: ignore[arg-type]
        ]
        init.__signature__ = shown.replace(parameters=[*head, *options])  # type: ignore[attr-defined]
        init.__doc__ = (init.__doc__ or "") + "\n" + options_doc(settings)
        return init

    return decorate


def options_doc(settings: Any) -> str:
    """`:param name: what it is for. Default: value.` for each field of `settings`."""
    lines = []
    for f in fields(settings):
        default = f" Default: {_shown(_default(f))}." if _has_default(f) else ""
        lines.append(f":param {f.name}: {f.metadata['doc']}{default}")
    return "\n".join(lines)


def _has_default(f: Field[Any]) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _default(f: Field[Any]) -> Any:
    return f.default if f.default_factory is MISSING else f.default_factory()


def _shown(value: Any) -> str:
    if isinstance(value, Duration):
        return "0 seconds" if value.to_seconds() == 0 else str(value.to_human_string())
    if hasattr(value, "name") and isinstance(getattr(value, "name", None), str):
        return str(value.name)  # enums and runtimes
    if value is None or value in ((), {}):
        return "none"
    return repr(value) if isinstance(value, str) else str(value)
