"""Read a JSON Lines file of events (what `tail` writes and `replay FILE` publishes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from event_stream.tools.errors import UserError


def read_events(path: Path) -> list[tuple[str, Any]]:
    """Every `("FILE:LINE", event)` of a JSON Lines file; a malformed line raises
    `UserError` naming it the same way (`FILE:LINE: what is wrong`).

    Lines end at a line feed only (a carriage return before it is dropped), as JSON Lines
    says: `tail` writes U+2028, U+0085 and the separators 0x1c-0x1e raw inside strings,
    and `str.splitlines()` would cut a line at each of them.
    Blank lines are skipped. The whole file is read before anything is sent.
    """
    try:
        lines = [line.removesuffix("\r") for line in path.read_bytes().decode("utf-8").split("\n")]
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append((f"{path}:{number}", json.loads(line)))
        except json.JSONDecodeError as error:
            raise UserError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    return events
