"""A Node.js consumer on the local AWS: the example stream processor (examples/node_consumer/,
`index.js` with its npm dependency installed into the asset folder) deployed with the real
CDK CLI beside the event stream, run by the poller with the machine's `node`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, wait_for

STAGE = "e2e-node"
NODE_APP = ROOT / "examples" / "node_consumer"
FUNCTION = f"cncb-node-stream-processor-{STAGE}-listener"


@pytest.fixture(scope="module")
def node_consumer(cloud):
    cloud.deploy(STAGE)
    try:
        cloud.deploy(STAGE, cwd=NODE_APP)
        yield cloud
    finally:
        cloud.tear_down(STAGE)


def messages(cloud) -> list[str]:
    logs = cloud.client("logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{FUNCTION}"
        )
        return [e["message"] for page in pages for e in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def test_the_node_consumer_logs_each_event_and_counts_the_thing_created_ones(
    node_consumer, tmp_path: Path
):
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps({"type": t, "n": n}) + "\n"
            for n, t in enumerate(("thing-created",) * 2 + ("thing-updated",))
        )
    )
    result = node_consumer.cli("replay", "--stage", STAGE, str(events))
    assert result.returncode == 0, result.stderr
    wait_for(lambda: any(m.endswith("thing-created so far 2") for m in messages(node_consumer)))
    logged = [m.split("\t") for m in messages(node_consumer) if "\tevent " in m]
    assert len(logged) == 3
    # Lambda's text log format: time, request id, level, message (the `ms` dependency ran).
    time, request_id, level, message = logged[0]
    assert time.endswith("Z") and len(request_id) == 36 and level == "INFO"
    assert json.loads(message.removeprefix("event "))["age"].endswith(("ms", "s"))


def test_local_status_shows_the_node_consumers_mapping(node_consumer):
    def status():
        return node_consumer.cli("local", "status", cwd=node_consumer.state_dir.parent).stdout

    shown = wait_for(lambda: FUNCTION in status() and status())
    assert "Paused" not in shown


def test_the_node_consumer_has_its_dead_letter_queue_and_bounded_mapping(node_consumer):
    queue = node_consumer.client("sqs").get_queue_url(QueueName=f"{FUNCTION}-dlq")["QueueUrl"]
    (mapping,) = node_consumer.client("lambda").list_event_source_mappings(FunctionName=FUNCTION)[
        "EventSourceMappings"
    ]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f"{FUNCTION}-dlq")
    assert (mapping["MaximumRetryAttempts"], mapping["MaximumRecordAgeInSeconds"]) == (5, 21600)
    assert queue.endswith(f"{FUNCTION}-dlq")
