"""Lambda's tumbling windows on a Kinesis shard ("Implementing stateful Kinesis Data Streams
processing in Lambda"): the window a record belongs to, the fields each invocation carries,
and how the function's answer carries the state on.

- "Lambda determines tumbling window boundaries based on the time when records were inserted
  into the stream": a record's window is the interval of `TumblingWindowInSeconds` that holds
  its arrival time; windows are aligned on multiples of the interval (the page's example:
  17:00:00 to 17:05:00 for 300 s) [docs].
- Each invocation gets `window {start, end}`, the `state` the previous invocation of the
  window returned (`{}` at first), `shardId`, `eventSourceARN`, `isFinalInvokeForWindow`
  and `isWindowTerminatedEarly`; a batch never spans two windows [docs].
- "your Lambda function response must contain a state property. If the response does not
  contain a state property, Lambda considers this a failed invocation" [docs].
- "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates
  the window early" [docs]: the final invocation comes at once, `isWindowTerminatedEarly`.
- At the end of the window one final invocation, `isFinalInvokeForWindow`, with the state
  and no records: the function acts on the aggregate; then the state is dropped [docs; that
  the final invocation carries no records is this emulator's choice, C].
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from event_stream.tools.lambda_model.invocation import Invocation

STATE_LIMIT = 1024 * 1024  # bytes of JSON


@dataclass
class Window:
    """One open window of a shard: its bounds (epoch seconds) and the state carried on."""

    start: float
    end: float
    state: Any = field(default_factory=dict)
    terminated_early: bool = False


def window_of(arrival: float, size: int) -> tuple[float, float]:
    """The window (start, end) that holds a record that arrived at `arrival`."""
    start = math.floor(arrival / size) * size
    return float(start), float(start + size)


def event_fields(window: Window, *, shard_id: str, stream_arn: str, final: bool) -> dict[str, Any]:
    """What an invocation in `window` carries beside its `Records`."""
    return {
        "window": {"start": _iso(window.start), "end": _iso(window.end)},
        "state": window.state,
        "shardId": shard_id,
        "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": window.terminated_early,
    }


def state_of(invocation: Invocation) -> tuple[bool, Any]:
    """`(answered a state, the state)`: an answer without one is a failed invocation."""
    answer = invocation.answer
    if invocation.error is not None or not isinstance(answer, dict) or "state" not in answer:
        return False, None
    return True, answer["state"]


def too_large(state: Any) -> bool:
    """Whether a state is over the 1 MB a shard may keep."""
    return len(json.dumps(state).encode()) > STATE_LIMIT


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
