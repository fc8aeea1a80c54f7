"""The one home of the local AWS's status files: what the server process writes beside its
state (`poller.json` for the event source mappings, `lake.json` for the local Firehose,
`console.json` for the event console) and
`local status` reads. Each is written whole and renamed into place, so a reader never sees
half a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAPPINGS_FILE = "poller.json"
FIREHOSE_FILE = "lake.json"
CONSOLE_FILE = "console.json"  # {"url"} of the event console the local AWS serves


def write(state_dir: Path, name: str, status: Any) -> None:
    """Replace the status file `name` with `status`, atomically."""
    path = state_dir / name
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(status, default=str))
    temporary.replace(path)


def read(state_dir: Path, name: str) -> Any:
    """What the status file `name` holds; None before it was first written."""
    try:
        return json.loads((state_dir / name).read_text())
    except (OSError, ValueError):
        return None
