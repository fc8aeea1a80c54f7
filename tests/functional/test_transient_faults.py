"""Consumers that ride out transient faults: the consumer runtime (`event_consumer.process`,
the code a StreamProcessor ships) driven through the mapping's batch logic under Lambda's
rules (`mapping_harness`, fake clocks), with a handler that fails at random on 2 % of its
calls, seeded. The failure model and the figures the README quotes are computed here too.

The README's failure model: each call of `handle` fails independently with probability p
(0.02), and a failed call has no effect. A batch of n (100) records is dead-lettered when its
records need more than R (MaximumRetryAttempts, 5) Lambda retries.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

import pytest

from event_stream.lambda_src import event_consumer
from event_stream.tools.lambda_model.invocation import Invocation
from tests.functional.mapping_harness import Harness, envelope

P, BATCH, RETRIES = 0.02, 100, 5  # the soak's fault rate, StreamProcessor's defaults
# StreamProcessor's mapping settings (event_stream/processor_config.py).
DEFAULTS = {"MaximumRetryAttempts": RETRIES, "MaximumRecordAgeInSeconds": 6 * 3600}


def dead_letter_probability(n: int, p: float, retries: int, attempts: int) -> float:
    """The chance that a batch of `n` records is dead-lettered if every failed invocation
    counts as a Lambda retry (the reading of "retries processing the batch up to the retry
    limit"): a record leaves an invocation failed with q = p^attempts (`attempts` calls of
    `handle` in place), so the batch's failed invocations are negative-binomial, the
    failures before n successes, and more than `retries` of them dead-letter the rest."""
    q = p**attempts
    # The tail itself, summed until its terms vanish (1 - the head would lose it to rounding).
    return sum(
        math.comb(n + k - 1, k) * q**k * (1 - q) ** n for k in range(retries + 1, retries + 200)
    )


def test_without_retrying_in_place_19_batches_in_1000_would_be_dead_lettered():
    assert dead_letter_probability(BATCH, P, RETRIES, attempts=1) == pytest.approx(0.0192, abs=5e-5)


def test_with_two_retries_in_place_4_batches_in_10_to_the_22_would_be():
    assert dead_letter_probability(BATCH, P, RETRIES, attempts=3) == pytest.approx(
        4.2e-22, rel=0.01
    )


def test_the_formula_agrees_with_a_simulation_of_the_model():
    rng = random.Random(27)
    trials = 20_000
    dead = 0
    for _ in range(trials):
        failures = 0
        for _record in range(BATCH):
            while rng.random() < P:
                failures += 1
        dead += failures > RETRIES
    expected = dead_letter_probability(BATCH, P, RETRIES, attempts=1)
    spread = 4 * math.sqrt(expected * (1 - expected) / trials)
    assert abs(dead / trials - expected) < spread


class Runtime:
    """A deployed StreamProcessor: the real consumer runtime around a handler that writes
    each event (`written`, per partition key) and fails at random on `p` of its calls;
    `poison` ids fail every time with `poison_error`."""

    def __init__(
        self,
        harness: Harness,
        *,
        p: float,
        seed: int,
        retries: int | None = None,
        poison: frozenset[str] = frozenset(),
        poison_error: type[Exception] = ValueError,
    ) -> None:
        self.harness, self.p, self.retries = harness, p, retries
        self.rng = random.Random(seed)
        self.poison, self.poison_error = poison, poison_error
        self.written: dict[str, list[int]] = defaultdict(list)
        self.calls = 0
        self.invocations = 0

    def handle(self, event: dict[str, Any]) -> None:
        self.calls += 1
        if event["id"] in self.poison:
            raise self.poison_error(f"event {event['id']} cannot be written")
        if self.rng.random() < self.p:
            raise TimeoutError("the write timed out")
        self.written[event["partitionKey"]].append(int(event["id"]))

    def sleep(self, seconds: float) -> None:
        """The runtime's backoff, on the harness's fake clocks."""
        self.harness.clock.now += seconds
        self.harness.wall.now += seconds

    def __call__(self, event: dict[str, Any]) -> Invocation:
        self.invocations += 1
        try:
            return Invocation(event_consumer.process(event, self.handle, retries=self.retries))
        except Exception as error:
            return Invocation(None, {"errorType": type(error).__name__, "errorMessage": str(error)})


@pytest.fixture(autouse=True)
def fresh_environment(monkeypatch):
    """Each test is a new execution environment: nothing remembered from another."""
    monkeypatch.setattr(event_consumer, "_gave_up", type(event_consumer._gave_up)())


def soak(
    monkeypatch, *, retries: int | None = None, poison=frozenset(), poison_error=ValueError
) -> tuple[Harness, Runtime]:
    """100 batches of 100 records over 100 partition keys, through the runtime."""
    harness = Harness(None, **DEFAULTS)
    runtime = Runtime(
        harness, p=P, seed=2027, retries=retries, poison=poison, poison_error=poison_error
    )
    harness.function = runtime
    monkeypatch.setattr(event_consumer, "_sleep", runtime.sleep)
    monkeypatch.setattr(event_consumer, "_jitter", random.Random(7).random)
    for n in range(100 * BATCH):
        harness.put(envelope(n, key=f"key-{n % 100}"))
    harness.run(600)
    return harness, runtime


def in_key_order(written: dict[str, list[int]]) -> bool:
    return all(ids == sorted(ids) for ids in written.values())


def test_transient_faults_dead_letter_nothing_and_every_event_is_written_once_in_key_order(
    monkeypatch,
):
    harness, runtime = soak(monkeypatch)
    assert harness.sent == []
    assert sorted(n for ids in runtime.written.values() for n in ids) == list(range(100 * BATCH))
    assert in_key_order(runtime.written)
    assert runtime.calls > 100 * BATCH + 150  # about 2 % of the calls failed: ~200 retries


def test_transient_faults_cost_no_lambda_retry_with_retries_in_place(monkeypatch):
    # A record fails a whole invocation with probability 0.02^3 = 8e-6: among 10,000, the
    # chance that any does is 8 %; with this seed, none does.
    _, runtime = soak(monkeypatch)
    assert runtime.invocations == 100


def test_without_retries_in_place_each_fault_costs_invocations(monkeypatch):
    # Under the recorded rules a fault after the batch's first record splits the batch and
    # one at its first record halves it: nothing is dead-lettered, but every fault costs at
    # least one more invocation, and a second or more of Lambda's pacing.
    harness, runtime = soak(monkeypatch, retries=0)
    assert harness.sent == []
    assert in_key_order(runtime.written)
    assert runtime.invocations == 303  # the README's figure, for this seed


def test_a_poison_record_among_them_ends_alone_in_the_dead_letter_queue(monkeypatch):
    harness, runtime = soak(monkeypatch, poison=frozenset({"4321"}))
    (message,) = harness.sent
    info = message["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == harness.records[4321]["SequenceNumber"]
    assert sorted(n for ids in runtime.written.values() for n in ids) == [
        n for n in range(100 * BATCH) if n != 4321
    ]
    assert in_key_order(runtime.written)


def time_to_dead_letter(monkeypatch, retries: int | None, error: type[Exception]) -> float:
    """Fake seconds from a batch of 100 holding a poison record at 50 to its message."""
    harness = Harness(None, **DEFAULTS)
    runtime = Runtime(harness, p=0.0, seed=1, retries=retries, poison=frozenset({"50"}))
    runtime.poison_error = error
    harness.function = runtime
    monkeypatch.setattr(event_consumer, "_sleep", runtime.sleep)
    monkeypatch.setattr(event_consumer, "_jitter", lambda: 1.0)  # the longest waits
    monkeypatch.setattr(event_consumer, "_gave_up", type(event_consumer._gave_up)())
    harness.put(*(envelope(n) for n in range(BATCH)))
    started = harness.clock.now
    while not harness.sent:
        harness.run(0.05)
    return harness.clock.now - started


def test_a_poison_record_with_a_data_error_is_dead_lettered_as_fast_as_without_retries(
    monkeypatch,
):
    with_retries = time_to_dead_letter(monkeypatch, None, ValueError)
    without = time_to_dead_letter(monkeypatch, 0, ValueError)
    assert with_retries == pytest.approx(without, abs=0.05)  # the harness's step
    # 13 invocations: the batch, 7 halvings, 6 tries alone; 1 + 1.6 + ... s of pacing.
    assert without == pytest.approx(16.55, abs=0.05)


def test_a_poison_record_failing_like_a_fault_costs_its_retries_in_place_once(monkeypatch):
    with_retries = time_to_dead_letter(monkeypatch, None, RuntimeError)
    without = time_to_dead_letter(monkeypatch, 0, RuntimeError)
    # Its first delivery waits up to 0.1 + 0.2 s; Lambda's later deliveries try it once.
    assert with_retries - without == pytest.approx(0.3, abs=0.05)
    assert with_retries == pytest.approx(16.85, abs=0.05)
