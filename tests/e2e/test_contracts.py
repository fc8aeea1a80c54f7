"""Event contracts on the local AWS, with the real CDK CLI: a stage whose publishers check
`tests/fixtures/contracts/`, a consumer checking the same, a breaking change refused at
synth, a violating record put straight onto the stream dead-lettered and redriven once the
contract is widened."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import ROOT, wait_for

STAGE = "e2e-contracts"
CONTRACTS = FIXTURES / "contracts"
CONSUMER_APP = FIXTURES / "consumer_app"
FUNCTION = f"e2e-{STAGE}-consumer"


@pytest.fixture(scope="module")
def stage(cloud):
    cloud.deploy(STAGE, f"contracts={CONTRACTS}")
    try:
        cloud.deploy(STAGE, "eventTypes=thing-created", f"contracts={CONTRACTS}", cwd=CONSUMER_APP)
        yield cloud
    finally:
        cloud.tear_down(STAGE)


def handled_ids(cloud) -> set[str]:
    return {e["id"] for e in cloud.log_entries(FUNCTION) if e.get("message") == "handled"}


def test_a_breaking_change_is_refused_at_synth(cloud):
    result = cloud.cdk(
        "synth",
        "--context",
        f"stage={STAGE}",
        "--context",
        f"contracts={CONTRACTS}",
        "--context",
        "contractsCompatibility=FULL",
        check=False,
    )
    assert result.returncode != 0
    assert 'error: thing-created v1 -> v2 breaks FULL: adds field "parts" to a closed schema' in (
        result.stderr
    )


def test_invoke_refuses_a_violation_and_names_it(stage):
    result = stage.cli(
        "invoke", "--stage", STAGE, "--data", json.dumps({"type": "thing-created", "name": 42})
    )
    assert result.returncode == 1
    assert "event: thing-created v2: /name: must be string" in result.stderr


def test_a_valid_event_is_tagged_with_its_contract_and_handled(stage):
    answer = stage.cli_json(
        "invoke", "--stage", STAGE, "--data", json.dumps({"type": "thing-created", "name": "lamp"})
    )
    kinesis = stage.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=f"{STAGE}-cncb-event-stream-s1",
        ShardId=answer["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=answer["SequenceNumber"],
    )["ShardIterator"]
    envelope = json.loads(
        kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]["Data"]
    )
    assert envelope["tags"]["contract"] == "thing-created/v2"
    wait_for(lambda: answer["id"] in handled_ids(stage))


def test_replay_checks_the_contracts_the_publishers_were_deployed_with(stage, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"type": "thing-created", "name": "ok"})
        + "\n"
        + json.dumps({"type": "thing-created", "name": "x", "color": "red"})
        + "\n"
    )
    result = stage.cli("replay", "--stage", STAGE, str(events))
    assert result.returncode == 1
    assert f"{events}:2: event: thing-created v2: /: must not contain {{'color'}} properties" in (
        result.stderr
    )
    assert "sent" not in result.stdout  # nothing was written


def test_a_violating_record_is_dead_lettered_and_redriven_after_the_contract_is_widened(
    stage, tmp_path
):
    record = {
        "id": "straight-onto-the-stream",
        "type": "thing-created",
        "timestamp": int(time.time() * 1000),
        "partitionKey": "k",
        "tags": {},
        "name": 42,
    }
    stage.client("kinesis").put_record(
        StreamName=f"{STAGE}-cncb-event-stream-s1", Data=json.dumps(record), PartitionKey="k"
    )

    def listed():
        shown = stage.cli("dlq", "--function", FUNCTION)
        return [json.loads(line) for line in shown.stdout.splitlines()]

    (message,) = wait_for(listed)
    assert message["condition"] == "ContractViolation"
    assert message["violation"] == "thing-created v2: /name: must be string"
    assert [e["id"] for e in message["events"]] == ["straight-onto-the-stream"]

    widened = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, widened)
    v3 = json.loads((widened / "thing-created/v2.json").read_text())
    v3["properties"]["name"]["type"] = ["string", "integer"]
    (widened / "thing-created/v3.json").write_text(json.dumps(v3))
    stage.deploy(STAGE, "eventTypes=thing-created", f"contracts={widened}", cwd=CONSUMER_APP)
    redriven = stage.cli("dlq", "--function", FUNCTION, "--redrive")
    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout)["redriven"] is True
    assert "straight-onto-the-stream" in handled_ids(stage)


def test_contracts_check_runs_from_the_app_folder_without_a_synth(cloud):
    result = cloud.cli("contracts", "check", "--folder", str(CONTRACTS), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 2 types, 3 versions, BACKWARD\n"
