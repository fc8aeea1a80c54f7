"""Ship an invocation's log lines to the function's log group, as Lambda does, so `logs`,
`aws logs tail` and CloudWatch Logs readers see them on the local AWS."""

from __future__ import annotations

import time
import uuid
from typing import Any


def new_log_stream() -> str:
    """A log stream name in Lambda's form: `YYYY/MM/DD/[$LATEST]<id>`."""
    return time.strftime("%Y/%m/%d/") + "[$LATEST]local-" + uuid.uuid4().hex


def ship(logs: Any, log_group: str, lines: list[str], *, stream: str | None = None) -> None:
    """Put `lines` in `log_group` (created if missing), in `stream` (a new one if None)."""
    if not lines:
        return
    stream = stream or new_log_stream()
    try:
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    except logs.exceptions.ResourceNotFoundException:
        logs.create_log_group(logGroupName=log_group)
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=log_group,
        logStreamName=stream,
        logEvents=[{"timestamp": now, "message": line} for line in lines],
    )
