"""How the CLI prints events and log lines, and reads durations."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.invocation import describe_error
from event_stream.tools.lambda_model.wire import FunctionError


def tail_line(envelope: dict[str, Any]) -> str:
    """One envelope as `tail` prints it: a JSON Lines line that `replay` reads back."""
    return json.dumps(envelope, ensure_ascii=False)


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as `30s`, `10m`, `2h`, `7d` or `1w` (as `aws logs tail`)."""
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if not match:
        raise UserError(f"--since {text!r}: must be a duration such as 30s, 10m, 2h, 7d or 1w")
    return int(match[1]) * _DURATION_UNITS[match[2]]


_LOG_FIELDS_SHOWN = ("timestamp", "level", "message", "logger", "requestId")


def log_line(event: dict[str, Any]) -> str:
    """One log event for a person: time, level, message, then the structured fields."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event["timestamp"] / 1000))
    try:
        entry = json.loads(event["message"])
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "message" not in entry:
        return f"{stamp} {event['message'].rstrip()}"
    extra = {k: v for k, v in entry.items() if k not in _LOG_FIELDS_SHOWN}
    details = f" {json.dumps(extra, ensure_ascii=False)}" if extra else ""
    return f"{stamp} {entry.get('level', '')} {entry['message']}{details}"


def function_error(function_name: str, error: FunctionError) -> str:
    """A function error as one line."""
    return f"{function_name} failed: {describe_error(error)}"
