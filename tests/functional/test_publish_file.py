"""replay: JSON Lines in, batches out through the shared publisher, at a bounded rate."""

from __future__ import annotations

import json

import pytest

from event_stream.lambda_src.publisher import Publisher
from event_stream.tools.actions.publish_file import publish
from event_stream.tools.errors import UserError
from event_stream.tools.readers.event_file import read_events
from tests.conftest import load_fixture
from tests.functional.streams import STREAM, records_on

INVALID = load_fixture("invalid-events.json")


def jsonl(tmp_path, lines):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(kinesis, events, **kwargs):
    return publish(
        events,
        Publisher(kinesis, STREAM),
        region="us-east-1",
        max_record_bytes=1024 * 1024,
        **kwargs,
    )


def test_every_line_lands_in_file_order(kinesis, tmp_path):
    path = jsonl(tmp_path, [json.dumps({"type": "t", "n": i}) for i in range(1234)])
    summary = run(kinesis, read_events(path))
    assert (summary.sent, summary.failed) == (1234, [])
    assert [e["n"] for e in records_on(kinesis)] == list(range(1234))


def test_blank_lines_are_skipped_and_numbering_kept(tmp_path):
    path = jsonl(tmp_path, ['{"type": "a"}', "", '{"type": "b"}'])
    assert [where for where, _ in read_events(path)] == [f"{path}:1", f"{path}:3"]


@pytest.mark.parametrize("line", ['{"type": "a"', "not json", "{'type': 'a'}", '{"type": "a"} x'])
def test_malformed_json_names_its_line(tmp_path, line):
    path = jsonl(tmp_path, ['{"type": "ok"}', line])
    with pytest.raises(UserError, match=rf"^{path}:2: not valid JSON"):
        read_events(path)


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_invalid_event_names_its_line_and_nothing_is_sent(kinesis, tmp_path, case):
    path = jsonl(tmp_path, ['{"type": "ok"}', '{"type": "ok"}', json.dumps(case["event"])])
    with pytest.raises(UserError, match=rf"^{path}:3: {case['field']}:"):
        run(kinesis, read_events(path))
    assert records_on(kinesis) == []


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="cannot read"):
        read_events(tmp_path / "nope.jsonl")


def test_rate_limit_spaces_the_batches(kinesis):
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    events = [(i + 1, {"type": "t"}) for i in range(250)]
    summary = run(kinesis, events, rate=100, clock=lambda: now[0], sleep=sleep)
    assert summary.sent == 250
    # 100 events a batch at 100/s: batches start at 0 s, 1 s and 2 s.
    assert sleeps == pytest.approx([1.0, 1.0])


def test_progress_counts_every_event(kinesis):
    seen = []
    run(kinesis, [(i, {"type": "t"}) for i in range(1100)], progress=seen.append)
    assert seen == [500, 500, 100]


SEPARATORS = "\u2028 \u2029 \u0085 \x1c \x1d \x1e \x0b \x0c"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_replay_reads_back_what_tail_writes(tmp_path, newline):
    from event_stream.tools.cli.output import tail_line

    envelopes = [
        {
            "id": str(n),
            "type": "t",
            "timestamp": n,
            "partitionKey": "k",
            "tags": {},
            "text": f"{n}{SEPARATORS}",
        }
        for n in range(3)
    ]
    path = tmp_path / "tailed.jsonl"
    path.write_bytes("".join(tail_line(e) + newline for e in envelopes).encode("utf-8"))
    assert [event for _, event in read_events(path)] == envelopes


def test_failed_events_come_back_with_their_ids_for_a_safe_retry(kinesis, tmp_path):
    from tests.faults import ThrottleEntries

    ThrottleEntries(share=1.0).attach(kinesis)
    path = jsonl(tmp_path, [json.dumps({"type": "t", "n": i}) for i in range(3)])
    put = Publisher(kinesis, STREAM, sleep=lambda seconds: None, max_attempts=2)
    summary = publish(read_events(path), put, region="us-east-1", max_record_bytes=1024 * 1024)
    assert summary.sent == 0 and [e["n"] for e in summary.failed] == [0, 1, 2]
    # Replayed again, the same envelopes keep their ids (the caller's ids are kept).
    retry = jsonl(tmp_path, [json.dumps(e) for e in summary.failed])
    again = [event for _, event in read_events(retry)]
    assert [e["id"] for e in again] == [e["id"] for e in summary.failed]
