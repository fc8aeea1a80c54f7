"""The local AWS's fixes that need moto's HTTP server (moto's own threaded server,
with the fixes patched in): one test per fix, plus a canary per moto behaviour."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import urllib.request
import zipfile

import boto3
import pytest
from moto.server import ThreadedMotoServer

from event_stream.tools.local import moto_fixes
from event_stream.tools.local.moto_fixes import awslambda as awslambda_fixes
from event_stream.tools.local.moto_fixes import mappings
from event_stream.tools.readers.deployed import fetch_function


def _server(monkeypatch, fixed: bool):
    if fixed:
        for owner, attribute, replacement in moto_fixes.FIXES:
            monkeypatch.setattr(owner, attribute, replacement)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    return server, f"http://localhost:{port}"


def _stop(server, url: str) -> None:
    # The server shares this process's moto backends: empty them for the next test.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    server.stop()


@pytest.fixture
def endpoint(aws_credentials, monkeypatch):
    server, url = _server(monkeypatch, fixed=True)
    yield url
    _stop(server, url)


@pytest.fixture
def unfixed_endpoint(aws_credentials, monkeypatch):
    server, url = _server(monkeypatch, fixed=False)
    yield url
    _stop(server, url)


def zipped(source: str) -> bytes:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", source)
    return code.getvalue()


def created_with_a_zip(endpoint: str, code: bytes) -> object:
    iam = boto3.client("iam", endpoint_url=endpoint)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", endpoint_url=endpoint)
    client.create_function(
        FunctionName="plain",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code},
    )
    return client


def test_a_zip_functions_code_is_served_at_its_location(endpoint):
    code = zipped("def handler(event, context):\n    return event\n")
    client = created_with_a_zip(endpoint, code)
    location = client.get_function(FunctionName="plain")["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=5) as answer:
        assert answer.read() == code


def test_the_served_code_matches_the_functions_code_sha256(endpoint):
    client = created_with_a_zip(endpoint, zipped("def handler(e, c):\n    return 1\n"))
    deployed = fetch_function(client, "plain")
    sha = client.get_function_configuration(FunctionName="plain")["CodeSha256"]
    assert base64.b64encode(hashlib.sha256(deployed.code_zip).digest()).decode() == sha


def test_updated_code_is_served_after_update_function_code(endpoint):
    client = created_with_a_zip(endpoint, zipped("def handler(e, c):\n    return 1\n"))
    newer = zipped("def handler(e, c):\n    return 2\n")
    client.update_function_code(FunctionName="plain", ZipFile=newer)
    assert fetch_function(client, "plain").code_zip == newer


def test_canary_moto_still_answers_a_location_nobody_serves_without_the_fix(unfixed_endpoint):
    client = created_with_a_zip(unfixed_endpoint, zipped("def handler(e, c):\n    pass\n"))
    location = client.get_function(FunctionName="plain")["Code"]["Location"]
    assert location.startswith("https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/")


def stream_and_function(endpoint: str) -> tuple[object, str]:
    kinesis = boto3.client("kinesis", endpoint_url=endpoint)
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    client = created_with_a_zip(endpoint, zipped("def handler(e, c):\n    pass\n"))
    return client, arn


def test_a_new_kinesis_mapping_answers_202_creating_with_every_default(endpoint):
    client, arn = stream_and_function(endpoint)
    created = client.create_event_source_mapping(
        FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (created["State"], created["StateTransitionReason"]) == ("Creating", "User action")
    assert {key: created[key] for key in mappings.KINESIS_DEFAULTS} == mappings.KINESIS_DEFAULTS
    assert created["LastProcessingResult"] == "No records processed"


def test_a_second_mapping_of_the_function_on_the_stream_is_refused_409(endpoint):
    client, arn = stream_and_function(endpoint)
    first = client.create_event_source_mapping(
        FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
    )
    with pytest.raises(client.exceptions.ResourceConflictException) as refused:
        client.create_event_source_mapping(
            FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
        )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert refused.value.response["Error"]["Message"] == (
        f'The event source arn (" {arn} ") and function (" plain ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {first['UUID']}"
    )


def test_a_mapping_on_a_missing_stream_is_refused_stream_not_found(endpoint):
    client, arn = stream_and_function(endpoint)
    missing = arn.replace("stream/orders", "stream/nowhere")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as refused:
        client.create_event_source_mapping(
            FunctionName="plain", EventSourceArn=missing, StartingPosition="LATEST"
        )
    assert refused.value.response["Error"]["Message"] == f"Stream not found: {missing}"


def test_disabling_answers_disabling_until_the_poller_settles_it(endpoint):
    client, arn = stream_and_function(endpoint)
    uuid = client.create_event_source_mapping(
        FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
    )["UUID"]
    mappings.STATES.settle(uuid)
    assert client.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert client.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    mappings.STATES.settle(uuid)
    assert client.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"


def test_a_deleted_mapping_answers_deleting(endpoint):
    client, arn = stream_and_function(endpoint)
    uuid = client.create_event_source_mapping(
        FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
    )["UUID"]
    deleted = client.delete_event_source_mapping(UUID=uuid)
    assert (deleted["State"], deleted["ResponseMetadata"]["HTTPStatusCode"]) == ("Deleting", 202)


def test_canary_moto_still_accepts_a_duplicate_mapping_without_the_fix(unfixed_endpoint):
    client, arn = stream_and_function(unfixed_endpoint)
    for _ in range(2):
        created = client.create_event_source_mapping(
            FunctionName="plain", EventSourceArn=arn, StartingPosition="LATEST"
        )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (created["State"], created["StateTransitionReason"]) == ("Enabled", "User initiated")


def test_sequence_numbers_are_56_digits_increasing_and_distinct_across_shards(endpoint):
    kinesis = boto3.client("kinesis", endpoint_url=endpoint)
    kinesis.create_stream(StreamName="wide", ShardCount=2)
    answers = kinesis.put_records(
        StreamName="wide",
        Records=[{"Data": b"x", "PartitionKey": str(n)} for n in range(40)],
    )["Records"]
    by_shard: dict[str, list[str]] = {}
    for answer in answers:
        by_shard.setdefault(answer["ShardId"], []).append(answer["SequenceNumber"])
    assert len(by_shard) == 2
    for numbers in by_shard.values():
        assert all(len(n) == 56 and n.isdigit() for n in numbers)
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    first, second = by_shard.values()
    assert not set(first) & set(second)


def test_a_reader_resumes_after_a_56_digit_sequence_number(endpoint):
    kinesis = boto3.client("kinesis", endpoint_url=endpoint)
    kinesis.create_stream(StreamName="resume", ShardCount=1)
    numbers = [
        kinesis.put_record(StreamName="resume", Data=str(n).encode(), PartitionKey="k")[
            "SequenceNumber"
        ]
        for n in range(3)
    ]
    iterator = kinesis.get_shard_iterator(
        StreamName="resume",
        ShardId="shardId-000000000000",
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=numbers[0],
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["SequenceNumber"] for r in records] == numbers[1:]


def test_canary_moto_still_numbers_records_from_1_without_the_fix(unfixed_endpoint):
    kinesis = boto3.client("kinesis", endpoint_url=unfixed_endpoint)
    kinesis.create_stream(StreamName="short", ShardCount=1)
    answer = kinesis.put_record(StreamName="short", Data=b"x", PartitionKey="k")
    assert answer["SequenceNumber"] == "1"


def test_a_refused_lambda_call_says_type_user_as_aws_does(endpoint):
    client, arn = stream_and_function(endpoint)
    missing = arn.replace("stream/orders", "stream/nowhere")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as refused:
        client.create_event_source_mapping(
            FunctionName="plain", EventSourceArn=missing, StartingPosition="LATEST"
        )
    assert refused.value.response["Type"] == "User"
    assert refused.value.response["message"] == f"Stream not found: {missing}"


def test_canary_moto_still_answers_lambda_errors_without_their_type(unfixed_endpoint):
    client = boto3.client("lambda", endpoint_url=unfixed_endpoint)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as refused:
        client.get_function(FunctionName="nowhere")
    assert "Type" not in refused.value.response


def test_invoke_is_answered_by_the_local_aws_invoke_api(endpoint, monkeypatch):
    seen = []

    class Answer:
        status, headers, body = 200, {"X-Amz-Executed-Version": "$LATEST"}, b'"ran here"'

    def answer(function_arn, qualifier, payload, headers):
        seen.append((function_arn, payload))
        return Answer()

    monkeypatch.setattr(awslambda_fixes, "_invoke_api", [answer])
    client = created_with_a_zip(endpoint, zipped("def handler(e, c):\n    return 1\n"))
    answered = client.invoke(FunctionName="plain", Payload=b'{"a": 1}')
    assert json.loads(answered["Payload"].read()) == "ran here"
    ((function_arn, payload),) = seen
    assert function_arn.endswith(":function:plain") and json.loads(payload) == {"a": 1}


def test_canary_moto_still_answers_invoke_with_a_docker_error_without_the_fix(unfixed_endpoint):
    client = created_with_a_zip(unfixed_endpoint, zipped("def handler(e, c):\n    return 1\n"))
    answered = client.invoke(FunctionName="plain", Payload=b"{}")
    assert answered.get("FunctionError") == "Handled"
    assert b"docker" in answered["Payload"].read().lower()
