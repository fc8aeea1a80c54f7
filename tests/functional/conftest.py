"""In-process moto fixtures for the functional tier."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.functional.streams import STREAM


@pytest.fixture
def kinesis(aws_credentials: None) -> Iterator[Any]:
    """A moto Kinesis client with one 1-shard stream."""
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


@pytest.fixture
def handler(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler module, imported fresh (as a cold start) inside moto."""
    monkeypatch.setenv("STREAM_NAME", STREAM)
    import handler as module

    return importlib.reload(module)
