"""The development loop a user runs against the local AWS, through the real CDK CLI."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from tests.conftest import ROOT

STAGE = "e2e-loop"
STREAM = f"{STAGE}-cncb-event-stream-s1"
STACK = f"cncb-event-stream-{STAGE}"


@pytest.fixture(scope="module")
def deployed(cloud):
    # At DEBUG, as the dev stage logs (cdk.json): the logs show the event and its envelope.
    cloud.deploy(STAGE, "logLevel=DEBUG")
    yield cloud
    cloud.tear_down(STAGE)


def test_stream_exists_with_the_stage_name_and_settings(deployed):
    summary = deployed.client("kinesis").describe_stream_summary(StreamName=STREAM)
    summary = summary["StreamDescriptionSummary"]
    assert (summary["RetentionPeriodHours"], summary["OpenShardCount"]) == (24, 1)


def test_exports_carry_the_contract_names(deployed):
    exports = {
        e["Name"]: e["Value"] for e in deployed.client("cloudformation").list_exports()["Exports"]
    }
    assert exports[f"{STACK}-streamName"] == STREAM
    assert exports[f"{STACK}-streamArn"].endswith(f":stream/{STREAM}")


def test_info_shows_outputs_and_exports(deployed):
    info = deployed.cli_json("info", "--stage", STAGE)
    assert info["outputs"]["publishFunctionName"] == f"{STACK}-publish"
    assert info["outputs"]["publishBatchFunctionName"] == f"{STACK}-publish-batch"
    assert set(info["exports"]) == {
        f"{STACK}-streamName",
        f"{STACK}-streamArn",
        f"{STACK}-lakeBucketName",
        f"{STACK}-lakeBucketArn",
    }


def test_invoked_event_comes_back_from_tail_with_every_envelope_field(deployed):
    key = str(uuid.uuid4())
    answer = deployed.cli_json(
        "invoke",
        "--stage",
        STAGE,
        "--data",
        json.dumps({"type": "thing-created", "partitionKey": key}),
    )
    assert set(answer) == {"ShardId", "SequenceNumber", "id"}
    tailed = [
        json.loads(line) for line in deployed.cli("tail", "--stage", STAGE).stdout.splitlines()
    ]
    (envelope,) = [e for e in tailed if e["id"] == answer["id"]]
    assert envelope["type"] == "thing-created" and envelope["partitionKey"] == key
    assert isinstance(envelope["timestamp"], int)
    assert envelope["tags"] == {"region": "us-east-1"}


def test_invoke_goes_through_lambdas_invoke_api_on_the_local_aws(deployed):
    result = deployed.cli("invoke", "--stage", STAGE, "--data", '{"type":"t"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SequenceNumber"]
    assert "running the deployed code" not in result.stderr


def test_invoke_local_says_it_ran_the_deployed_code_here(deployed):
    result = deployed.cli("invoke", "--stage", STAGE, "--local", "--data", '{"type":"t"}')
    assert result.returncode == 0, result.stderr
    assert f"running the deployed code of {STACK}-publish (handler.publish)" in result.stderr


def test_local_loop_works_with_no_region_or_another_profile_region(deployed):
    # The README's loop: only AWS_ENDPOINT_URL exported, the shell's region unset or other.
    for region in (None, "eu-west-1"):
        env = {
            k: v for k, v in deployed.env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")
        }
        if region:
            env["AWS_DEFAULT_REGION"] = region
        result = deployed.cli("invoke", "--stage", STAGE, "--data", '{"type":"t"}', env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["SequenceNumber"]


def test_batch_invoke_answers_one_entry_per_event_in_order(deployed):
    events = [{"type": "thing-created", "n": i} for i in range(3)]
    answer = deployed.cli_json("invoke", "--stage", STAGE, "--batch", "--data", json.dumps(events))
    assert answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 3


def test_logs_show_the_event_and_the_envelope(deployed):
    deployed.cli_json("invoke", "--stage", STAGE, "--data", '{"type":"logged-thing"}')
    lines = deployed.cli("logs", "--stage", STAGE, "--json").stdout.splitlines()
    messages = [json.loads(line) for line in lines]
    received = [m for m in messages if m["message"] == "event received"]
    assert {"type": "logged-thing"} in [m["event"] for m in received]
    assert any(m["message"] == "envelope built" for m in messages)


def test_rejected_event_fails_with_one_line_and_writes_nothing(deployed):
    before = deployed.cli("tail", "--stage", STAGE).stdout
    result = deployed.cli("invoke", "--stage", STAGE, "--data", '{"kind":"no type"}')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {STACK}-publish failed: InvalidEvent: type: required, must be a non-empty string"
    )
    assert deployed.cli("tail", "--stage", STAGE).stdout == before


def test_tail_skips_a_record_that_is_not_an_envelope_naming_its_missing_field(deployed):
    put = deployed.client("kinesis").put_record(
        StreamName=STREAM, Data=b'{"type": "raw"}', PartitionKey="k"
    )
    result = deployed.cli("tail", "--stage", STAGE)
    assert (
        f"skipped record {put['SequenceNumber']} of {put['ShardId']}: record.id: missing "
        "(not an event envelope)"
    ) in result.stderr


def test_second_deploy_updates_the_stage(deployed):
    deployed.deploy(STAGE, "retentionHours=48", "maxRecordBytes=2097152")
    summary = deployed.client("kinesis").describe_stream_summary(StreamName=STREAM)
    assert summary["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    function = deployed.client("lambda").get_function_configuration(FunctionName=f"{STACK}-publish")
    assert function["Environment"]["Variables"]["MAX_RECORD_BYTES"] == "2097152"


def test_destroy_removes_stream_lake_and_exports_and_the_stage_deploys_again(cloud):
    stage = "e2e-again"
    cloud.deploy(stage)
    s3 = cloud.client("s3")
    buckets_before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    (stack,) = cloud.client("cloudformation").describe_stacks(
        StackName=f"cncb-event-stream-{stage}"
    )["Stacks"]
    bucket = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "lakeBucketName")
    s3.put_object(Bucket=bucket, Key="kept/object.gz", Body=b"x")  # a lake with history
    cloud.destroy(stage)
    assert (
        f"{stage}-cncb-event-stream-s1" not in cloud.client("kinesis").list_streams()["StreamNames"]
    )
    assert bucket in buckets_before and bucket not in {
        b["Name"] for b in s3.list_buckets()["Buckets"]
    }
    assert (
        cloud.client("firehose")
        .list_delivery_streams()["DeliveryStreamNames"]
        .count(f"{stage}-cncb-event-stream-lake")
        == 0
    )
    names = {e["Name"] for e in cloud.client("cloudformation").list_exports()["Exports"]}
    assert not any(n.startswith(f"cncb-event-stream-{stage}-") for n in names)
    cloud.deploy(stage)
    assert f"{stage}-cncb-event-stream-s1" in cloud.client("kinesis").list_streams()["StreamNames"]
    cloud.destroy(stage)


def test_invalid_stage_fails_synth_with_one_line_from_the_app(cloud):
    result = cloud.cdk("synth", "--context", "stage=john_doe", check=False)
    assert result.returncode == 1
    app_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert app_lines == [
        "error: invalid stage 'john_doe': must match ^[A-Za-z0-9][A-Za-z0-9-]*$ "
        "(letters, digits and hyphens, starting with a letter or digit)"
    ]
    assert "Traceback" not in result.stderr


def test_synth_prints_the_template_and_no_warning(cloud):
    result = cloud.cdk("synth", "--context", "stage=john")
    assert "Name: john-cncb-event-stream-s1" in result.stdout
    for noise in ("telemetry", "notice", "feature flag", "deprecat", "warning"):
        assert noise not in result.stderr.lower(), result.stderr


def test_tail_follow_shows_new_events_and_stops_cleanly_on_ctrl_c(deployed):
    import signal
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "event_stream",
            "tail",
            "--stage",
            STAGE,
            "--from",
            "latest",
            "--follow",
        ],
        cwd=ROOT,
        env=deployed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal's foreground job: a test run started in the background by a
        # non-interactive shell inherits SIGINT ignored, and Python then never raises
        # KeyboardInterrupt (seen as this test hanging for 10 s after Ctrl-C).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(2)  # let it take its LATEST iterators before the event is written
        answer = deployed.cli_json("invoke", "--stage", STAGE, "--data", '{"type":"followed"}')
        line = follower.stdout.readline()
        assert json.loads(line)["id"] == answer["id"]
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            _, stderr = follower.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # say what it was doing, not only that it hung
            follower.kill()
            _, stderr = follower.communicate()
            pytest.fail(f"tail --follow still ran 10 s after Ctrl-C; its stderr: {stderr[-2000:]}")
    assert follower.returncode == 0
    assert "Traceback" not in stderr


def test_redeploy_after_a_code_change_runs_the_new_code(cloud, tmp_path):
    import shutil

    from tests.e2e.conftest import ROOT

    stage = "e2e-code"
    work = tmp_path / "app"
    work.mkdir()
    # The app as an installed copy lays it out: the Lambda files inside the package (the
    # checkout's editable install would otherwise map event_stream.lambda_src to its own).
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copy(ROOT / "app.py", work / "app.py")
    shutil.copy(ROOT / "cdk.json", work / "cdk.json")
    shutil.copytree(ROOT / "event_stream", work / "event_stream", ignore=skip)
    shutil.copytree(ROOT / "lambda_src", work / "event_stream" / "lambda_src", ignore=skip)
    (work / ".venv").symlink_to(ROOT / ".venv")
    cloud.deploy(stage, cwd=work)
    try:
        handler = work / "event_stream" / "lambda_src" / "handler.py"
        handler.write_text(
            handler.read_text().replace(
                'logger.info("record put"',
                'logger.info("changed code")\n    logger.info("record put"',
            )
        )
        cloud.deploy(stage, cwd=work)
        cloud.cli_json("invoke", "--stage", stage, "--data", '{"type":"t"}')
        messages = cloud.cli("logs", "--stage", stage).stdout
        assert "changed code" in messages
    finally:
        cloud.destroy(stage, cwd=work)


def test_boto3_invokes_the_deployed_publisher_and_the_event_is_on_the_stream(deployed):
    key = str(uuid.uuid4())
    answer = deployed.client("lambda").invoke(
        FunctionName=f"{STACK}-publish",
        Payload=json.dumps({"type": "thing-created", "partitionKey": key}),
    )
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    published = json.loads(answer["Payload"].read())
    tailed = [
        json.loads(line) for line in deployed.cli("tail", "--stage", STAGE).stdout.splitlines()
    ]
    assert [e["partitionKey"] for e in tailed if e["id"] == published["id"]] == [key]


def test_the_aws_cli_invokes_the_deployed_publisher(deployed, tmp_path):
    out = tmp_path / "answer.json"
    result = subprocess.run(
        [
            str(ROOT / ".awscli" / "bin" / "aws"),
            "lambda",
            "invoke",
            "--function-name",
            f"{STACK}-publish",
            "--payload",
            '{"type": "thing-created"}',
            str(out),
        ],
        env=deployed.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text())["SequenceNumber"]
