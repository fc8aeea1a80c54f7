"""The local event source mapping against what AWS documents and what real AWS recorded.

One test per scenario: which records each invocation receives, where the checkpoint ends,
how many invocations there were, and the on-failure record field by field. Sources:
[S] LocalStack's recordings of real AWS (tests/aws/services/lambda_/event_source_mapping/
test_lambda_integration_kinesis.snapshot.json, read as data; ../shared/notes/aws-recorded.md
summarises them); [K] "Using AWS Lambda with Amazon Kinesis"; [R] "Configuring partial
batch response with Kinesis Data Streams and Lambda"; [P] "Lambda parameters for Amazon
Kinesis Data Streams event source mappings"; [F] "Using event filtering with a Kinesis
event source".
"""

from __future__ import annotations

import json
import time

import pytest

from event_stream.tools.local import mapping_runner
from event_stream.tools.local.runner import Invocation
from tests.functional.mapping_harness import (
    QUEUE_ARN,
    Consumer,
    Harness,
    envelope,
    put,
    runner_stream,  # noqa: F401 (fixture `kinesis`)
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:consumer"


def sequence_numbers(kinesis) -> list[str]:
    """Every record's sequence number on the stream, in order."""
    iterator = kinesis.get_shard_iterator(
        StreamName="runner-s1", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [r["SequenceNumber"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]


class Answers:
    """A function that answers each invocation with the next of `answers` (the last repeats),
    and records the ids of each invocation's records."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[list[str]] = []
        self.events: list[dict] = []

    def __call__(self, event):
        import base64

        self.events.append(event)
        self.calls.append(
            [json.loads(base64.b64decode(r["kinesis"]["data"]))["id"] for r in event["Records"]]
        )
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return answer(event) if callable(answer) else answer


def fails(event) -> Invocation:
    return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "poison"}, [])


def reports(index: int):
    """A partial batch response naming the record at `index` of the invocation."""

    def answer(event) -> Invocation:
        sequence = event["Records"][index]["kinesis"]["sequenceNumber"]
        return Invocation({"batchItemFailures": [{"itemIdentifier": sequence}]}, None, [])

    return answer


def ok(event) -> Invocation:
    return Invocation({"batchItemFailures": []}, None, [])


def batch_info(harness, message: int = 0) -> dict:
    return harness.sent[message]["KinesisBatchInfo"]


# Recorded on real AWS [S]


def test_s_function_error_batch_1_retry_1_two_invocations_then_exhausted(kinesis):
    put(kinesis, envelope(0))
    function = Answers(fails)
    harness = Harness(
        kinesis, function, BatchSize=1, MaximumRetryAttempts=1, BisectBatchOnFunctionError=False
    )
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
    (sequence,) = sequence_numbers(kinesis)
    assert batch_info(harness) == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": sequence,
        "endSequenceNumber": sequence,
        "approximateArrivalOfFirstRecord": batch_info(harness)["approximateArrivalOfFirstRecord"],
        "approximateArrivalOfLastRecord": batch_info(harness)["approximateArrivalOfLastRecord"],
        "batchSize": 1,
        "streamArn": harness.runner.settings.stream_arn,
    }
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24


def test_s_partial_response_last_record_every_call_retries_3(kinesis):
    put(kinesis, *(envelope(n) for n in range(6)))
    function = Answers(reports(-1))
    harness = Harness(kinesis, function, MaximumRetryAttempts=3, BisectBatchOnFunctionError=False)
    harness.run()
    # Records 0-4 are delivered once; the reported one alone is retried, 3 times.
    assert function.calls == [["0", "1", "2", "3", "4", "5"], ["5"], ["5"], ["5"]]
    (record,) = harness.sent
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["responseContext"]["functionError"] is None
    assert batch_info(harness)["batchSize"] == 1
    last = sequence_numbers(kinesis)[-1]
    assert batch_info(harness)["startSequenceNumber"] == last
    assert harness.runner.checkpoints["shardId-000000000000"] == last


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
def test_s_an_invalid_item_identifier_is_a_complete_failure(kinesis, failures):
    put(kinesis, envelope(0), envelope(1))
    function = Answers(Invocation({"batchItemFailures": failures}, None, []))
    harness = Harness(kinesis, function, MaximumRetryAttempts=1, BisectBatchOnFunctionError=False)
    harness.run()
    assert function.calls == [["0", "1"], ["0", "1"]]
    (record,) = harness.sent
    assert batch_info(harness)["batchSize"] == 2
    assert record["responseContext"]["functionError"] is None


@pytest.mark.parametrize(
    "answer",
    [None, [], {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
    ids=["none", "list", "object", "empty-failures", "null-failures"],
)
def test_s_these_answers_are_success(kinesis, answer):
    put(kinesis, envelope(0), envelope(1))
    function = Answers(Invocation(answer, None, []))
    harness = Harness(kinesis, function)
    harness.run()
    assert function.calls == [["0", "1"]] and harness.sent == []
    assert harness.runner.checkpoints["shardId-000000000000"] == sequence_numbers(kinesis)[-1]


def test_s_record_age_exceeded_after_an_invocation_counts_it_and_has_no_response(
    kinesis, monkeypatch
):
    put(kinesis, envelope(0))
    function = Answers(fails)
    harness = Harness(
        kinesis, function, BatchSize=1, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60
    )
    harness.run(0.05)  # one invocation, failed
    later = time.time() + 61
    monkeypatch.setattr(mapping_runner.time, "time", lambda: later)
    harness.run(1)
    assert function.calls == [["0"]]
    (record,) = harness.sent
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in record
    assert batch_info(harness)["batchSize"] == 1


def test_s_a_record_too_old_when_read_is_discarded_and_younger_ones_are_delivered(
    kinesis, monkeypatch
):
    put(kinesis, envelope(0), envelope(1))
    time.sleep(0.05)
    young_from = time.time()
    put(kinesis, envelope(2))
    # Seen 61 s later: records 0 and 1 are 61 s old, record 2 arrived just now.
    arrival = mapping_runner.epoch_seconds
    monkeypatch.setattr(mapping_runner.time, "time", lambda: young_from + 61)
    monkeypatch.setattr(
        mapping_runner,
        "epoch_seconds",
        lambda moment: arrival(moment) + (61 if arrival(moment) >= young_from - 0.01 else 0),
    )
    function = Answers(ok)
    harness = Harness(kinesis, function, MaximumRecordAgeInSeconds=60)
    harness.run()
    assert function.calls == [["2"]]
    (record,) = harness.sent
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert batch_info(harness)["batchSize"] == 2


def test_s_two_mappings_on_one_stream_each_receive_every_record(kinesis):
    put(kinesis, *(envelope(n) for n in range(3)))
    first, second = Answers(ok), Answers(ok)
    Harness(kinesis, first).run()
    Harness(kinesis, second).run()
    assert first.calls == second.calls == [["0", "1", "2"]]


# Documented [K, R, P, F]


def test_r_partial_response_with_bisect_retries_the_remainder_whole_never_halved(kinesis):
    # "the batch is bisected at the returned sequence number and Lambda retries only the
    # remaining records": a handler that keeps reporting its first record dead-letters every
    # record behind it, as on AWS.
    put(kinesis, *(envelope(n) for n in range(10)))
    function = Answers(reports(3), reports(0))
    harness = Harness(kinesis, function, MaximumRetryAttempts=2)
    harness.run()
    remainder = [str(n) for n in range(3, 10)]
    assert function.calls == [[str(n) for n in range(10)], remainder, remainder]
    (record,) = harness.sent
    assert batch_info(harness)["batchSize"] == 7
    assert record["requestContext"]["approximateInvokeCount"] == 3


def test_k_a_function_error_halves_the_batch_without_counting_a_retry(kinesis):
    put(kinesis, *(envelope(n) for n in range(8)))
    harness = Harness(kinesis, Consumer(poison={"5"}, mode="raise"), MaximumRetryAttempts=0)
    harness.run()
    assert harness.consumer.calls == [
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


def test_k_the_consumer_runtime_isolates_a_poison_record_in_a_batch_of_100(kinesis):
    put(kinesis, *(envelope(n, key=f"k{n % 7}") for n in range(100)))
    harness = Harness(kinesis, Consumer(poison={"50"}), MaximumRetryAttempts=5)
    harness.run(30)
    assert len(harness.sent) == 1
    assert batch_info(harness)["batchSize"] == 1
    assert batch_info(harness)["startSequenceNumber"] == sequence_numbers(kinesis)[50]
    assert harness.consumer.handled == [str(n) for n in range(100) if n != 50]  # once, in order
    calls = harness.consumer.calls
    assert calls[0] == [str(n) for n in range(100)]  # 0-49 handled, 50 reported
    assert calls[1] == [str(n) for n in range(50, 100)]  # the remainder, whole
    assert calls[2] == [str(n) for n in range(50, 75)]  # 50 first: raised, so halved


def test_k_a_retry_is_the_same_batch_records_read_since_never_join_it(kinesis):
    put(kinesis, *(envelope(n) for n in range(3)))
    function = Answers(fails, fails, ok)
    harness = Harness(kinesis, function, BisectBatchOnFunctionError=False)
    harness.run(0.05)
    put(kinesis, *(envelope(n) for n in range(3, 6)))
    harness.run()
    assert function.calls == [["0", "1", "2"], ["0", "1", "2"], ["0", "1", "2"], ["3", "4", "5"]]


def test_k_halves_of_a_split_are_not_merged_with_new_records(kinesis):
    put(kinesis, *(envelope(n) for n in range(4)))
    function = Answers(fails, ok)
    harness = Harness(kinesis, function)
    harness.run(0.05)
    put(kinesis, envelope(4))
    harness.run()
    assert function.calls == [["0", "1", "2", "3"], ["0", "1"], ["2", "3"], ["4"]]


def test_p_a_full_payload_is_invoked_before_the_batching_window_ends(kinesis):
    big = 900 * 1024  # six of these exceed the 6 MB invocation payload once base64-encoded
    put(kinesis, *(envelope(n, pad="x" * big) for n in range(6)))
    function = Answers(ok)
    harness = Harness(kinesis, function, MaximumBatchingWindowInSeconds=300)
    harness.run(2)
    assert function.calls == [["0", "1", "2", "3", "4"]]


def test_f_the_checkpoint_moves_past_records_the_filter_drops(kinesis):
    put(kinesis, envelope(0, "other"), envelope(1, "other"))
    function = Answers(ok)
    harness = Harness(
        kinesis,
        function,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["wanted"]}})}]},
    )
    harness.run(2)
    assert function.calls == []
    assert harness.runner.checkpoints["shardId-000000000000"] == sequence_numbers(kinesis)[-1]


def test_k_a_latest_mapping_restarted_before_its_first_record_misses_nothing(kinesis):
    checkpoints: dict[str, str] = {}
    Harness(kinesis, Answers(ok), checkpoints=checkpoints, StartingPosition="LATEST").run(1)
    put(kinesis, envelope(1))  # arrives while the mapping is stopped
    function = Answers(ok)
    Harness(kinesis, function, checkpoints=checkpoints, StartingPosition="LATEST").run()
    assert function.calls == [["1"]]


def test_p_records_that_expire_go_out_in_messages_of_at_most_batch_size(kinesis, monkeypatch):
    put(kinesis, *(envelope(n) for n in range(5)))
    later = time.time() + 61
    monkeypatch.setattr(mapping_runner.time, "time", lambda: later)
    harness = Harness(kinesis, Answers(ok), BatchSize=2, MaximumRecordAgeInSeconds=60)
    harness.run()
    assert [m["KinesisBatchInfo"]["batchSize"] for m in harness.sent] == [2, 2, 1]


def test_p_parallelization_factor_runs_batches_per_key_group_keeping_key_order(kinesis):
    for n in range(40):
        put(kinesis, envelope(n, key=f"key-{n % 8}"), key=f"key-{n % 8}")
    function = Answers(ok)
    harness = Harness(kinesis, function, ParallelizationFactor=4, BatchSize=100)
    harness.run()
    lanes = [
        {harness.runner._lane_of({"PartitionKey": f"key-{int(i) % 8}"}) for i in call}
        for call in function.calls
    ]
    assert all(len(lane) == 1 for lane in lanes) and len(function.calls) > 1
    order: dict[str, list[int]] = {}
    for call in function.calls:
        for event_id in call:
            order.setdefault(f"key-{int(event_id) % 8}", []).append(int(event_id))
    assert all(ids == sorted(ids) for ids in order.values())
    assert sorted(int(i) for call in function.calls for i in call) == list(range(40))
    assert harness.runner.checkpoints["shardId-000000000000"] == sequence_numbers(kinesis)[-1]


def test_the_destination_is_the_mappings(kinesis):
    put(kinesis, envelope(0))
    destinations = []
    harness = Harness(kinesis, Answers(fails), MaximumRetryAttempts=0)
    harness.runner.send_to_destination = lambda arn, record: destinations.append(arn)
    harness.run()
    assert destinations == [QUEUE_ARN]
