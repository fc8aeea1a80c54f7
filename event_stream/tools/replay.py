"""Publish a JSON Lines file of events through the shared publisher (the CLI's `replay`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from event_stream.lambda_src import event_envelope, publisher
from event_stream.tools.errors import UserError


@dataclass
class ReplaySummary:
    """What a replay did: counts, failed ids and wall time."""

    sent: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # the envelopes, ids included
    elapsed: float = 0.0


def read_events(path: Path) -> list[tuple[int, Any]]:
    """Every `(line number, event)` of a JSON Lines file; a malformed line raises
    `UserError` naming it.

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
            events.append((number, json.loads(line)))
        except ValueError as error:
            raise UserError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    return events


def replay(
    events: list[tuple[int, Any]],
    put: publisher.Publisher,
    *,
    region: str,
    max_record_bytes: int,
    rate: float | None = None,
    progress: Callable[[int], None] = lambda n: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplaySummary:
    """Prepare every event (an invalid one raises `UserError` with its line, before anything
    is sent), then publish in batches of at most 500, at most `rate` events a second."""
    records = []
    for number, event in events:
        try:
            records.append(
                event_envelope.prepare(event, region=region, max_record_bytes=max_record_bytes)
            )
        except event_envelope.InvalidEvent as error:
            raise UserError(f"line {number}: {error}") from None
    batch_size = event_envelope.PUT_RECORDS_MAX_RECORDS
    if rate:
        batch_size = max(1, min(batch_size, int(rate)))
    summary = ReplaySummary()
    started = clock()
    for first in range(0, len(records), batch_size):
        if rate:
            # Batch k may start no earlier than k*batch/rate seconds in.
            wait = started + first / rate - clock()
            if wait > 0:
                sleep(wait)
        batch = records[first : first + batch_size]
        answer = put.put_many(batch)
        for record, entry in zip(batch, answer["Records"], strict=True):
            if "ErrorCode" in entry:
                summary.failed.append(record.envelope)
            else:
                summary.sent += 1
        progress(len(batch))
    summary.elapsed = clock() - started
    return summary
