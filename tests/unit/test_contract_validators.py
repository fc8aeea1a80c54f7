"""Contracts compiled into plain-Python validators (`compiler.py`) and run by the Lambda side
(`event_contracts.py`): stdlib only, the body checked without the envelope's fields, each
violation named with type, version and JSON path."""

from __future__ import annotations

import ast
import sys

import pytest

from event_stream.contracts.compiler import PACKAGE, write_package
from event_stream.contracts.files import load
from event_stream.lambda_src.event_contracts import ContractViolation
from event_stream.tools.readers.contract_package import from_folder
from tests.conftest import FIXTURES

CONTRACTS = load(FIXTURES / "contracts")


def envelope(event_type="thing-created", **body):
    return {"id": "1", "type": event_type, "timestamp": 1, "partitionKey": "k", "tags": {}, **body}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The folder of the generated package, as a Lambda asset holds it."""
    out = tmp_path_factory.mktemp("asset")
    write_package(CONTRACTS, ["thing-created", "thing-deleted"], out)
    return out


@pytest.fixture
def contracts(shipped):
    return from_folder(shipped, strict=False)


def test_the_generated_modules_import_only_the_standard_library(shipped):
    for module in (shipped / PACKAGE).glob("*.py"):
        tree = ast.parse(module.read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert imported <= set(sys.stdlib_module_names), (module.name, imported)


def test_every_version_of_each_type_is_shipped(contracts):
    assert contracts.modules == {
        "thing-created": {1: "thing_created_v1", 2: "thing_created_v2"},
        "thing-deleted": {1: "thing_deleted_v1"},
    }


def test_a_valid_body_passes_the_newest_version(contracts):
    assert contracts.check(envelope(name="x", parts=[{"sku": "a"}])) == "thing-created/v2"


def test_the_envelope_fields_are_left_out_of_a_closed_body(contracts):
    assert contracts.check(envelope("thing-deleted", reason="expired")) == "thing-deleted/v1"


@pytest.mark.parametrize(
    "body,words",
    [
        ({"name": 5}, "thing-created v2: /name: must be string"),
        ({}, "thing-created v2: /: must contain ['name'] properties"),
        ({"name": "x", "parts": [{"sku": 1}]}, "thing-created v2: /parts/0/sku: must be string"),
        (
            {"name": "x", "color": "red"},
            "thing-created v2: /: must not contain {'color'} properties",
        ),
        ({"name": "x", "size": -1}, "thing-created v2: /size: must be bigger than or equal to 0"),
    ],
)
def test_a_violation_names_type_version_and_path(contracts, body, words):
    with pytest.raises(ContractViolation) as raised:
        contracts.check(envelope(**body))
    assert str(raised.value) == words


def test_a_tagged_event_is_checked_against_its_version(contracts):
    tagged = envelope(name="x", parts="not checked by v1")
    tagged["tags"]["contract"] = "thing-created/v1"
    with pytest.raises(ContractViolation, match="thing-created v1: /: must not contain"):
        contracts.check_tagged(tagged)


def test_a_tag_naming_a_version_not_shipped_is_a_violation(contracts):
    tagged = envelope(name="x")
    tagged["tags"]["contract"] = "thing-created/v9"
    with pytest.raises(ContractViolation, match="no such version of the contract"):
        contracts.check_tagged(tagged)


def test_a_type_without_a_contract_passes_unless_strict(shipped):
    assert from_folder(shipped, strict=False).check(envelope("thing-moved")) is None
    with pytest.raises(ContractViolation, match="thing-moved: no contract for this type"):
        from_folder(shipped, strict=True).check(envelope("thing-moved"))
