"""The per-user record of the running local AWSes, so any folder finds them.

One file per port, `<port>.json` (`{"pid", "port", "stateDir"}`), in
`$XDG_STATE_HOME/event-stream/local-aws/` (default `~/.local/state/event-stream/local-aws/`,
as the XDG Base Directory spec places state). `local up` adds its entry and `local down`
removes it; an entry whose process is gone is ignored and deleted by the next reader.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """A local AWS as the record names it."""

    pid: int
    port: int
    state_dir: Path


def record_dir() -> Path:
    """Where the entries are kept."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "event-stream" / "local-aws"


def add(entry: Entry) -> None:
    """Record a started local AWS (replacing a stale entry for its port)."""
    folder = record_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry.port}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"pid": entry.pid, "port": entry.port, "stateDir": str(entry.state_dir)})
    )
    temporary.replace(path)


def remove(port: int) -> None:
    """Forget the local AWS on `port`."""
    (record_dir() / f"{port}.json").unlink(missing_ok=True)


def entries(alive: Callable[[Entry], bool]) -> list[Entry]:
    """Every recorded local AWS whose process `alive(entry)` confirms; the others' entries
    are deleted."""
    found = []
    for path in sorted(record_dir().glob("*.json")):
        try:
            raw = json.loads(path.read_text())
            entry = Entry(int(raw["pid"]), int(raw["port"]), Path(raw["stateDir"]))
        except (OSError, ValueError, KeyError, TypeError):
            entry = None
        if entry is not None and alive(entry):
            found.append(entry)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return found
