"""In-process moto fixtures for the functional tier."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from event_stream.lambda_src.publisher import kinesis_client
from tests.functional.streams import STREAM

FUNCTION_TIMEOUT = 10


@pytest.fixture
def kinesis(aws_credentials: None) -> Iterator[Any]:
    """A moto Kinesis client with one 1-shard stream, configured as the publishers' is
    (bounded calls, no retries of its own: the Publisher makes every attempt)."""
    with mock_aws():
        client = kinesis_client(FUNCTION_TIMEOUT)
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


@pytest.fixture
def handler(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler module, imported fresh (as a cold start) inside moto."""
    monkeypatch.setenv("STREAM_NAME", STREAM)
    from event_stream.lambda_src import handler as module

    return importlib.reload(module)
