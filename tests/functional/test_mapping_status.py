"""What `local status` keeps of a mapping's shard: batches dead-lettered since it started,
with the last one's time and reason, and the last error even after later successes."""

from __future__ import annotations

from event_stream.tools.lambda_model.invocation import Invocation
from tests.functional.mapping_harness import Harness, envelope, ids_of


class PoisonFirst:
    """Fails every call holding record "0"; handles the rest."""

    def __call__(self, event) -> Invocation:
        if "0" in ids_of(event):
            return Invocation(None, {"errorType": "RuntimeError", "errorMessage": "poison"})
        return Invocation({"batchItemFailures": []})


def dead_lettered_then_succeeded() -> Harness:
    harness = Harness(PoisonFirst(), BatchSize=1, MaximumRetryAttempts=1)
    harness.put(envelope(0), envelope(1))
    harness.run(30)
    return harness


def test_a_dead_lettered_batch_is_counted_with_its_time_and_reason():
    batches = dead_lettered_then_succeeded().batches
    assert batches.dead_lettered == 1
    assert batches.last_dead_letter.endswith(": RetryAttemptsExhausted: 1 records discarded")
    assert batches.last_dead_letter.startswith(
        "2027-01-15T08:00:01.000Z"
    )  # after one retry, 1 s later


def test_the_last_error_stays_after_later_successes():
    batches = dead_lettered_then_succeeded().batches
    assert batches.last_result == "OK: 1 records"
    assert "RuntimeError: poison" in batches.last_error


def test_nothing_dead_lettered_and_no_error_on_a_clean_run():
    harness = Harness(lambda event: Invocation({"batchItemFailures": []}))
    harness.put(envelope(0))
    harness.run()
    assert (harness.batches.dead_lettered, harness.batches.last_error) == (0, "")
