"""Reading a test stream back."""

from __future__ import annotations

from typing import Any

from event_stream.stream_reader import read

STREAM = "test-cncb-event-stream-s1"


def records_on(client: Any, stream: str = STREAM) -> list[dict[str, Any]]:
    """Every envelope on the stream, decoded."""
    return [envelope for _, envelope in read(client, stream)]
