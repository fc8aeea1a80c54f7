"""The event lake on the local AWS: the stage deployed with the real CDK CLI (its lake on,
as by default), events published, and `lake` reading them back from S3 after Firehose's
buffer interval; the lake's bucket goes with a stage that does not retain it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for

STAGE = "e2e-lake"


@pytest.fixture(scope="module")
def lake_stage(cloud):
    cloud.deploy(STAGE, "lakeBufferSeconds=2")
    try:
        yield cloud
    finally:
        cloud.destroy(STAGE)


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


def test_published_events_reach_the_lake_in_order_with_their_coordinates(
    lake_stage, tmp_path: Path
):
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {"type": "thing-created" if n % 2 else "thing-updated", "partitionKey": "k", "n": n}
            )
            + "\n"
            for n in range(6)
        )
    )
    assert lake_stage.cli("replay", "--stage", STAGE, str(events)).returncode == 0

    def kept():
        result = lake_stage.cli("lake", "--stage", STAGE)
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        return len(lines) >= 6 and lines

    lines = wait_for(kept, timeout=60)
    assert [line["event"]["n"] for line in lines] == list(range(6))
    assert {line["kinesis"]["shardId"] for line in lines} == {"shardId-000000000000"}
    created = lake_stage.cli("lake", "--stage", STAGE, "--type", "thing-created", "--since", "1h")
    assert [json.loads(line)["event"]["n"] for line in created.stdout.splitlines()] == [1, 3, 5]


def test_the_lake_objects_are_gzip_under_the_stream_name(lake_stage):
    bucket = outputs(lake_stage)["lakeBucketName"]
    wait_for(
        lambda: lake_stage.client("s3").list_objects_v2(Bucket=bucket).get("Contents"), timeout=60
    )
    keys = [o["Key"] for o in lake_stage.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith(f"{STAGE}-cncb-event-stream-s1/") and k.endswith(".gz") for k in keys)


def test_a_bad_time_is_one_clear_line(lake_stage):
    result = lake_stage.cli("lake", "--stage", STAGE, "--since", "yesterday")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: --since 'yesterday': must be a duration")
