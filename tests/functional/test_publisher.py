"""The batch publisher: chunking, re-sending throttled entries, answers, no loss, no dupes.

Faults are injected at the HTTP layer (tests/faults.py), below botocore and the publisher.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from event_stream.lambda_src.event_envelope import (
    PUT_RECORDS_MAX_BYTES,
    PUT_RECORDS_MAX_RECORDS,
    prepare,
    prepare_all,
)
from event_stream.lambda_src.publisher import Publisher, chunked
from tests.faults import FailRequests, ThrottleEntries
from tests.functional.streams import STREAM, records_on


def events(n):
    return [{"type": "load", "n": i} for i in range(n)]


def publisher(client, **kwargs):
    sleeps = []
    return Publisher(client, STREAM, sleep=sleeps.append, **kwargs), sleeps


def test_chunks_respect_the_record_count_limit():
    records = prepare_all(events(1201), region="r")
    sizes = [len(c) for c in chunked(range(len(records)), records)]
    assert sizes == [PUT_RECORDS_MAX_RECORDS, PUT_RECORDS_MAX_RECORDS, 201]


def test_chunks_respect_the_request_size_limit():
    big = prepare_all([{"type": "t", "blob": "x" * 900_000} for _ in range(12)], region="r")
    chunks = list(chunked(range(12), big))
    assert all(sum(big[i].size for i in c) <= PUT_RECORDS_MAX_BYTES for c in chunks)
    assert [i for c in chunks for i in c] == list(range(12))


def test_all_land_in_input_order_without_faults(kinesis):
    put, sleeps = publisher(kinesis)
    records = prepare_all(events(1200), region="r")
    answer = put.put_many(records)
    assert answer["FailedRecordCount"] == 0 and sleeps == []
    assert [r["id"] for r in answer["Records"]] == [r.envelope["id"] for r in records]
    assert [e["n"] for e in records_on(kinesis)] == list(range(1200))


def test_a_third_throttled_on_every_attempt_still_lands_exactly_once(kinesis):
    faults = ThrottleEntries(share=1 / 3).attach(kinesis)
    put, sleeps = publisher(kinesis)
    records = prepare_all(events(1500), region="r")
    answer = put.put_many(records)
    assert faults.throttled > 500  # the faults did bite
    assert answer["FailedRecordCount"] == 0
    ids = Counter(e["id"] for e in records_on(kinesis))
    assert set(ids) == {r.envelope["id"] for r in records}
    assert max(ids.values()) == 1
    assert len(sleeps) >= 3


def test_everything_throttled_is_answered_failed_and_nothing_lost_or_duplicated(kinesis):
    ThrottleEntries(share=1.0).attach(kinesis)
    put, sleeps = publisher(kinesis)
    records = prepare_all(events(50), region="r")
    answer = put.put_many(records)
    assert answer["FailedRecordCount"] == 50
    assert [r["id"] for r in answer["Records"]] == [r.envelope["id"] for r in records]
    assert all(
        r["ErrorCode"] == "ProvisionedThroughputExceededException" for r in answer["Records"]
    )
    assert records_on(kinesis) == []
    assert len(sleeps) == put.max_attempts - 1


def test_answer_mixes_landed_and_failed_entries_in_input_order(kinesis):
    ThrottleEntries(share=0.5, seed=3).attach(kinesis)
    put, _ = publisher(kinesis, max_attempts=1)
    records = prepare_all(events(40), region="r")
    answer = put.put_many(records)
    landed = {e["id"] for e in records_on(kinesis)}
    for record, entry in zip(records, answer["Records"], strict=True):
        assert entry["id"] == record.envelope["id"]
        assert ("ShardId" in entry) == (entry["id"] in landed)
    assert answer["FailedRecordCount"] == 40 - len(landed) > 0


def test_backoff_grows_exponentially_with_full_jitter(kinesis):
    ThrottleEntries(share=1.0).attach(kinesis)
    put, sleeps = publisher(kinesis, base_delay=0.1, max_delay=1.0, jitter=lambda: 1.0)
    put.put_many(prepare_all(events(3), region="r"))
    assert sleeps[:5] == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])


def test_no_attempt_starts_past_the_deadline(kinesis):
    ThrottleEntries(share=1.0).attach(kinesis)
    now = [0.0]
    put = Publisher(
        kinesis,
        STREAM,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
        jitter=lambda: 1.0,
        base_delay=1.0,
        max_delay=10.0,
    )
    answer = put.put_many(prepare_all(events(3), region="r"), deadline=5.0)
    assert answer["FailedRecordCount"] == 3
    assert now[0] <= 5.0


def test_non_retryable_entry_error_is_not_resent(kinesis):
    calls = []

    class Fake:
        meta = SimpleNamespace(config=SimpleNamespace(connect_timeout=1, read_timeout=2))

        def put_records(self, StreamName, Records):
            calls.append(len(Records))
            return {
                "FailedRecordCount": 1,
                "Records": [{"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "no"}],
            }

    put, _ = publisher(Fake())
    answer = put.put_many([prepare({"type": "t"}, region="r")])
    assert calls == [1] and answer["Records"][0]["ErrorCode"] == "KMSAccessDeniedException"


def test_handler_batch_lands_in_full_under_throttling(kinesis, monkeypatch):
    import importlib

    from event_stream.lambda_src import handler as module

    monkeypatch.setenv("STREAM_NAME", STREAM)
    handler = importlib.reload(module)
    ThrottleEntries(share=1 / 3, seed=11).attach(handler._publisher.client)
    monkeypatch.setattr(handler._publisher, "_sleep", lambda s: None)
    answer = handler.publish_batch({"events": events(600)}, None)
    assert answer["FailedRecordCount"] == 0
    assert sorted(e["n"] for e in records_on(kinesis)) == list(range(600))


# Whole-request failures: every event ends on the stream exactly once, or reported failed.


def on_stream_and_reported(kinesis, records, answer):
    """Per event id: (copies on the stream, reported failed)."""
    copies = Counter(e["id"] for e in records_on(kinesis))
    failed = {r["id"] for r in answer["Records"] if "ErrorCode" in r}
    return {
        r.envelope["id"]: (copies[r.envelope["id"]], r.envelope["id"] in failed) for r in records
    }


@pytest.mark.parametrize("how", ["timeout", "500", "throttled"])
def test_a_request_that_fails_once_is_resent_and_every_event_lands_once(kinesis, how):
    faults = FailRequests(how, marked=700).attach(kinesis)
    put, _ = publisher(kinesis)
    records = prepare_all(events(1200), region="r")  # three requests; the second fails once
    answer = put.put_many(records)
    assert faults.failed == 1 and answer["FailedRecordCount"] == 0
    assert set(on_stream_and_reported(kinesis, records, answer).values()) == {(1, False)}
    assert [e["n"] for e in records_on(kinesis)].count(700) == 1


@pytest.mark.parametrize("how", ["timeout", "500", "throttled"])
def test_a_request_that_always_fails_is_answered_failed_and_the_rest_lands(kinesis, how):
    FailRequests(how, marked=700, times=None).attach(kinesis)
    put, _ = publisher(kinesis)
    records = prepare_all(events(1200), region="r")
    answer = put.put_many(records)
    outcome = on_stream_and_reported(kinesis, records, answer)
    assert set(outcome.values()) == {(1, False), (0, True)}  # never both, never neither
    failed = [r for r in answer["Records"] if "ErrorCode" in r]
    assert len(failed) == 500 == answer["FailedRecordCount"]  # exactly the second request
    assert {r["ErrorCode"] for r in failed} == {
        {"timeout": "ReadTimeoutError", "500": "InternalFailure"}.get(
            how, "ProvisionedThroughputExceededException"
        )
    }
    assert [r["id"] for r in answer["Records"]] == [r.envelope["id"] for r in records]


def test_a_lost_answer_leaves_a_copy_recognisable_by_its_id(kinesis):
    FailRequests("lost-answer", marked=700).attach(kinesis)
    put, _ = publisher(kinesis)
    records = prepare_all(events(1200), region="r")
    answer = put.put_many(records)
    assert answer["FailedRecordCount"] == 0
    copies = Counter(e["id"] for e in records_on(kinesis))
    assert set(copies) == {r.envelope["id"] for r in records}  # no unknown ids
    assert sorted(set(copies.values())) == [1, 2]  # the lost request's events, twice


def test_a_non_retryable_request_error_is_answered_not_raised(kinesis):
    put, _ = publisher(kinesis)
    put.stream_name = "no-such-stream"
    answer = put.put_many(prepare_all(events(3), region="r"))
    assert answer["FailedRecordCount"] == 3
    assert {r["ErrorCode"] for r in answer["Records"]} == {"ResourceNotFoundException"}


class FlakyPutRecord:
    """A client whose PutRecord fails `failures` times with HTTP 500, then answers."""

    meta = SimpleNamespace(config=SimpleNamespace(connect_timeout=1, read_timeout=2))

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = []

    def put_record(self, StreamName, PartitionKey, Data):
        self.calls.append(Data)
        if len(self.calls) <= self.failures:
            raise ClientError(
                {
                    "Error": {"Code": "InternalFailure", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                "PutRecord",
            )
        return {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}


def test_put_one_resends_the_same_record_after_a_failed_request():
    client = FlakyPutRecord(failures=2)
    put, sleeps = publisher(client)
    record = prepare({"type": "t"}, region="r")
    assert put.put_one(record)["id"] == record.envelope["id"]
    assert client.calls == [record.data] * 3 and len(sleeps) == 2


def test_put_one_raises_the_last_error_when_the_attempts_run_out():
    client = FlakyPutRecord(failures=99)
    put, _ = publisher(client, max_attempts=4)
    with pytest.raises(ClientError, match="InternalFailure"):
        put.put_one(prepare({"type": "t"}, region="r"))
    assert len(client.calls) == 4


def test_put_one_starts_no_call_that_could_not_finish_before_the_deadline():
    client = FlakyPutRecord(failures=99)
    now = [0.0]
    put = Publisher(
        client, STREAM, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0]
    )
    original = client.put_record
    client.put_record = lambda **kw: (now.__setitem__(0, now[0] + 3.0), original(**kw))[1]
    with pytest.raises(ClientError):
        put.put_one(prepare({"type": "t"}, region="r"), deadline=10.0)
    assert now[0] <= 10.0 and len(client.calls) == 3  # 3 s each: a fourth would end past 10
