"""10,000 events through `replay` into the local AWS, read back in full."""

from __future__ import annotations

import json

import pytest

STAGE = "e2e-load"
COUNT = 10_000


@pytest.fixture(scope="module")
def deployed(cloud):
    cloud.deploy(STAGE)
    yield cloud
    cloud.tear_down(STAGE)


def test_ten_thousand_events_land_exactly_once(deployed, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(json.dumps({"type": "load-tested", "n": i}) + "\n" for i in range(COUNT))
    )
    result = deployed.cli("replay", "--stage", STAGE, str(events))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"sent {COUNT}, failed 0,")
    tailed = [
        json.loads(line) for line in deployed.cli("tail", "--stage", STAGE).stdout.splitlines()
    ]
    assert len(tailed) == COUNT
    assert len({e["id"] for e in tailed}) == COUNT
    assert sorted(e["n"] for e in tailed) == list(range(COUNT))


def test_malformed_line_stops_replay_before_anything_is_sent(deployed, tmp_path):
    before = deployed.cli("tail", "--stage", STAGE).stdout
    events = tmp_path / "bad.jsonl"
    events.write_text('{"type": "a"}\n{"type": "b"}\n{"type": "c",\n')
    result = deployed.cli("replay", "--stage", STAGE, str(events))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"error: {events}:3: not valid JSON (Expecting property name enclosed in double quotes)"
    )
    assert deployed.cli("tail", "--stage", STAGE).stdout == before
