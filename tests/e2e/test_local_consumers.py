"""Deployed consumers really run on the local AWS: the poller delivers with Lambda's batching,
filters, partial failures, bisection, retries and failure destination.

Each test deploys the event stream and a consumer (tests/fixtures/consumer_app/) with the
real CDK CLI; the consumer's handler logs every event it handles, read back from its log
group.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import wait_for

CONSUMER_APP = FIXTURES / "consumer_app"


def function_name(stage: str) -> str:
    return f"e2e-{stage}-consumer"


@pytest.fixture
def deploy(cloud):
    """deploy(stage, **context) the stream and a consumer; both destroyed afterwards."""
    deployed = []

    def deploy_stage(stage: str, **context: str):
        if stage not in deployed:
            cloud.deploy(stage)
            deployed.append(stage)
        cloud.deploy(stage, *(f"{k}={v}" for k, v in context.items()), cwd=CONSUMER_APP)
        return cloud

    yield deploy_stage
    for stage in deployed:
        cloud.tear_down(stage)


def handled(cloud, stage: str) -> list[dict]:
    return [e for e in cloud.log_entries(function_name(stage)) if e.get("message") == "handled"]


def replay(cloud, stage: str, events: list[dict], tmp_path: Path) -> None:
    path = tmp_path / f"{stage}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    result = cloud.cli("replay", "--stage", stage, str(path))
    assert result.returncode == 0, result.stderr


def mapping_uuid(cloud, stage: str) -> str:
    (mapping,) = cloud.client("lambda").list_event_source_mappings(
        FunctionName=function_name(stage)
    )["EventSourceMappings"]
    return mapping["UUID"]


def test_a_thousand_events_reach_the_filtered_consumer_in_key_order(deploy, tmp_path):
    stage = "e2e-poll"
    cloud = deploy(stage, eventTypes="wanted")
    types = ("wanted", "other", "third")
    events = [{"type": types[n % 3], "partitionKey": f"key-{n % 37}", "n": n} for n in range(1000)]
    replay(cloud, stage, events, tmp_path)
    wanted = [e for e in events if e["type"] == "wanted"]
    seen = wait_for(lambda: len(handled(cloud, stage)) >= len(wanted) and handled(cloud, stage))
    assert sorted(e["n"] for e in seen) == [e["n"] for e in wanted]  # each once, only wanted
    by_key = defaultdict(list)
    for entry in seen:
        by_key[entry["key"]].append(entry["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())  # publish order within a key


def test_a_poison_event_is_isolated_dead_lettered_and_redriven_after_the_fix(deploy, tmp_path):
    stage = "e2e-poison"
    cloud = deploy(stage, retryAttempts="1")
    events = [{"type": "t", "partitionKey": f"key-{n % 5}", "n": n} for n in range(100)]
    events[50]["poison"] = True
    replay(cloud, stage, events, tmp_path)
    sqs = cloud.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{function_name(stage)}-dlq")["QueueUrl"]

    def dead_lettered():
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) == 1

    wait_for(dead_lettered)
    wait_for(lambda: len(handled(cloud, stage)) >= 99)
    # As on AWS: the runtime reports the poison event (nothing before it runs again), then
    # raises when it heads the retried remainder, so Lambda halves down to it; every other
    # event ran exactly once, in order within its key.
    seen = handled(cloud, stage)
    assert sorted(e["n"] for e in seen) == [n for n in range(100) if n != 50]
    by_key = defaultdict(list)
    for entry in seen:
        by_key[entry["key"]].append(entry["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())

    listed = cloud.cli("dlq", "--function", function_name(stage))
    (batch,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["n"] for e in batch["events"]] == [50] and batch["batchSize"] == 1
    # `local status`, from a folder that is not the local AWS's (found by AWS_ENDPOINT_URL),
    # says a batch was dead-lettered and keeps the error after the later successes.
    shown = cloud.cli("local", "status", cwd=tmp_path).stdout
    assert "batches dead-lettered since the local AWS started: 1 (last at " in shown
    assert "last error: " in shown and "poison" in shown

    cloud.deploy(stage, "fixed=true", "retryAttempts=1", cwd=CONSUMER_APP)
    redriven = cloud.cli("dlq", "--function", function_name(stage), "--redrive")
    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout)["redriven"] is True
    assert 50 in [e["n"] for e in handled(cloud, stage)]
    assert not dead_lettered()
    # The poller's warm worker was replaced by the fixed configuration: a new poison event
    # is handled at once.
    replay(
        cloud, stage, [{"type": "t", "partitionKey": "key-0", "n": 100, "poison": True}], tmp_path
    )
    wait_for(lambda: 100 in [e["n"] for e in handled(cloud, stage)])


def test_a_disabled_mapping_resumes_from_its_checkpoint(deploy, tmp_path):
    stage = "e2e-pause"
    cloud = deploy(stage)
    replay(cloud, stage, [{"type": "t", "n": n} for n in range(3)], tmp_path)
    wait_for(lambda: len(handled(cloud, stage)) == 3)
    lambda_ = cloud.client("lambda")
    lambda_.update_event_source_mapping(UUID=mapping_uuid(cloud, stage), Enabled=False)
    status = cloud.state_dir / "poller.json"
    wait_for(lambda: '"Disabled"' in status.read_text())
    replay(cloud, stage, [{"type": "t", "n": n} for n in range(3, 6)], tmp_path)
    # Disabled: nothing more is delivered, however long we wait.
    with pytest.raises(AssertionError):
        wait_for(lambda: len(handled(cloud, stage)) > 3, timeout=3)
    lambda_.update_event_source_mapping(UUID=mapping_uuid(cloud, stage), Enabled=True)
    wait_for(lambda: len(handled(cloud, stage)) >= 6)
    assert sorted(e["n"] for e in handled(cloud, stage)) == list(range(6))


def test_local_status_shows_each_mapping_and_destroy_stops_its_polling(deploy, cloud, tmp_path):
    stage = "e2e-status"
    deploy(stage)
    replay(cloud, stage, [{"type": "t", "n": 1}], tmp_path)
    wait_for(lambda: handled(cloud, stage))

    def status():
        return cloud.cli("local", "status", cwd=cloud.state_dir.parent).stdout

    shown = wait_for(lambda: "OK: 1 records" in status() and status())
    assert function_name(stage) in shown and "shardId-000000000000" in shown

    def workers():
        found = subprocess.run(
            ["pgrep", "-f", f"bootstrap.py handler.handler {function_name(stage)}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        return found

    assert workers()
    cloud.destroy(stage, cwd=CONSUMER_APP)
    wait_for(lambda: function_name(stage) not in status(), timeout=10)
    wait_for(lambda: not workers(), timeout=10)
