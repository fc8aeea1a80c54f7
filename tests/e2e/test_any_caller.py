"""The local AWS for every caller: a function created with a plain zip (no CDK) runs when
boto3 or the AWS CLI invokes it, synchronously or as an event, and when a mapping delivers
to it; and the local AWS, started from a shell holding a profile and real-looking keys, runs
every function sealed off from them."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from event_stream.tools.local import launcher
from tests.conftest import FIXTURES, ROOT
from tests.e2e.conftest import wait_for

FUNCTION = "plain-function"
AWS_CLI = ROOT / ".awscli" / "bin" / "aws"  # `make install` puts it there
# What a developer's shell may hold; none of it may reach a function run by the local AWS.
DEVELOPER_SHELL = {
    "AWS_PROFILE": "production-admin",
    "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01",
    "AWS_SECRET_ACCESS_KEY": "real/looking/secret/key/0123456789abcdefgh",
    "AWS_SESSION_TOKEN": "real-looking-session-token",
}


def zipped(folder: Path) -> bytes:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    return code.getvalue()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """A local AWS started by `local up` from a developer's shell: a profile, real-looking
    keys and a ~/.aws of its own, and no endpoint."""
    home = tmp_path_factory.mktemp("home")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[production-admin]\naws_access_key_id = AKIAFROMTHEFILE00001\n"
        "aws_secret_access_key = from/the/credentials/file\n"
    )
    shell = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **DEVELOPER_SHELL,
        "HOME": str(home),
    }
    folder = tmp_path_factory.mktemp("developer")
    port = launcher.free_port()
    up = subprocess.run(
        [sys.executable, "-m", "event_stream", "local", "up", "--port", str(port)],
        cwd=folder,
        env=shell,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert up.returncode == 0, up.stderr
    endpoint = launcher.endpoint_url(port)
    try:
        yield endpoint
    finally:
        subprocess.run(
            [sys.executable, "-m", "event_stream", "local", "down"],
            cwd=folder,
            env=shell,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def function(local):
    """A function created with CreateFunction and a zip, as boto3, SAM or Terraform do."""
    lambda_ = launcher.client(local, "lambda")
    role = launcher.client(local, "iam").create_role(
        RoleName="plain", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lambda_.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zipped(FIXTURES / "plain_function")},
        Timeout=10,
    )
    return lambda_


def invoke(lambda_, payload: dict, **options) -> tuple[dict, object]:
    answer = lambda_.invoke(FunctionName=FUNCTION, Payload=json.dumps(payload), **options)
    return answer, json.loads(answer["Payload"].read())


def test_boto3_invoke_runs_a_function_created_with_a_zip(function):
    answer, payload = invoke(function, {"hello": "world"})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert payload["event"] == {"hello": "world"}


def test_a_function_error_answers_unhandled_in_lambdas_error_shape(function):
    answer, payload = invoke(function, {"fail": "on purpose"})
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "asked to fail: on purpose"
    assert payload["stackTrace"] and "handler.py" in payload["stackTrace"][0]


def test_log_type_tail_gives_the_invocations_start_end_and_report_lines(function):
    answer, payload = invoke(function, {"n": 1}, LogType="Tail")
    lines = base64.b64decode(answer["LogResult"]).decode().splitlines()
    request_id = payload["requestId"]
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert "plain function got {'n': 1}" in lines
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 128 MB\tMax Memory Used: " in lines[-1]


def test_the_report_line_reaches_the_functions_log_group(function, local):
    _, payload = invoke(function, {"n": 2})
    logs = launcher.client(local, "logs")

    def reported():
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{FUNCTION}")["events"]
        return any(
            e["message"].startswith(f"REPORT RequestId: {payload['requestId']}") for e in events
        )

    wait_for(reported, timeout=10)


def test_dry_run_answers_204_and_runs_nothing(function):
    assert function.invoke(FunctionName=FUNCTION, InvocationType="DryRun")["StatusCode"] == 204


def test_an_event_invocation_runs_and_its_record_reaches_the_on_success_queue(function, local):
    sqs = launcher.client(local, "sqs")
    queue = sqs.create_queue(QueueName="plain-successes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    function.put_function_event_invoke_config(
        FunctionName=FUNCTION, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    try:
        answer = function.invoke(
            FunctionName=FUNCTION, InvocationType="Event", Payload=json.dumps({"async": 1})
        )
        assert answer["StatusCode"] == 202
        (message,) = wait_for(
            lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
            timeout=30,
        )
    finally:
        function.delete_function_event_invoke_config(FunctionName=FUNCTION)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"async": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["event"] == {"async": 1}


def test_the_aws_cli_invokes_a_function_created_with_a_zip(function, local, tmp_path):
    out = tmp_path / "answer.json"
    result = subprocess.run(
        [
            str(AWS_CLI),
            "--endpoint-url",
            local,
            "lambda",
            "invoke",
            "--function-name",
            FUNCTION,
            "--payload",
            '{"from": "the aws cli"}',
            str(out),
        ],
        env={**os.environ, **launcher.client_env(local)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text())["event"] == {"from": "the aws cli"}


def test_updated_code_runs_after_update_function_code(function, tmp_path):
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 'second'\n")
    function.update_function_code(FunctionName=FUNCTION, ZipFile=zipped(tmp_path))
    try:
        assert invoke(function, {})[1] == "second"
    finally:
        function.update_function_code(
            FunctionName=FUNCTION, ZipFile=zipped(FIXTURES / "plain_function")
        )


def test_a_function_sees_none_of_the_shells_aws_variables(function, local):
    environment = invoke(function, {})[1]["environment"]
    assert "AWS_PROFILE" not in environment
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert environment[key] != DEVELOPER_SHELL[key]
    assert environment["AWS_ENDPOINT_URL"] == local
    assert environment["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert environment["AWS_CONFIG_FILE"] == os.devnull


def test_a_functions_writes_land_on_the_local_aws(function, local):
    sqs = launcher.client(local, "sqs")
    queue = sqs.create_queue(QueueName="plain-writes")["QueueUrl"]
    invoke(function, {"queue": queue})
    (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    assert message["Body"] == "written"


def test_a_mapping_delivers_to_a_function_created_with_a_zip(function, local):
    kinesis = launcher.client(local, "kinesis")
    kinesis.create_stream(StreamName="plain-events", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="plain-events")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    function.create_event_source_mapping(
        FunctionName=FUNCTION, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )
    kinesis.put_record(StreamName="plain-events", Data=b'{"type": "t"}', PartitionKey="k")
    logs = launcher.client(local, "logs")

    def delivered():
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{FUNCTION}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return False
        return any("'eventSource': 'aws:kinesis'" in e["message"] for e in events)

    wait_for(delivered, timeout=30)


def test_a_discarded_batch_is_written_to_an_s3_on_failure_destination(function, local, tmp_path):
    (tmp_path / "handler.py").write_text(
        "def handler(event, context):\n    raise ValueError('no')\n"
    )
    role = function.get_function_configuration(FunctionName=FUNCTION)["Role"]
    function.create_function(
        FunctionName="always-fails",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zipped(tmp_path)},
    )
    s3, kinesis = launcher.client(local, "s3"), launcher.client(local, "kinesis")
    s3.create_bucket(Bucket="discarded")
    kinesis.create_stream(StreamName="doomed", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="doomed")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    uuid = function.create_event_source_mapping(
        FunctionName="always-fails",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::discarded"}},
    )["UUID"]
    sequence = kinesis.put_record(StreamName="doomed", Data=b'{"n": 1}', PartitionKey="k")[
        "SequenceNumber"
    ]
    (stored,) = wait_for(lambda: s3.list_objects_v2(Bucket="discarded").get("Contents"), timeout=30)
    assert stored["Key"].startswith(f"aws/lambda/{uuid}/shardId-000000000000/")
    record = json.loads(s3.get_object(Bucket="discarded", Key=stored["Key"])["Body"].read())
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequence
    (payload_record,) = record["payload"]["Records"]
    assert payload_record["kinesis"]["sequenceNumber"] == sequence
    assert base64.b64decode(payload_record["kinesis"]["data"]) == b'{"n": 1}'


def test_a_published_version_runs_its_own_code(function, tmp_path):
    role = function.get_function_configuration(FunctionName=FUNCTION)["Role"]
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 'first'\n")
    function.create_function(
        FunctionName="versioned",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zipped(tmp_path)},
    )
    version = function.publish_version(FunctionName="versioned")["Version"]
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 'second'\n")
    function.update_function_code(FunctionName="versioned", ZipFile=zipped(tmp_path))
    answer = function.invoke(FunctionName="versioned", Qualifier=version)
    assert answer["ExecutedVersion"] == version
    assert json.loads(answer["Payload"].read()) == "first"
    assert json.loads(function.invoke(FunctionName="versioned")["Payload"].read()) == "second"
