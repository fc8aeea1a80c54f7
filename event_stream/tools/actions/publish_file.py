"""Publish a file of events through the shared publisher (the CLI's `replay FILE.jsonl`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from event_stream.lambda_src import event_envelope, publisher
from event_stream.tools.errors import UserError


@dataclass
class PublishSummary:
    """What publishing a file did: counts, failed ids and wall time."""

    sent: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # the envelopes, ids included
    elapsed: float = 0.0


def publish(
    events: list[tuple[str, Any]],
    put: publisher.Publisher,
    *,
    region: str,
    max_record_bytes: int,
    rate: float | None = None,
    check: Callable[[dict[str, Any]], str | None] | None = None,
    progress: Callable[[int], None] = lambda n: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishSummary:
    """Prepare every `(where, event)` (an invalid one raises `UserError` as `where: what is
    wrong`, before anything is sent; `check`: the stage's contracts, as its publishers check
    them), then publish in batches of at most 500, at most `rate` events a second."""
    records = []
    for where, event in events:
        try:
            records.append(
                event_envelope.prepare(
                    event, region=region, max_record_bytes=max_record_bytes, check=check
                )
            )
        except event_envelope.InvalidEvent as error:
            raise UserError(f"{where}: {error}") from None
    batch_size = event_envelope.PUT_RECORDS_MAX_RECORDS
    if rate:
        batch_size = max(1, min(batch_size, int(rate)))
    summary = PublishSummary()
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
