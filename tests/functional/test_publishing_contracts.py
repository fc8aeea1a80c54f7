"""The publishers with event contracts in their asset (the validators generated at synth),
under in-process moto: a violation is refused before anything is written, a valid event is
tagged with the contract it was checked against."""

from __future__ import annotations

import importlib
import sys

import pytest

from event_stream.contracts.compiler import PACKAGE, write_package
from event_stream.contracts.files import load
from event_stream.lambda_src.event_envelope import InvalidEvent
from tests.conftest import FIXTURES
from tests.functional.streams import records_on


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """The generated validators where a Lambda asset has them: in the task root, on the path."""
    contracts = load(FIXTURES / "contracts")
    write_package(contracts, contracts, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
        del sys.modules[name]


@pytest.fixture
def publisher(shipped, handler):
    """The handler's cold start with the contracts shipped."""
    return importlib.reload(handler)


def test_a_valid_event_is_tagged_with_the_contract_it_was_checked_against(publisher, kinesis):
    publisher.publish({"type": "thing-created", "name": "lamp"}, None)
    (envelope,) = records_on(kinesis)
    assert envelope["tags"] == {"region": "us-east-1", "contract": "thing-created/v2"}


def test_a_violation_names_type_version_and_path_and_writes_nothing(publisher, kinesis):
    with pytest.raises(InvalidEvent) as raised:
        publisher.publish({"type": "thing-created", "name": 42}, None)
    assert str(raised.value) == "event: thing-created v2: /name: must be string"
    assert records_on(kinesis) == []


def test_one_violation_in_a_batch_rejects_the_call(publisher, kinesis):
    events = [{"type": "thing-created", "name": f"n{i}"} for i in range(5)]
    events[3] = {"type": "thing-created", "name": "x", "color": "red"}
    with pytest.raises(InvalidEvent) as raised:
        publisher.publish_batch(events, None)
    assert str(raised.value) == (
        "events[3]: thing-created v2: /: must not contain {'color'} properties"
    )
    assert records_on(kinesis) == []


def test_a_type_without_a_contract_is_published_untagged(publisher, kinesis):
    publisher.publish({"type": "thing-moved"}, None)
    (envelope,) = records_on(kinesis)
    assert "contract" not in envelope["tags"]


def test_strict_contracts_refuse_a_type_without_one(shipped, handler, kinesis, monkeypatch):
    monkeypatch.setenv("CONTRACTS_STRICT", "true")
    strict = importlib.reload(handler)
    with pytest.raises(InvalidEvent, match="event: thing-moved: no contract for this type"):
        strict.publish({"type": "thing-moved"}, None)
    assert records_on(kinesis) == []


def test_without_contracts_in_the_asset_nothing_is_checked(handler, kinesis):
    handler.publish({"type": "thing-created", "name": 42}, None)
    (envelope,) = records_on(kinesis)
    assert envelope["name"] == 42 and "contract" not in envelope["tags"]
