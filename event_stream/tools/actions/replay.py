"""Replay a stage's history into one consumer function, as its event source mapping would.

The cookbook's "Replaying events" recipe reads the lake and invokes one named function;
EventBridge's archive replays a time window to chosen rules; Kafka resets one consumer
group. Here: the window's events (`readers/history.py`: the lake, and the stream for what
Firehose has not written yet), in order per shard (by sequence number), pass
the function's mapping filter, and go to that function alone, synchronously, in Lambda's
Kinesis event shape and in batches of its mapping's BatchSize. The answer is honoured as
the mapping honours it: a function error, or a reported record (with
ReportBatchItemFailures), stops that shard's replay there; the records before it are done,
and a re-run with `--resume-from SHARD=SEQUENCE` starts at the stopped record. Nothing is
retried silently: a batch runs at most once per command.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools.lambda_model.event_filter import record_passes
from event_stream.tools.lambda_model.invocation import Invocation, describe_error
from event_stream.tools.lambda_model.kinesis_event import first_failed, iso_time, lambda_event
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.readers.history import History
from event_stream.tools.readers.lake_reader import as_record

Invoke = Callable[[Any], Invocation]
Planned = dict[str, list[KinesisRecord]]  # shard id -> its records, in order


@dataclass
class ShardOutcome:
    """How one shard's replay ended."""

    shard_id: str
    sent: int = 0
    stopped_at: str | None = None  # the sequence number to resume from
    reason: str = ""


def plan(
    lines: list[dict[str, Any]], mapping: EventSourceMapping, resume: dict[str, str] | None = None
) -> Planned:
    """The records to send, per shard, in order: those the mapping's filter lets through,
    from each shard's resume point on."""
    resume = resume or {}
    shards: Planned = {}
    patterns = mapping.patterns
    for line in lines:
        shard = line["kinesis"]["shardId"]
        if shard in resume and int(line["kinesis"]["sequenceNumber"]) < int(resume[shard]):
            continue
        record = as_record(line)
        if record_passes(patterns, record):
            shards.setdefault(shard, []).append(record)
    return shards


def dry_run(planned: Planned, history: History) -> dict[str, Any]:
    """What a replay would send: counts per source, per type and per shard, first and last
    time, and the parts of the window that are in neither the lake nor the stream."""
    records = [r for shard in planned.values() for r in shard]
    times = [r["ApproximateArrivalTimestamp"] for r in records]
    from_stream = sum(
        1
        for shard, found in planned.items()
        for r in found
        if (shard, int(r["SequenceNumber"])) in history.from_stream
    )
    return {
        "events": len(records),
        "fromLake": len(records) - from_stream,
        "fromStream": from_stream,
        "gaps": [gap.describe() for gap in history.gaps],
        "perType": dict(Counter(event_envelope.decode(r["Data"])["type"] for r in records)),
        "perShard": {shard: len(found) for shard, found in planned.items()},
        "first": iso_time(min(times).timestamp()) if times else None,
        "last": iso_time(max(times).timestamp()) if times else None,
    }


def replay(
    planned: Planned,
    mapping: EventSourceMapping,
    invoke: Invoke,
    *,
    region: str,
    role_arn: str,
    progress: Callable[[int], Any] = lambda done: None,
) -> list[ShardOutcome]:
    """Send each shard's records in batches; stop a shard where the function fails."""
    outcomes = []
    for shard_id, records in planned.items():
        outcome = ShardOutcome(shard_id)
        for start in range(0, len(records), mapping.batch_size):
            batch = records[start : start + mapping.batch_size]
            invocation = invoke(
                lambda_event(
                    batch,
                    shard_id=shard_id,
                    stream_arn=mapping.stream_arn,
                    region=region,
                    role_arn=role_arn,
                )
            )
            failed_at = first_failed(
                batch, invocation, reports_item_failures=mapping.report_item_failures
            )
            outcome.sent += len(batch) if failed_at is None else failed_at
            progress(len(batch) if failed_at is None else failed_at)
            if failed_at is not None:
                outcome.stopped_at = batch[failed_at]["SequenceNumber"]
                outcome.reason = _why(invocation)
                break
        outcomes.append(outcome)
    return outcomes


def _why(invocation: Invocation) -> str:
    """Why a batch stopped its shard, in one phrase."""
    if invocation.error:
        return f"function error {describe_error(invocation.error)}"
    return f"the function reported failed records: {invocation.answer.get('batchItemFailures')}"
