"""Reading a test stream back."""

from __future__ import annotations

from typing import Any

from event_stream.tools.readers.shard_reader import read_envelopes

STREAM = "test-cncb-event-stream-s1"


def records_on(client: Any, stream: str = STREAM) -> list[dict[str, Any]]:
    """Every envelope on the stream, decoded (in-process moto: no read limit to pace for)."""
    return [envelope for _, envelope in read_envelopes(client, stream, sleep=lambda seconds: None)]
