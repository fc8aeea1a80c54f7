"""Tumbling windows on the local AWS, under the rules of "Implementing stateful Kinesis Data
Streams processing in Lambda", driving the batch state machine on fake clocks: the window a
record belongs to, the state carried between a shard's invocations, the final invocation,
a missing state as a failure, and a window ended early by a state over 1 MB."""

from __future__ import annotations

import pytest

from event_stream.tools.lambda_model.invocation import Invocation
from tests.functional.mapping_harness import Harness, envelope, ids_of

documented = pytest.mark.documented
START = 1_800_000_000.0  # the harness's wall clock at first: a multiple of 60


class Counter:
    """A windowed function: counts the records of its window in the state."""

    def __init__(self, answer_state: bool = True, state_padding: int = 0) -> None:
        self.events: list[dict] = []
        self.answer_state = answer_state
        self.state_padding = state_padding

    def __call__(self, event: dict) -> Invocation:
        self.events.append(event)
        count = event["state"].get("count", 0) + len(event["Records"])
        if not self.answer_state:
            return Invocation({"batchItemFailures": []})
        state = {"count": count, "padding": "x" * self.state_padding}
        return Invocation({"state": state})


def windowed(function, **overrides) -> Harness:
    return Harness(function, **{"BatchSize": 2, "TumblingWindowInSeconds": 60, **overrides})


@documented
def test_each_invocation_gets_its_window_and_the_state_the_last_one_returned():
    function = Counter()
    harness = windowed(function)
    harness.put(*(envelope(n) for n in range(4)))
    harness.run(5)
    first, second = function.events
    assert first["window"] == {"start": "2027-01-15T08:00:00Z", "end": "2027-01-15T08:01:00Z"}
    assert (first["state"], second["state"]["count"]) == ({}, 2)
    assert first["shardId"] == "shardId-000000000000" and first["eventSourceARN"]
    assert not first["isFinalInvokeForWindow"] and not first["isWindowTerminatedEarly"]


@documented
def test_the_window_ends_with_a_final_invocation_holding_the_state_and_no_records():
    function = Counter()
    harness = windowed(function)
    harness.put(*(envelope(n) for n in range(3)))
    harness.run(70)  # past the window's end
    final = function.events[-1]
    assert final["isFinalInvokeForWindow"] and final["Records"] == []
    assert final["state"]["count"] == 3
    assert len(function.events) == 3  # 2 + 1 records, then the final invocation


@documented
def test_a_batch_never_spans_two_windows_and_a_new_window_starts_afresh():
    function = Counter()
    harness = windowed(function, BatchSize=10)
    harness.wall.now = START + 50
    harness.put(envelope(0), envelope(1))
    harness.wall.now = START + 65
    harness.put(envelope(2))
    harness.run(1)
    assert [ids_of(e) for e in function.events] == [["0", "1"], [], ["2"]]
    later = function.events[2]
    assert later["window"]["start"] == "2027-01-15T08:01:00Z" and later["state"] == {}


@documented
def test_an_answer_without_a_state_is_a_failed_invocation():
    function = Counter(answer_state=False)
    harness = windowed(function, MaximumRetryAttempts=1)
    harness.put(envelope(0))
    harness.run(5)
    assert [ids_of(e) for e in function.events[:2]] == [["0"], ["0"]]
    (record,) = harness.sent
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


@documented
def test_a_state_over_1_mb_ends_the_window_early():
    function = Counter(state_padding=1024 * 1024)
    harness = windowed(function)
    harness.put(envelope(0))
    harness.run(1)
    final = function.events[1]
    assert final["isFinalInvokeForWindow"] and final["isWindowTerminatedEarly"]
