"""A contracts folder as `files.load` reads it: the layout, and each bad file refused in one
line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from event_stream.contracts.files import ContractError, load
from tests.conftest import FIXTURES

CONTRACTS = FIXTURES / "contracts"
OBJECT = {"type": "object", "properties": {"name": {"type": "string"}}}


def folder(tmp_path: Path, files: dict[str, object]) -> Path:
    """A contracts folder holding `files` (path -> JSON value, or text as it is)."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return tmp_path


def refusal(tmp_path: Path, files: dict[str, object]) -> str:
    with pytest.raises(ContractError) as raised:
        load(folder(tmp_path, files))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_each_type_has_its_versions_in_order():
    contracts = load(CONTRACTS)
    assert {t: [c.version for c in cs] for t, cs in contracts.items()} == {
        "thing-created": [1, 2],
        "thing-deleted": [1],
    }
    assert contracts["thing-created"][1].name == "thing-created/v2"


def test_versions_are_numbered_not_sorted_as_text(tmp_path):
    files = {f"t/v{n}.json": OBJECT for n in range(1, 12)}
    assert [c.version for c in load(folder(tmp_path, files))["t"]] == list(range(1, 12))


def test_a_file_that_is_not_json_names_its_line(tmp_path):
    message = refusal(tmp_path, {"t/v1.json": '{\n  "type": "object",\n  oops\n}'})
    assert message.startswith(f"{tmp_path / 't/v1.json'}:3: not JSON")


def test_a_schema_that_is_not_valid_names_where(tmp_path):
    message = refusal(tmp_path, {"t/v1.json": {"type": "object", "properties": {"n": {"type": 5}}}})
    assert "t/v1.json: not a valid schema at /properties/n/type" in message


def test_a_ref_that_does_not_resolve(tmp_path):
    schema = {"type": "object", "properties": {"p": {"$ref": "#/$defs/missing"}}}
    assert "$ref '#/$defs/missing' does not resolve" in refusal(tmp_path, {"t/v1.json": schema})


def test_a_ref_to_another_file_is_not_followed(tmp_path):
    schema = {"type": "object", "properties": {"p": {"$ref": "other.json"}}}
    assert "only references inside the file" in refusal(tmp_path, {"t/v1.json": schema})


@pytest.mark.parametrize("name", ["v0.json", "v1.yaml", "version1.json", "v01.json"])
def test_a_file_not_named_v_n_json(tmp_path, name):
    assert "is named v<N>.json" in refusal(tmp_path, {f"t/{name}": OBJECT})


def test_a_gap_in_the_versions(tmp_path):
    message = refusal(tmp_path, {"t/v1.json": OBJECT, "t/v3.json": OBJECT})
    assert (
        message
        == f"{tmp_path / 't/v2.json'}: missing: versions run 1, 2, ... without a gap (v3.json exists)"
    )


def test_a_draft_that_is_not_2020_12_or_07(tmp_path):
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", **OBJECT}
    assert "contracts are JSON Schema draft 2020-12" in refusal(tmp_path, {"t/v1.json": schema})


def test_a_keyword_the_compiler_cannot_compile(tmp_path):
    schema = {"type": "array", "prefixItems": [{"type": "string"}]}
    assert "keyword 'prefixItems' is not supported" in refusal(tmp_path, {"t/v1.json": schema})


def test_an_envelope_field_described(tmp_path):
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    assert "describes the envelope field 'id'" in refusal(tmp_path, {"t/v1.json": schema})


def test_a_missing_folder(tmp_path):
    with pytest.raises(ContractError, match="the contracts folder does not exist"):
        load(tmp_path / "nowhere")
