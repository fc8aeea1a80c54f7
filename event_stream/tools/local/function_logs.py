"""Ship an invocation's log lines to the function's log group, as Lambda does, so `logs`,
`aws logs tail` and CloudWatch Logs readers see them on the local AWS.

Lines are gathered and put once per log stream every `FLUSH_INTERVAL` (CloudWatch Logs, too,
shows a function's lines seconds after they were written), so a busy mapping costs the local
AWS one call per stream per interval rather than two per invocation; `flush()` puts what is
gathered at once (the Invoke API does before it answers, so a caller reads its lines at once).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

FLUSH_INTERVAL = 0.5  # seconds


def new_log_stream() -> str:
    """A log stream name in Lambda's form: `YYYY/MM/DD/[$LATEST]<id>`."""
    return time.strftime("%Y/%m/%d/") + "[$LATEST]local-" + uuid.uuid4().hex


class LogShipper:
    """Gathers log lines per (log group, log stream) and puts them in order."""

    def __init__(self, logs: Callable[[], Any]) -> None:
        self.logs = logs  # a CloudWatch Logs client, made on use
        self._pending: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._created: set[tuple[str, str]] = set()
        self._lock = threading.Lock()  # the gathered lines
        self._flushing = threading.Lock()  # one flush at a time keeps each stream in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._thread.start()

    def ship(self, log_group: str, lines: list[str], *, stream: str | None = None) -> None:
        """Queue `lines` for `log_group`, in `stream` (a new one if None)."""
        if not lines:
            return
        now = int(time.time() * 1000)
        with self._lock:
            self._pending[(log_group, stream or new_log_stream())] += [
                {"timestamp": now, "message": line} for line in lines
            ]

    def flush(self) -> None:
        """Put every gathered line now."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, defaultdict(list)
            for (group, stream), events in pending.items():
                self._put(group, stream, events)

    def stop(self) -> None:
        self._stop.set()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            try:
                self.flush()
            except Exception:  # the local AWS is stopping: its logs go with it
                continue

    def _put(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        logs = self.logs()
        if (group, stream) not in self._created:
            try:
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            except logs.exceptions.ResourceAlreadyExistsException:
                pass
            except logs.exceptions.ResourceNotFoundException:
                logs.create_log_group(logGroupName=group)
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._created.add((group, stream))
        try:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except logs.exceptions.ResourceNotFoundException:  # the group went (a destroy)
            self._created.discard((group, stream))
            self._put(group, stream, events)
