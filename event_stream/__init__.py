"""The CDK side of the event stream, and its developer CLI (`python -m event_stream`).

The CDK classes load lazily: CLI commands that do not synthesize never import aws_cdk
(a second of start-up, and jsii's banner on old Node versions).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "EventStream": "event_stream.construct",
    "EventStreamStack": "event_stream.stack",
    "import_stream": "event_stream.imports",
}

__all__ = ["EventStream", "EventStreamStack", "import_stream"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'event_stream' has no attribute {name!r}")
