"""A stage's lake page: objects per hour, the events of a time window (the lake's, then the
stream's for what Firehose has not written yet, as `lake` and `replay --from-lake` read
them) and the records buffered, not yet written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.lake import lake_bucket, parse_time
from event_stream.tools.lambda_model.kinesis_event import iso_time
from event_stream.tools.readers import history, lake_reader
from event_stream.tools.readers.deployed import output

DEFAULT_WINDOW = "1h"  # `since` when the page is opened without one
EVENTS_SHOWN = 500


def window_of(since: str | None, until: str | None, types: list[str]) -> history.Window:
    """The window of the lake and replay pages (`since`, `until`: 2h, 7d or an ISO time;
    `type`, repeatable), or `UserError` naming the parameter."""
    chosen = [t for t in types if t]
    return history.Window(
        since=parse_time(since or DEFAULT_WINDOW, "since"),
        until=parse_time(until or None, "until"),
        types=frozenset(chosen) if chosen else None,
    )


def lake(context: ConsoleContext, stage: str, window: history.Window) -> dict[str, Any]:
    """The lake's objects per hour and the window's events."""
    stack = context.stack(stage)
    bucket = lake_bucket(stack)
    stream_name = output(stack, "streamName")
    s3 = context.client("s3")
    found = history.read_history(s3, context.client("kinesis"), bucket, stream_name, window)
    unwritten = found.unwritten
    interval = lake_reader.buffering_interval(
        context.client("firehose"), output(stack, "lakeDeliveryStreamName")
    )
    due = None
    if unwritten:
        oldest = min(history.arrival(line) for line in unwritten)
        due = iso_time(max(oldest + timedelta(seconds=interval), datetime.now(UTC)).timestamp())
    return {
        "stage": stage,
        "bucket": bucket,
        "window": {
            "since": iso_time(window.since.timestamp()) if window.since else None,
            "until": iso_time(window.until.timestamp()) if window.until else None,
            "types": sorted(window.types or []),
        },
        "objectsPerHour": lake_reader.objects_per_hour(
            s3, bucket, stream_name, window.since, window.until
        ),
        "events": len(found.lines),
        "lines": [
            {**line, "inLake": history.key_of(line) not in found.from_stream}
            for line in found.lines[:EVENTS_SHOWN]
        ],
        "buffered": {"records": len(unwritten), "intervalSeconds": interval, "nextWriteBy": due},
        "gaps": [gap.describe() for gap in found.gaps],
    }
