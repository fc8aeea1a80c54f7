"""What the contracts make for people and tools: the AsyncAPI 3.0 document of a stage and
the TypedDicts handlers annotate their events with."""

from __future__ import annotations

import json

import jsonschema
import pytest

from event_stream.contracts.asyncapi import document
from event_stream.contracts.files import load
from event_stream.contracts.python_types import module
from tests.conftest import FIXTURES

CONTRACTS = load(FIXTURES / "contracts")


@pytest.fixture(scope="module")
def asyncapi():
    return document(CONTRACTS, stage="john")


def test_the_stream_is_the_channel(asyncapi):
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["channels"]["events"]["address"] == "john-cncb-event-stream-s1"


def test_each_type_and_version_is_a_message(asyncapi):
    assert list(asyncapi["components"]["messages"]) == [
        "thing-created.v1",
        "thing-created.v2",
        "thing-deleted.v1",
    ]
    assert {o["action"] for o in asyncapi["operations"].values()} == {"send", "receive"}


def test_each_example_is_valid_against_its_message_payload(asyncapi):
    for key, message in asyncapi["components"]["messages"].items():
        (example,) = message["examples"]
        jsonschema.Draft202012Validator(message["payload"]["schema"]).validate(example["payload"])
        assert example["payload"]["tags"]["contract"] == key.replace(".", "/")


def test_the_contracts_references_are_inlined(asyncapi):
    payload = json.dumps(asyncapi["components"]["messages"]["thing-created.v2"]["payload"])
    assert "$ref" not in payload and '"sku"' in payload


def test_a_draft_07_contract_says_its_schema_format(asyncapi):
    payload = asyncapi["components"]["messages"]["thing-deleted.v1"]["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=draft-07"


@pytest.fixture(scope="module")
def types():
    namespace: dict = {}
    # dont_inherit: not under this test module's `from __future__ import annotations`.
    exec(compile(module(CONTRACTS), "event_types.py", "exec", dont_inherit=True), namespace)
    return namespace


def test_each_type_and_version_is_a_typed_dict_with_the_envelope(types):
    created = types["ThingCreatedV2"]
    assert created.__required_keys__ == {"id", "type", "timestamp", "partitionKey", "tags", "name"}
    assert created.__optional_keys__ == {"size", "parts"}


def test_nested_objects_are_typed_dicts_of_their_own(types):
    part = types["ThingCreatedV2PartsItem"]
    assert part.__required_keys__ == {"sku"} and part.__optional_keys__ == {"count"}


def test_enums_are_literals(types):
    reason = repr(types["ThingDeletedV1"].__annotations__["reason"])
    assert "Literal['expired', 'requested']" in reason
