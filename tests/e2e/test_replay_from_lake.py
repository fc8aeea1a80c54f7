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
        yield cloud
    finally:
        cloud.tear_down(STAGE)


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


def test_a_dead_letter_batch_the_stream_has_forgotten_is_redriven_from_the_lake(history):
    """Last in this module: it deletes the stage's stream to make it forget its records
    (moto never trims a stream by retention), as 24 hours would on AWS."""
    from event_stream.tools.lambda_model.kinesis_event import iso_time

    lines = [json.loads(line) for line in kept(history)][10:13]
    first, last = lines[0]["kinesis"], lines[-1]["kinesis"]
    kinesis = history.client("kinesis")
    stream = f"{STAGE}-cncb-event-stream-s1"
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    record = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "KinesisBatchInfo": {
            "shardId": first["shardId"],
            "startSequenceNumber": first["sequenceNumber"],
            "endSequenceNumber": last["sequenceNumber"],
            "approximateArrivalOfFirstRecord": iso_time(first["approximateArrivalTimestamp"]),
            "approximateArrivalOfLastRecord": iso_time(last["approximateArrivalTimestamp"]),
            "batchSize": 3,
            "streamArn": arn,
        },
    }
    sqs = history.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{REBUILT}-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))
    kinesis.delete_stream(StreamName=stream)
    try:
        listed = history.cli("dlq", "--function", REBUILT)
        assert listed.returncode == 0, listed.stderr
        (batch,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert (batch["fromLake"], batch["lost"]) == (3, 0)
        before = len(handled(history, REBUILT))
        redriven = history.cli("dlq", "--function", REBUILT, "--redrive")
        assert redriven.returncode == 0, redriven.stderr
        assert json.loads(redriven.stdout)["redriven"] is True
        again = handled(history, REBUILT)[before:]
        assert [e["n"] for e in again] == [line["event"]["n"] for line in lines]
    finally:
        kinesis.create_stream(StreamName=stream, ShardCount=1)  # so the stack can go
