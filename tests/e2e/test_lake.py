"""The event lake on the local AWS: the stage deployed with the real CDK CLI (its lake on,
as by default), events published, and `lake` reading them back from S3 after Firehose's
buffer interval; the lake's bucket goes with a stage that does not retain it."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import wait_for

STAGE = "e2e-lake"


@pytest.fixture(scope="module")
def lake_stage(cloud):
    cloud.deploy(STAGE, "lakeBufferSeconds=2")
    try:
        yield cloud
    finally:
        cloud.tear_down(STAGE)


def outputs(cloud) -> dict[str, str]:
    (stack,) = cloud.client("cloudformation").describe_stacks(
        StackName=f"cncb-event-stream-{STAGE}"
    )["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_the_stage_outputs_and_exports_its_lake(lake_stage):
    info = lake_stage.cli_json("info", "--stage", STAGE)
    assert info["outputs"]["lakeDeliveryStreamName"] == f"{STAGE}-cncb-event-stream-lake"
    assert (
        info["exports"][f"cncb-event-stream-{STAGE}-lakeBucketName"]
        == (info["outputs"]["lakeBucketName"])
    )


EVENTS = 1000


@pytest.fixture(scope="module")
def published(lake_stage):
    """1,000 events published through the deployed publish_batch, and its answer."""
    events = [
        {"type": "thing-created" if n % 2 else "thing-updated", "partitionKey": f"k{n % 7}", "n": n}
        for n in range(EVENTS)
    ]
    answer = lake_stage.cli_json(
        "invoke", "--stage", STAGE, "--batch", "--data", json.dumps(events)
    )
    assert answer["FailedRecordCount"] == 0
    return answer


def kept(cloud, *options: str) -> list[dict]:
    result = cloud.cli("lake", "--stage", STAGE, *options)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_published_event_is_in_the_lake_exactly_once(lake_stage, published):
    lines = wait_for(lambda: len(kept(lake_stage)) >= EVENTS and kept(lake_stage), timeout=90)
    assert len(lines) == EVENTS
    assert {line["event"]["id"] for line in lines} == {r["id"] for r in published["Records"]}
    assert [line["event"]["n"] for line in lines] == list(range(EVENTS))  # one shard, in order
    assert {line["kinesis"]["shardId"] for line in lines} == {"shardId-000000000000"}


def test_lake_filters_by_type_and_time(lake_stage, published):
    wait_for(lambda: len(kept(lake_stage)) >= EVENTS, timeout=90)
    created = kept(lake_stage, "--type", "thing-created", "--since", "1h")
    assert [line["event"]["n"] for line in created] == list(range(1, EVENTS, 2))
    assert kept(lake_stage, "--until", "2020-01-01T00:00") == []


def test_the_lake_objects_are_named_as_firehose_names_them(lake_stage, published):
    bucket = outputs(lake_stage)["lakeBucketName"]
    wait_for(lambda: len(kept(lake_stage)) >= EVENTS, timeout=90)
    keys = [o["Key"] for o in lake_stage.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    name = rf"{STAGE}-cncb-event-stream-lake-1-\d{{4}}(-\d{{2}}){{5}}-[0-9a-f-]{{36}}\.gz"
    hour = r"\d{4}/\d{2}/\d{2}/\d{2}"
    assert keys and all(
        re.fullmatch(rf"{STAGE}-cncb-event-stream-s1/{hour}/{name}", key) for key in keys
    ), keys


def test_local_status_shows_the_delivery_stream_and_how_far_behind_it_is(lake_stage, published):
    def status():
        return lake_stage.cli("local", "status", cwd=lake_stage.state_dir.parent).stdout

    shown = wait_for(lambda: "delivery stream" in status() and status())
    assert f"delivery stream {STAGE}-cncb-event-stream-lake: {STAGE}-cncb-event-stream-s1" in shown
    assert "ms behind the stream" in shown


def test_a_bad_time_is_one_clear_line(lake_stage):
    result = lake_stage.cli("lake", "--stage", STAGE, "--since", "yesterday")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: --since 'yesterday': must be a duration")
