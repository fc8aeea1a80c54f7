"""The one result type of running a function, and the one way to say what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from event_stream.tools.lambda_model.wire import FunctionError

# A synchronous invocation's request and response payloads, each ("Lambda quotas": 6 MB).
PAYLOAD_LIMIT = 6 * 1024 * 1024


@dataclass(frozen=True)
class Invocation:
    """What one invocation answered (`answer`, or `error` in Lambda's error shape), the log
    lines it wrote, and what Lambda's REPORT line tells of it."""

    answer: Any
    error: FunctionError | None = None
    log_lines: list[str] = field(default_factory=list)
    request_id: str = ""
    duration_ms: float = 0.0
    max_memory_mb: int = 0


def failure(error_type: str, message: str) -> Invocation:
    """An invocation that failed before or outside the handler (a timeout, a crash)."""
    return Invocation(None, {"errorType": error_type, "errorMessage": message})


def describe_error(error: FunctionError | dict[str, Any]) -> str:
    """`errorType: errorMessage`, as Lambda's console shows a function error."""
    return f"{error.get('errorType')}: {error.get('errorMessage')}"
