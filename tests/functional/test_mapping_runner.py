"""The local event source mapping against Lambda's documented Kinesis semantics.

In-process moto holds the stream; the function is a Python stand-in answering as the
consumer runtime does; the runner is stepped by hand on a fake clock, so every test is
deterministic. The end-to-end tier runs the same code against deployed consumers.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from event_stream.tools.local import mapping_runner
from event_stream.tools.local.runner import Invocation
from tests.functional.mapping_harness import (
    Consumer,
    Harness,
    envelope,
    put,
    runner_stream,  # noqa: F401 (fixture `kinesis`)
)


def test_every_record_is_delivered_once_in_order(kinesis):
    put(kinesis, *(envelope(n) for n in range(250)))
    harness = Harness(kinesis, Consumer())
    harness.run()
    assert harness.consumer.handled == [str(n) for n in range(250)]


def test_batches_hold_at_most_batch_size_records(kinesis):
    put(kinesis, *(envelope(n) for n in range(250)))
    harness = Harness(kinesis, Consumer(), BatchSize=100)
    harness.run()
    assert [len(call) for call in harness.consumer.calls] == [100, 100, 50]


def test_the_event_has_lambdas_kinesis_shape(kinesis):
    put(kinesis, envelope(1))
    events = []
    harness = Harness(kinesis, lambda event: events.append(event) or Invocation({}, None, []))
    harness.run()
    (record,) = events[0]["Records"]
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert json.loads(base64.b64decode(record["kinesis"]["data"]))["id"] == "1"


def test_records_that_do_not_match_the_filter_never_reach_the_function(kinesis):
    put(kinesis, envelope(1), envelope(2, "other"), envelope(3), b"not json")
    harness = Harness(
        kinesis,
        Consumer(),
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["wanted"]}})}]},
    )
    harness.run()
    assert harness.consumer.calls == [["1", "3"]]


def test_a_partial_failure_checkpoints_before_it_and_never_redelivers_what_passed(kinesis):
    put(kinesis, *(envelope(n) for n in range(10)))
    harness = Harness(kinesis, Consumer(poison={"4"}))
    harness.run()
    assert harness.consumer.handled == ["0", "1", "2", "3", "5", "6", "7", "8", "9"]
    assert harness.consumer.calls[1][0] == "4"  # the retry starts at the failed record


def test_bisect_isolates_the_poison_record_and_only_it_goes_to_the_destination(kinesis):
    put(kinesis, *(envelope(n) for n in range(100)))
    harness = Harness(kinesis, Consumer(poison={"37"}, mode="raise"))
    harness.run()
    # A function error fails the whole batch: what ran before it runs again (at least once).
    assert set(harness.consumer.handled) == {str(n) for n in range(100) if n != 37}
    (record,) = harness.sent
    info = record["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_retries_stop_after_maximum_retry_attempts(kinesis):
    put(kinesis, envelope(1))
    harness = Harness(kinesis, Consumer(poison={"1"}), MaximumRetryAttempts=2)
    harness.run()
    assert harness.consumer.calls == [["1"], ["1"], ["1"]]  # the first try and 2 retries
    assert harness.sent[0]["requestContext"]["approximateInvokeCount"] == 3


def test_without_bisect_the_whole_failed_batch_is_discarded_after_the_retries(kinesis):
    put(kinesis, *(envelope(n) for n in range(5)))
    harness = Harness(
        kinesis, Consumer(poison={"2"}, mode="raise"), BisectBatchOnFunctionError=False
    )
    harness.run()
    assert harness.sent[0]["KinesisBatchInfo"]["batchSize"] == 5
    assert harness.consumer.calls == [["0", "1", "2", "3", "4"]] * 3


def test_the_on_failure_record_has_lambdas_documented_shape(kinesis):
    put(kinesis, envelope(1))
    harness = Harness(kinesis, Consumer(poison={"1"}), MaximumRetryAttempts=0)
    harness.run()
    (record,) = harness.sent
    assert set(record) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "KinesisBatchInfo",
    }
    assert set(record["KinesisBatchInfo"]) == {
        "shardId",
        "startSequenceNumber",
        "endSequenceNumber",
        "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord",
        "batchSize",
        "streamArn",
    }


def test_records_past_the_maximum_age_are_discarded_unsent(kinesis, monkeypatch):
    put(kinesis, envelope(1), envelope(2))
    harness = Harness(kinesis, Consumer(), MaximumRecordAgeInSeconds=60)
    later = datetime.now(UTC) + timedelta(seconds=61)
    monkeypatch.setattr(mapping_runner.time, "time", later.timestamp)
    harness.run()
    assert harness.consumer.calls == []
    assert harness.sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in harness.sent[0]


def test_an_invalid_item_identifier_fails_the_whole_batch(kinesis):
    put(kinesis, envelope(1), envelope(2))
    calls = []

    def bad_answer(event):
        calls.append(len(event["Records"]))
        return Invocation({"batchItemFailures": [{"itemIdentifier": ""}]}, None, [])

    harness = Harness(kinesis, bad_answer, BisectBatchOnFunctionError=False, MaximumRetryAttempts=1)
    harness.run()
    assert calls == [2, 2] and harness.sent[0]["KinesisBatchInfo"]["batchSize"] == 2


def test_without_report_batch_item_failures_the_answer_is_ignored(kinesis):
    put(kinesis, envelope(1), envelope(2))
    harness = Harness(kinesis, Consumer(poison={"1"}, mode="report"), FunctionResponseTypes=[])
    harness.run()
    assert harness.consumer.calls == [["1", "2"]] and harness.sent == []


def test_a_restarted_runner_resumes_after_its_checkpoint(kinesis):
    checkpoints = {}
    put(kinesis, envelope(1), envelope(2))
    first = Harness(kinesis, Consumer(), checkpoints=checkpoints)
    first.run()
    put(kinesis, envelope(3))
    second = Harness(kinesis, Consumer(), checkpoints=checkpoints)
    second.run()
    assert (first.consumer.handled, second.consumer.handled) == (["1", "2"], ["3"])


def test_latest_starts_after_what_is_already_there(kinesis):
    put(kinesis, envelope(1))
    harness = Harness(kinesis, Consumer(), StartingPosition="LATEST")
    harness.run(1)
    put(kinesis, envelope(2))
    harness.run()
    assert harness.consumer.handled == ["2"]


def test_a_batching_window_waits_for_more_records(kinesis):
    put(kinesis, envelope(1))
    harness = Harness(kinesis, Consumer(), MaximumBatchingWindowInSeconds=5)
    harness.run(2)
    assert harness.consumer.calls == []
    put(kinesis, envelope(2))
    harness.run(4)
    assert harness.consumer.calls == [["1", "2"]]


def test_an_idle_shard_is_polled_once_a_second(kinesis):
    harness = Harness(kinesis, Consumer())
    reads = []
    original = harness.runner._read
    harness.runner._read = lambda shard: reads.append(harness.clock.now) or original(shard)
    harness.run(5)
    assert 4 <= len(reads) <= 6
