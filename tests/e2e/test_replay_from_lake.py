"""Rebuilding one consumer from the lake on the local AWS: 500 events published and kept in
the stage's lake; a consumer deployed afterwards from LATEST sees none of them; `replay
--from-lake` hands all 500 to it, in order per key, while a second consumer on the same
stream is handed nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import wait_for

STAGE = "e2e-replay"
CONSUMER_APP = FIXTURES / "consumer_app"
REBUILT = f"e2e-{STAGE}-rebuilt"
BYSTANDER = f"e2e-{STAGE}-bystander"
EVENTS = 500


@pytest.fixture(scope="module")
def history(cloud, tmp_path_factory):
    cloud.deploy(STAGE, "lakeBufferSeconds=2")
    deployed = []
    try:
        path = tmp_path_factory.mktemp("replay") / "events.jsonl"
        path.write_text(
            "".join(
                json.dumps({"type": "thing-created", "partitionKey": f"key-{n % 13}", "n": n})
                + "\n"
                for n in range(EVENTS)
            )
        )
        assert cloud.cli("replay", "--stage", STAGE, str(path)).returncode == 0
        wait_for(lambda: len(kept(cloud)) >= EVENTS, timeout=90)
        for name in ("rebuilt", "bystander"):
            cloud.deploy(STAGE, f"name={name}", "startingPosition=LATEST", cwd=CONSUMER_APP)
            deployed.append(name)
        yield cloud
    finally:
        for name in deployed:
            cloud.cdk(
                "destroy",
                "--context",
                f"stage={STAGE}",
                "--context",
                f"name={name}",
                "--force",
                cwd=CONSUMER_APP,
                check=False,
            )
        cloud.destroy(STAGE)


def kept(cloud) -> list[str]:
    return cloud.cli("lake", "--stage", STAGE).stdout.splitlines()


def handled(cloud, function: str) -> list[dict]:
    return [e for e in cloud.log_entries(function) if e.get("message") == "handled"]


def test_a_dry_run_says_what_would_be_sent_and_sends_nothing(history):
    result = history.cli(
        "replay", "--from-lake", "--stage", STAGE, "--function", REBUILT, "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["events"], summary["perType"]) == (EVENTS, {"thing-created": EVENTS})
    assert handled(history, REBUILT) == []


def test_the_lake_rebuilds_one_consumer_and_only_that_one(history, tmp_path: Path):
    assert handled(history, REBUILT) == []  # LATEST: the history was before it
    result = history.cli("replay", "--from-lake", "--stage", STAGE, "--function", REBUILT)
    assert result.returncode == 0, result.stderr
    seen = wait_for(lambda: len(handled(history, REBUILT)) >= EVENTS and handled(history, REBUILT))
    assert sorted(e["n"] for e in seen) == list(range(EVENTS))
    by_key = defaultdict(list)
    for entry in seen:
        by_key[entry["key"]].append(entry["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())
    assert handled(history, BYSTANDER) == []
