"""Shared fixtures: JSON event fixtures, quiet jsii, AWS test credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# The checkout the tests run from, and its pinned CDK CLI (`npm ci`).
ROOT = Path(__file__).resolve().parent.parent

# Before anything imports aws_cdk: silence jsii's Node end-of-life banner.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session", autouse=True)
def own_local_aws_record(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The local AWSes the tests start are recorded apart from the developer's own
    (`registry.py` keeps the record under `XDG_STATE_HOME`), so a test run neither sees nor
    crowds the local AWS the developer is using; every CLI the tests run inherits it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        yield


def load_fixture(name: str) -> Any:
    """A JSON file from tests/fixtures/."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, and no endpoint: nothing can reach real AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
