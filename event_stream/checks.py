"""The one home of every validation rule the constructs share (stage context and
StreamProcessor options alike).

Each check raises `ConfigError` with one line naming the setting and the value given, and
skips a value that is an unresolved CDK token (a parameter, an attribute of another
resource): its value is known only at deploy time, where AWS checks it, as CDK's own
constructs do. Nothing here imports aws_cdk: when no CDK is loaded, nothing can be a token.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from typing import Any

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545)
LOG_RETENTION_DAYS += (731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
TOPIC_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"


class ConfigError(ValueError):
    """A setting that cannot make a valid stack; the message is one line for the user."""


def is_unresolved(value: Any) -> bool:
    """True for a CDK token (a string, number or Duration whose value comes at deploy time)."""
    cdk = sys.modules.get("aws_cdk")
    if cdk is None:
        return False
    if isinstance(value, cdk.Duration):
        return bool(value.is_unresolved())
    return isinstance(value, str | int | float) and bool(cdk.Token.is_unresolved(value))


def check_name(what: str, value: Any, pattern: str, in_words: str) -> None:
    """`value` is a string matching `pattern` (names are never tokens: they make names)."""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ConfigError(f"invalid {what} {value!r}: must match {pattern} ({in_words})")


def check_int(key: str, value: Any, low: int, high: int) -> None:
    """`value` is an int (not a bool) from `low` to `high`, or a token."""
    if is_unresolved(value):
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"invalid {key} {value!r}: must be a whole number from {low} to {high}")


def check_bool(key: str, value: Any) -> None:
    """`value` is True or False."""
    if not isinstance(value, bool):
        raise ConfigError(f"invalid {key} {value!r}: must be true or false")


def check_one_of(key: str, value: Any, allowed: Collection[Any]) -> None:
    """`value` is one of `allowed` (a bool is never taken for 1 or 0), or a token."""
    if is_unresolved(value):
        return
    if isinstance(value, bool) or value not in allowed:
        raise ConfigError(f"invalid {key} {value!r}: must be one of {', '.join(map(str, allowed))}")


def check_log_retention_days(key: str, value: Any) -> None:
    """A retention CloudWatch Logs accepts."""
    check_one_of(key, value, LOG_RETENTION_DAYS)


def check_log_level(key: str, value: Any) -> None:
    """A Lambda application log level."""
    check_one_of(key, value, LOG_LEVELS)


def check_topic_arn(key: str, value: Any) -> None:
    """An SNS topic ARN, or a token (the ARN of a topic made in the same app)."""
    if is_unresolved(value):
        return
    if not isinstance(value, str) or not re.fullmatch(TOPIC_ARN_PATTERN, value):
        raise ConfigError(
            f"invalid {key} {value!r}: must be an SNS topic ARN "
            "(arn:aws:sns:<region>:<account>:<name>)"
        )


def check_seconds(key: str, seconds: Any, low: int, high: int) -> None:
    """A whole number of seconds from `low` to `high` (a Duration's, converted by the caller)."""
    if is_unresolved(seconds):
        return
    if not low <= seconds <= high or seconds != int(seconds):
        raise ConfigError(
            f"invalid {key} {seconds!r} s: must be a whole number of seconds from {low} to {high}"
        )


def check_function_settings(log_level: Any, log_retention_days: Any, tracing: Any) -> None:
    """The settings every function of the constructs takes."""
    check_log_level("log_level", log_level)
    check_log_retention_days("log_retention_days", log_retention_days)
    check_bool("tracing", tracing)
