"""The local AWS's Lambda fixes that need moto's HTTP server (moto's own threaded server,
with the fixes patched in): one test per fix, plus a canary per moto behaviour."""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.request
import zipfile

import boto3
import pytest
from moto.server import ThreadedMotoServer

from event_stream.tools.local import moto_fixes
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
