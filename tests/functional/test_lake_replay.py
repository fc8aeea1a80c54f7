"""Replaying a lake into one function as its mapping would: order per shard, batches of
its BatchSize, its filter, a stop where the function fails and a resume from there, and a
dry run that invokes nothing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from event_stream.lambda_src import event_envelope
from event_stream.tools.actions.replay import dry_run, plan, replay
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.mapping import EventSourceMapping
from event_stream.tools.readers.history import Gap, History, key_of
from event_stream.tools.readers.lake_reader import as_record

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/dev-cncb-event-stream-s1"


def line(n: int, shard: int = 0, type_: str = "thing-created") -> dict:
    envelope = {
        "id": f"id-{n}",
        "type": type_,
        "timestamp": n,
        "partitionKey": f"k{shard}",
        "tags": {},
    }
    return {
        "event": envelope,
        "kinesis": {
            "shardId": f"shardId-00000000000{shard}",
            "sequenceNumber": str(1000 + n),
            "partitionKey": f"k{shard}",
            "approximateArrivalTimestamp": 1764400000.0 + n,
        },
    }


def mapping(batch_size: int = 2, types: list[str] | None = None) -> EventSourceMapping:
    criteria = {"Filters": [{"Pattern": json.dumps({"data": {"type": types}})}]} if types else None
    return EventSourceMapping.from_api(
        {
            "UUID": "m-1",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            "EventSourceArn": ARN,
            "BatchSize": batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": criteria,
        }
    )


class Function:
    """Records each invocation's ids; fails as told."""

    def __init__(self, report: str | None = None, error_on: str | None = None):
        self.report, self.error_on, self.calls = report, error_on, []

    def __call__(self, event):
        ids = [json.loads(base64.b64decode(r["kinesis"]["data"]))["id"] for r in event["Records"]]
        self.calls.append(ids)
        if self.error_on in ids:
            return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "down"})
        for record, event_id in zip(event["Records"], ids, strict=True):
            if event_id == self.report:
                failure = {"itemIdentifier": record["kinesis"]["sequenceNumber"]}
                return Invocation({"batchItemFailures": [failure]})
        return Invocation({"batchItemFailures": []})


LINES = [line(0), line(1, shard=1), line(2), line(3, shard=1), line(4), line(5)]


def run(function, lines=LINES, resume=None, **mapping_options):
    chosen = mapping(**mapping_options)
    return replay(plan(lines, chosen, resume), chosen, function, region="us-east-1", role_arn="r")


def test_each_shard_is_sent_in_order_in_batches_of_the_mappings_size():
    function = Function()
    outcomes = run(function)
    assert function.calls == [["id-0", "id-2"], ["id-4", "id-5"], ["id-1", "id-3"]]
    assert [(o.shard_id, o.sent, o.stopped_at) for o in outcomes] == [
        ("shardId-000000000000", 4, None),
        ("shardId-000000000001", 2, None),
    ]


def test_the_mappings_filter_applies():
    lines = [line(0), line(1, type_="thing-updated"), line(2)]
    function = Function()
    run(function, lines, types=["thing-created"])
    assert function.calls == [["id-0", "id-2"]]


def test_a_reported_record_stops_its_shard_there_and_a_resume_starts_at_it():
    first = Function(report="id-4")
    outcomes = run(first)
    shard0 = outcomes[0]
    assert (shard0.sent, shard0.stopped_at) == (2, "1004")
    assert outcomes[1].stopped_at is None  # the other shard goes on
    again = Function()
    run(again, resume={"shardId-000000000000": "1004", "shardId-000000000001": "9999"})
    assert again.calls == [["id-4", "id-5"]]  # nothing before the stop is handed again


def test_a_function_error_stops_the_shard_at_the_batchs_first_record():
    outcomes = run(Function(error_on="id-5"))
    assert (outcomes[0].sent, outcomes[0].stopped_at) == (2, "1004")
    assert outcomes[0].reason.startswith("function error RuntimeError")


def test_a_dry_run_says_what_would_go_and_invokes_nothing():
    function = Function()
    summary = dry_run(plan(LINES, mapping()), History(LINES, frozenset()))
    assert function.calls == []
    assert summary["events"] == 6
    assert summary["perType"] == {"thing-created": 6}
    assert summary["perShard"] == {"shardId-000000000000": 4, "shardId-000000000001": 2}
    assert summary["first"] < summary["last"]


def test_a_dry_run_counts_what_comes_from_the_lake_and_from_the_stream():
    unwritten = frozenset(key_of(line) for line in LINES[-2:])
    summary = dry_run(plan(LINES, mapping()), History(LINES, unwritten))
    assert (summary["fromLake"], summary["fromStream"], summary["gaps"]) == (4, 2, [])


def test_a_dry_run_names_a_gap_in_the_window():
    gap = Gap(None, datetime(2026, 11, 29, tzinfo=UTC), "the stream keeps 24 h")
    summary = dry_run(plan(LINES, mapping()), History(LINES, frozenset(), [gap]))
    assert summary["gaps"] == [gap.describe()]


def test_a_records_data_is_the_envelope_as_it_was_published():
    published = event_envelope.prepare({"type": "t", "nested": {"b": 1, "a": [1, 2]}}, region="r")
    kept = {
        "event": json.loads(published.data),
        "kinesis": {
            "shardId": "s",
            "sequenceNumber": "1",
            "partitionKey": "k",
            "approximateArrivalTimestamp": 1.0,
        },
    }
    assert as_record(kept)["Data"] == published.data
