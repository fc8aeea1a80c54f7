"""The event stream construct library: stage rules and names, the `EventStream` construct,
the `EventStreamStack`, `import_stream`, `EventLake` for history and, for consumers,
`StreamProcessor`.

Everything loads lazily: importing `event_stream` costs nothing until a name is used, and
only the CDK classes import aws_cdk. The developer tools live in `event_stream.tools`
(`python -m event_stream`, or the `event-stream` command); this library never imports them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "EventStream": "event_stream.construct",
    "EventLake": "event_stream.lake",
    "EventStreamStack": "event_stream.stack",
    "StageConfig": "event_stream.config",
    "StreamProcessor": "event_stream.processor",
    "ProcessorConfig": "event_stream.processor_config",
    "import_stream": "event_stream.imports",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'event_stream' has no attribute {name!r}")
