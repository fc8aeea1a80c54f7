"""The consumer runtime on Lambda-shaped Kinesis events (JSON fixtures in tests/fixtures/)."""

from __future__ import annotations

import json
import logging

import pytest

from event_stream.lambda_src.event_consumer import EVENT_TYPES_ENV, UNREADABLE_METRIC, process
from tests.conftest import load_fixture

BATCH = load_fixture("kinesis-batch.json")
UNREADABLE = load_fixture("kinesis-unreadable.json")
SEQUENCES = [r["kinesis"]["sequenceNumber"] for r in BATCH["Records"]]


@pytest.fixture(autouse=True)
def no_filter_env(monkeypatch):
    monkeypatch.delenv(EVENT_TYPES_ENV, raising=False)


def collect():
    seen = []
    return seen, lambda envelope: seen.append(envelope["id"])


def test_every_envelope_is_handled_in_record_order():
    seen, handle = collect()
    assert process(BATCH, handle) == {"batchItemFailures": []}
    assert seen == ["id-1", "id-2", "id-3", "id-4", "id-5"]


def test_handle_gets_the_whole_envelope_with_its_id_for_deduplication():
    seen = []
    process({"Records": BATCH["Records"][:1]}, seen.append)
    assert seen == [
        {
            "id": "id-1",
            "type": "thing-created",
            "timestamp": 1764300000001,
            "partitionKey": "k1",
            "tags": {"region": "us-east-1"},
            "n": 1,
        }
    ]


def test_first_failure_stops_the_batch_and_reports_its_sequence_number():
    seen = []

    def handle(envelope):
        if envelope["id"] == "id-3":
            raise RuntimeError("database down")
        seen.append(envelope["id"])

    assert process(BATCH, handle) == {"batchItemFailures": [{"itemIdentifier": SEQUENCES[2]}]}
    assert seen == ["id-1", "id-2"]  # nothing after the failed record ran ahead of it


def test_a_failure_of_the_first_record_raises_so_that_lambda_splits_the_batch():
    # A report of the first record would make Lambda retry the same batch unsplit.
    def handle(envelope):
        raise ValueError("always")

    with pytest.raises(ValueError, match="always"):
        process(BATCH, handle)


def test_a_failure_after_skipped_records_only_still_raises():
    # Records that are not envelopes are skipped, not handled: nothing succeeded before.
    unreadable_first = {"Records": [*UNREADABLE["Records"][1:3], *BATCH["Records"]]}

    def handle(envelope):
        raise ValueError("always")

    with pytest.raises(ValueError):
        process(unreadable_first, handle)


def test_the_failure_is_logged_at_error_with_shard_sequence_and_id(caplog):
    def handle(envelope):
        if envelope["id"] == "id-2":
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="event_consumer"):
        process(BATCH, handle)
    (entry,) = caplog.records
    assert (entry.shardId, entry.sequenceNumber, entry.id) == (
        "shardId-000000000000",
        SEQUENCES[1],
        "id-2",
    )
    assert entry.exc_info[0] is RuntimeError


def test_records_that_are_not_envelopes_are_skipped_and_never_block(caplog):
    seen, handle = collect()
    with caplog.at_level(logging.ERROR, logger="event_consumer"):
        assert process(UNREADABLE, handle) == {"batchItemFailures": []}
    assert seen == ["id-1", "id-5"]
    skipped = [r.sequenceNumber for r in caplog.records if r.levelno == logging.ERROR]
    assert skipped == [r["kinesis"]["sequenceNumber"] for r in UNREADABLE["Records"][1:4]]


def test_a_skipped_record_is_logged_with_the_field_that_is_missing(caplog):
    with caplog.at_level(logging.ERROR, logger="event_consumer"):
        process(UNREADABLE, lambda envelope: None)
    # The third record is {"type": "thing-created"}: an event, not yet an envelope.
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert messages[1] == "skipped a record: record.id: missing (not an event envelope)"


def test_unreadable_records_are_counted_in_a_metric_at_error_level(capsys, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "consumer-fn")
    process(UNREADABLE, lambda envelope: None)
    (line,) = capsys.readouterr().out.splitlines()
    metric = json.loads(line)
    assert (metric[UNREADABLE_METRIC], metric["FunctionName"], metric["level"]) == (
        3,
        "consumer-fn",
        "ERROR",
    )


def test_no_metric_line_when_every_record_is_readable(capsys):
    process(BATCH, lambda envelope: None)
    assert capsys.readouterr().out == ""


def test_types_keep_only_the_wanted_events():
    seen, handle = collect()
    process(BATCH, handle, types={"thing-created"})
    assert seen == ["id-1", "id-3", "id-5"]


def test_without_types_the_processors_filter_from_the_environment_applies(monkeypatch):
    monkeypatch.setenv(EVENT_TYPES_ENV, json.dumps(["thing-updated", "thing-deleted"]))
    seen, handle = collect()
    process(BATCH, handle)
    assert seen == ["id-2", "id-4"]


def test_an_empty_batch_succeeds_without_calling_handle():
    seen, handle = collect()
    assert process({"Records": []}, handle) == {"batchItemFailures": []}
    assert seen == []


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, [], None])
def test_an_event_that_is_not_a_kinesis_batch_is_rejected(event):
    with pytest.raises(ValueError, match="not a Lambda Kinesis event"):
        process(event, lambda envelope: None)
