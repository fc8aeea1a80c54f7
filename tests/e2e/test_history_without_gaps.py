"""The README's rebuild recipe on a stage whose lake buffers 300 s (the default): events
published just before a new consumer's deploy are still in the Firehose buffer, so neither
the lake nor the consumer's LATEST mapping has them; `replay --from-lake --until <deploy
time>` takes them from the stream, and the rebuilt consumer misses nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import wait_for

STAGE = "e2e-gapless"
CONSUMER_APP = FIXTURES / "consumer_app"
REBUILT = f"e2e-{STAGE}-rebuilt"
BEFORE, AFTER = range(5), range(5, 7)


def publish(cloud, tmp_path, numbers) -> None:
    path = tmp_path / f"events-{numbers[0]}.jsonl"
    path.write_text("".join(json.dumps({"type": "thing-created", "n": n}) + "\n" for n in numbers))
    result = cloud.cli("replay", "--stage", STAGE, str(path))
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def rebuilt(cloud, tmp_path_factory):
    """The stage, five events published, then the new consumer deployed from LATEST; the
    moment its deploy finished; two events published after it."""
    tmp_path = tmp_path_factory.mktemp("gapless")
    cloud.deploy(STAGE)  # the default 300 s buffer: nothing reaches the lake in this test
    try:
        publish(cloud, tmp_path, BEFORE)
        cloud.deploy(STAGE, "name=rebuilt", "startingPosition=LATEST", cwd=CONSUMER_APP)
        deployed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        publish(cloud, tmp_path, AFTER)
        yield cloud, deployed_at
    finally:
        cloud.tear_down(STAGE)


def handled(cloud) -> list[int]:
    return [e["n"] for e in cloud.log_entries(REBUILT) if e.get("message") == "handled"]


def test_lake_says_what_the_delivery_stream_holds_unwritten(rebuilt):
    cloud, _ = rebuilt
    result = cloud.cli("lake", "--stage", STAGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "note: 7 events are on the stream and not in the lake yet" in result.stderr
    assert "buffers them up to 300 s; the next write is due by about" in result.stderr


def test_the_dry_run_counts_the_events_that_come_from_the_stream(rebuilt):
    cloud, deployed_at = rebuilt
    summary = cloud.cli_json(
        "replay", "--from-lake", "-s", STAGE, "--function", REBUILT, "--until", deployed_at,
        "--dry-run",
    )  # fmt: skip
    assert (summary["events"], summary["fromLake"], summary["fromStream"]) == (5, 0, 5)
    assert summary["gaps"] == []


def test_a_rebuilt_consumer_gets_the_events_still_in_the_firehose_buffer(rebuilt):
    cloud, deployed_at = rebuilt
    wait_for(lambda: sorted(handled(cloud)) == list(AFTER))  # its mapping: only what came after
    result = cloud.cli(
        "replay", "--from-lake", "--stage", STAGE, "--function", REBUILT, "--until", deployed_at
    )
    assert result.returncode == 0, result.stderr
    seen = wait_for(lambda: len(handled(cloud)) >= 7 and handled(cloud))
    assert sorted(seen) == [*BEFORE, *AFTER]
