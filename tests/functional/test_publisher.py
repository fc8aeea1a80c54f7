"""The batch publisher: chunking, re-sending throttled entries, answers, no loss, no dupes.

Faults are injected at the HTTP layer (tests/faults.py), below botocore and the publisher.
"""

from __future__ import annotations

from collections import Counter

import pytest

from event_envelope import PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, prepare, prepare_all
from publisher import Publisher, chunked
from tests.faults import ThrottleEntries
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

    import handler as module

    monkeypatch.setenv("STREAM_NAME", STREAM)
    handler = importlib.reload(module)
    ThrottleEntries(share=1 / 3, seed=11).attach(handler._client)
    monkeypatch.setattr(handler._publisher, "_sleep", lambda s: None)
    answer = handler.publish_batch({"events": events(600)}, None)
    assert answer["FailedRecordCount"] == 0
    assert sorted(e["n"] for e in records_on(kinesis)) == list(range(600))
