"""The consumer runtime on Lambda-shaped Kinesis events (JSON fixtures in tests/fixtures/)."""

from __future__ import annotations

import json
import logging

import pytest

from event_stream.lambda_src import event_consumer
from event_stream.lambda_src.event_consumer import (
    EVENT_TYPES_ENV,
    RETRIES_ENV,
    UNREADABLE_METRIC,
    process,
)
from tests.conftest import load_fixture

BATCH = load_fixture("kinesis-batch.json")
UNREADABLE = load_fixture("kinesis-unreadable.json")
SEQUENCES = [r["kinesis"]["sequenceNumber"] for r in BATCH["Records"]]


@pytest.fixture(autouse=True)
def no_filter_env(monkeypatch):
    monkeypatch.delenv(EVENT_TYPES_ENV, raising=False)
    monkeypatch.delenv(RETRIES_ENV, raising=False)


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The in-place retries' waits, recorded instead of slept; the jitter at its maximum; a
    fresh execution environment (nothing remembered) for each test."""
    slept: list[float] = []
    monkeypatch.setattr(event_consumer, "_sleep", slept.append)
    monkeypatch.setattr(event_consumer, "_jitter", lambda: 1.0)
    monkeypatch.setattr(event_consumer, "_gave_up", type(event_consumer._gave_up)())
    return slept


class Flaky:
    """A handle that fails `times` times on the event with id `on`, then works."""

    def __init__(self, on: str, times: int, error: Exception | None = None) -> None:
        self.on, self.left = on, times
        self.error = error or TimeoutError("the write timed out")
        self.calls: list[str] = []

    def __call__(self, envelope):
        self.calls.append(envelope["id"])
        if envelope["id"] == self.on and self.left:
            self.left -= 1
            raise self.error


class Remaining:
    """A Lambda context with `seconds` left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


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


def test_a_transient_failure_is_retried_in_place_and_the_batch_succeeds():
    handle = Flaky(on="id-3", times=2)
    assert process(BATCH, handle) == {"batchItemFailures": []}
    assert handle.calls == ["id-1", "id-2", "id-3", "id-3", "id-3", "id-4", "id-5"]


def test_in_place_waits_are_full_jitter_capped_at_0_1_then_0_2_seconds(waits):
    process(BATCH, Flaky(on="id-3", times=2))
    assert waits == [0.1, 0.2]  # the jitter at its maximum


def test_a_record_still_failing_after_its_retries_is_reported():
    handle = Flaky(on="id-3", times=3)
    assert process(BATCH, handle) == {"batchItemFailures": [{"itemIdentifier": SEQUENCES[2]}]}
    assert handle.calls == ["id-1", "id-2", "id-3", "id-3", "id-3"]


@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("name"), TypeError("x")])
def test_errors_that_repeat_for_the_same_event_are_not_retried_in_place(error):
    handle = Flaky(on="id-3", times=1, error=error)
    assert process(BATCH, handle) == {"batchItemFailures": [{"itemIdentifier": SEQUENCES[2]}]}
    assert handle.calls.count("id-3") == 1


def test_retries_0_turns_retrying_in_place_off():
    handle = Flaky(on="id-3", times=1)
    assert process(BATCH, handle, retries=0)["batchItemFailures"]
    assert handle.calls.count("id-3") == 1


def test_the_processors_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(RETRIES_ENV, "5")
    handle = Flaky(on="id-3", times=5)
    assert process(BATCH, handle) == {"batchItemFailures": []}


def test_a_record_that_ran_out_of_retries_is_tried_once_when_lambda_delivers_it_again(waits):
    handle = Flaky(on="id-3", times=100)
    process(BATCH, handle)
    waits.clear()
    handle.calls.clear()
    rest = {"Records": BATCH["Records"][2:]}  # Lambda's retry from the reported record
    with pytest.raises(TimeoutError):
        process(rest, handle)
    assert handle.calls == ["id-3"]
    assert waits == []


def test_a_record_that_works_again_is_retried_in_place_next_time():
    handle = Flaky(on="id-3", times=3)  # fails all three tries of the first invocation
    process(BATCH, handle)
    rest = {"Records": BATCH["Records"][2:]}
    assert process(rest, handle) == {"batchItemFailures": []}
    handle.left = 1
    assert process(rest, handle) == {"batchItemFailures": []}  # retried in place again


def test_no_retry_in_place_starts_without_the_time_to_finish_it():
    handle = Flaky(on="id-3", times=1)
    answer = process(BATCH, handle, context=Remaining(0.5))
    assert answer == {"batchItemFailures": [{"itemIdentifier": SEQUENCES[2]}]}
    assert handle.calls.count("id-3") == 1


def test_a_retry_in_place_is_logged_at_warning_with_shard_and_sequence(caplog):
    with caplog.at_level(logging.WARNING, logger="event_consumer"):
        process(BATCH, Flaky(on="id-3", times=1), context=Remaining(30))
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    assert "TimeoutError: the write timed out" in record.getMessage()
    assert record.sequenceNumber == SEQUENCES[2]
