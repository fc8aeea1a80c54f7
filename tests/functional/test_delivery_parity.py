"""A Kinesis mapping's delivery on the local AWS against what AWS documents and what real AWS
recorded: the batch state machine driven directly (`mapping_harness`), one test per scenario.

Each test names its scenario and its source by marker: `recorded` is LocalStack's recordings
of real AWS (tests/aws/services/lambda_/event_source_mapping/
test_lambda_integration_kinesis.snapshot.json, read as data; ../shared/notes/aws-recorded.md
summarises them); `documented` is Lambda's pages: "Using AWS Lambda with Amazon Kinesis",
"Configuring partial batch response with Kinesis Data Streams and Lambda", "Lambda
parameters for Amazon Kinesis Data Streams event source mappings", "Using event filtering
with a Kinesis event source". Each checks which records each invocation receives, where the
checkpoint ends, how many invocations there were, and the on-failure record.
"""

from __future__ import annotations

import json

import pytest

from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.local.batch_state import lane_of
from tests.functional.mapping_harness import (
    FUNCTION_ARN,
    SHARD,
    STREAM_ARN,
    Consumer,
    Harness,
    envelope,
    ids_of,
)

recorded = pytest.mark.recorded
documented = pytest.mark.documented


class Answers:
    """A function that answers each invocation with the next of `answers` (the last repeats),
    and records the ids of each invocation's records."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def __call__(self, event):
        self.calls.append(ids_of(event))
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return answer(event) if callable(answer) else answer


def fails(event) -> Invocation:
    return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "poison"})


def reports(index: int):
    """A partial batch response naming the record at `index` of the invocation."""

    def answer(event) -> Invocation:
        sequence = event["Records"][index]["kinesis"]["sequenceNumber"]
        return Invocation({"batchItemFailures": [{"itemIdentifier": sequence}]})

    return answer


def ok(event) -> Invocation:
    return Invocation({"batchItemFailures": []})


def batch_info(harness, message: int = 0) -> dict:
    return harness.sent[message]["KinesisBatchInfo"]


# Recorded on real AWS


@recorded
def test_a_function_error_with_batch_size_1_and_1_retry_invokes_twice_then_gives_up():
    function = Answers(fails)
    harness = Harness(
        function, BatchSize=1, MaximumRetryAttempts=1, BisectBatchOnFunctionError=False
    )
    (sequence,) = harness.put(envelope(0))
    harness.run()
    assert function.calls == [["0"], ["0"]]
    (record,) = harness.sent
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"] == FUNCTION_ARN
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["version"] == "1.0"
    assert batch_info(harness) == {
        "shardId": SHARD,
        "startSequenceNumber": sequence,
        "endSequenceNumber": sequence,
        "approximateArrivalOfFirstRecord": batch_info(harness)["approximateArrivalOfFirstRecord"],
        "approximateArrivalOfLastRecord": batch_info(harness)["approximateArrivalOfLastRecord"],
        "batchSize": 1,
        "streamArn": STREAM_ARN,
    }
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24


@recorded
def test_a_partial_response_naming_the_last_record_splits_it_off_then_retries_it_3_times():
    function = Answers(reports(-1))
    harness = Harness(function, MaximumRetryAttempts=3, BisectBatchOnFunctionError=False)
    last = harness.put(*(envelope(n) for n in range(6)))[-1]
    harness.run()
    # Records 0-4 are delivered once; the reported one is split off into a batch of its own,
    # invoked once and retried 3 times (the recorded log holds it 5 times).
    assert function.calls == [["0", "1", "2", "3", "4", "5"], ["5"], ["5"], ["5"], ["5"]]
    (record,) = harness.sent
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["responseContext"]["functionError"] is None
    assert batch_info(harness)["batchSize"] == 1
    assert batch_info(harness)["startSequenceNumber"] == last
    assert harness.checkpoint == last


@recorded
@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": "no-such-record"}],
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{}],
    ],
    ids=["unknown", "empty", "null", "missing"],
)
def test_an_invalid_item_identifier_fails_the_whole_batch(failures):
    function = Answers(Invocation({"batchItemFailures": failures}))
    harness = Harness(function, MaximumRetryAttempts=1, BisectBatchOnFunctionError=False)
    harness.put(envelope(0), envelope(1))
    harness.run()
    assert function.calls == [["0", "1"], ["0", "1"]]
    (record,) = harness.sent
    assert batch_info(harness)["batchSize"] == 2
    assert record["responseContext"]["functionError"] is None


@recorded
@pytest.mark.parametrize(
    "answer",
    [None, [], {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
    ids=["none", "list", "object", "empty-failures", "null-failures"],
)
def test_these_answers_are_success(answer):
    function = Answers(Invocation(answer))
    harness = Harness(function)
    last = harness.put(envelope(0), envelope(1))[-1]
    harness.run()
    assert function.calls == [["0", "1"]] and harness.sent == []
    assert harness.checkpoint == last


@recorded
def test_a_record_that_expires_while_retried_counts_its_invocations_and_has_no_response():
    function = Answers(fails)
    harness = Harness(function, BatchSize=1, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60)
    harness.put(envelope(0))
    harness.run(0.05)  # one invocation, failed
    harness.wall.now += 61
    harness.run(1)
    assert function.calls == [["0"]]
    (record,) = harness.sent
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in record
    assert batch_info(harness)["batchSize"] == 1


@recorded
def test_a_record_too_old_when_read_is_discarded_and_younger_ones_are_delivered():
    function = Answers(ok)
    harness = Harness(function, MaximumRecordAgeInSeconds=60)
    harness.put(envelope(0), envelope(1), age=61)
    harness.put(envelope(2))
    harness.run()
    assert function.calls == [["2"]]
    (record,) = harness.sent
    # Never invoked, counted once all the same (recorded: expire-before-ingestion).
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert batch_info(harness)["batchSize"] == 2


@recorded
def test_two_mappings_on_one_stream_each_receive_every_record():
    first, second = Answers(ok), Answers(ok)
    for function in (first, second):
        harness = Harness(function)
        harness.put(*(envelope(n) for n in range(3)))
        harness.run()
    assert first.calls == second.calls == [["0", "1", "2"]]


# Documented


@documented
def test_every_record_is_delivered_once_in_order_in_batches_of_batch_size():
    consumer = Consumer()
    harness = Harness(consumer, BatchSize=100)
    harness.put(*(envelope(n) for n in range(250)))
    harness.run()
    assert consumer.handled == [str(n) for n in range(250)]
    assert [len(call) for call in consumer.calls] == [100, 100, 50]


@documented
def test_a_partial_response_with_bisect_retries_the_remainder_whole_never_halved():
    # "the batch is bisected at the returned sequence number and Lambda retries only the
    # remaining records": a handler that keeps reporting its first record dead-letters every
    # record behind it, as on AWS.
    function = Answers(reports(3), reports(0))
    harness = Harness(function, MaximumRetryAttempts=2)
    harness.put(*(envelope(n) for n in range(10)))
    harness.run()
    remainder = [str(n) for n in range(3, 10)]
    # The remainder is a new batch: invoked, then retried twice (its first record reported).
    assert function.calls == [[str(n) for n in range(10)], remainder, remainder, remainder]
    (record,) = harness.sent
    assert batch_info(harness)["batchSize"] == 7
    assert record["requestContext"]["approximateInvokeCount"] == 3


@documented
def test_a_function_error_halves_the_batch_without_counting_a_retry():
    consumer = Consumer(poison={"5"}, mode="raise")
    harness = Harness(consumer, MaximumRetryAttempts=0)
    harness.put(*(envelope(n) for n in range(8)))
    harness.run()
    assert consumer.calls == [
        [str(n) for n in range(8)],
        ["0", "1", "2", "3"],  # first half: fine
        ["4", "5", "6", "7"],  # second half: fails, halved again
        ["4", "5"],
        ["4"],
        ["5"],  # alone: no more halving; 0 retries allowed -> discarded
        ["6", "7"],
    ]
    (record,) = harness.sent
    assert batch_info(harness)["batchSize"] == 1
    assert record["requestContext"]["approximateInvokeCount"] == 4  # every call that held it


@documented
def test_without_bisect_the_whole_failed_batch_is_discarded_after_the_retries():
    consumer = Consumer(poison={"2"}, mode="raise")
    harness = Harness(consumer, BisectBatchOnFunctionError=False)
    harness.put(*(envelope(n) for n in range(5)))
    harness.run()
    assert batch_info(harness)["batchSize"] == 5
    assert consumer.calls == [["0", "1", "2", "3", "4"]] * 3  # the first try and 2 retries


@documented
def test_the_consumer_runtime_isolates_a_poison_record_in_a_batch_of_100():
    consumer = Consumer(poison={"50"})
    harness = Harness(consumer, MaximumRetryAttempts=5)
    sequences = harness.put(*(envelope(n, key=f"k{n % 7}") for n in range(100)))
    harness.run(30)
    assert len(harness.sent) == 1
    assert batch_info(harness)["batchSize"] == 1
    assert batch_info(harness)["startSequenceNumber"] == sequences[50]
    assert consumer.handled == [str(n) for n in range(100) if n != 50]  # once, in order
    assert consumer.calls[0] == [str(n) for n in range(100)]  # 0-49 handled, 50 reported
    assert consumer.calls[1] == [str(n) for n in range(50, 100)]  # the remainder, whole
    assert consumer.calls[2] == [str(n) for n in range(50, 75)]  # 50 first: raised, so halved


@documented
def test_a_retry_is_the_same_batch_records_read_since_never_join_it():
    function = Answers(fails, fails, ok)
    harness = Harness(function, BisectBatchOnFunctionError=False)
    harness.put(*(envelope(n) for n in range(3)))
    harness.run(0.05)
    harness.put(*(envelope(n) for n in range(3, 6)))
    harness.run()
    assert function.calls == [["0", "1", "2"], ["0", "1", "2"], ["0", "1", "2"], ["3", "4", "5"]]


@documented
def test_halves_of_a_split_are_not_merged_with_new_records():
    function = Answers(fails, ok)
    harness = Harness(function)
    harness.put(*(envelope(n) for n in range(4)))
    harness.run(0.05)
    harness.put(envelope(4))
    harness.run()
    assert function.calls == [["0", "1", "2", "3"], ["0", "1"], ["2", "3"], ["4"]]


@documented
def test_without_report_batch_item_failures_the_answer_is_ignored():
    consumer = Consumer(poison={"1"}, mode="report")
    harness = Harness(consumer, FunctionResponseTypes=[])
    harness.put(envelope(1), envelope(2))
    harness.run()
    assert consumer.calls == [["1", "2"]] and harness.sent == []


@documented
def test_a_batching_window_waits_for_more_records():
    consumer = Consumer()
    harness = Harness(consumer, MaximumBatchingWindowInSeconds=5)
    harness.put(envelope(1))
    harness.run(2)
    assert consumer.calls == []
    harness.put(envelope(2))
    harness.run(4)
    assert consumer.calls == [["1", "2"]]


@documented
def test_a_full_payload_is_invoked_before_the_batching_window_ends():
    big = 900 * 1024  # six of these exceed the 6 MB invocation payload once base64-encoded
    function = Answers(ok)
    harness = Harness(function, MaximumBatchingWindowInSeconds=300)
    harness.put(*(envelope(n, pad="x" * big) for n in range(6)))
    harness.run(2)
    assert function.calls == [["0", "1", "2", "3", "4"]]


@documented
def test_records_the_filter_drops_never_reach_the_function_and_the_checkpoint_passes_them():
    consumer = Consumer()
    harness = Harness(
        consumer,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["wanted"]}})}]},
    )
    harness.put(envelope(1), envelope(2, "other"), envelope(3), b"not json")
    last = harness.put(envelope(4, "other"))[-1]
    harness.run(2)
    assert consumer.calls == [["1", "3"]]
    assert harness.checkpoint == last


@documented
def test_records_that_expire_go_out_in_messages_of_at_most_batch_size():
    harness = Harness(Answers(ok), BatchSize=2, MaximumRecordAgeInSeconds=60)
    harness.put(*(envelope(n) for n in range(5)), age=61)
    harness.run()
    assert [m["KinesisBatchInfo"]["batchSize"] for m in harness.sent] == [2, 2, 1]
    assert all(m["requestContext"]["condition"] == "RecordAgeExceeded" for m in harness.sent)


@documented
def test_parallelization_factor_runs_batches_per_key_group_keeping_key_order():
    function = Answers(ok)
    harness = Harness(function, ParallelizationFactor=4, BatchSize=100)
    for n in range(40):
        last = harness.put(envelope(n), key=f"key-{n % 8}")[-1]
    harness.run()
    lanes = [{lane_of(f"key-{int(i) % 8}", 4) for i in call} for call in function.calls]
    assert all(len(lane) == 1 for lane in lanes) and len(function.calls) > 1
    order: dict[str, list[int]] = {}
    for call in function.calls:
        for event_id in call:
            order.setdefault(f"key-{int(event_id) % 8}", []).append(int(event_id))
    assert all(ids == sorted(ids) for ids in order.values())
    assert sorted(int(i) for call in function.calls for i in call) == list(range(40))
    assert harness.checkpoint == last


@recorded
def test_a_record_failing_until_it_expires_at_60_s_is_invoked_8_times():
    # Recorded: unlimited retries, MaximumRecordAgeInSeconds 60, a handler that always fails:
    # approximateInvokeCount 8 (the pacing is the local AWS's choice, calibrated on this).
    function = Answers(fails)
    harness = Harness(function, BatchSize=1, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60)
    harness.put(envelope(0))
    harness.run(120)
    assert len(function.calls) == 8
    (record,) = harness.sent
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 8
