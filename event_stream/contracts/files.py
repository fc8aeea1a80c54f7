"""A contracts folder: `<folder>/<type>/v<N>.json`, one JSON Schema per event type and version.

Each file describes an event's body: the envelope's fields (`id`, `type`, `timestamp`,
`partitionKey`, `tags`) are every event's base contract, checked by `event_envelope.py`, and
are taken out before the body is validated. Versions of a type run 1, 2, ... without a gap.
A bad file is refused with one line naming it and what is wrong: not JSON (with its line),
not an object, not a valid schema of its draft (2020-12, the default, or draft-07), a
`$ref` that does not resolve (only references inside the file, `#/...`, are followed), a
keyword the validator compiler cannot compile, an envelope field described.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from event_stream.checks import ConfigError
from event_stream.lambda_src.event_envelope import RESERVED_FIELDS

VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.json$")
TYPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DRAFT_07 = "http://json-schema.org/draft-07/schema"
# Keywords of draft 2020-12 the validator compiler (fastjsonschema, drafts 4 to 7) cannot
# compile: refused rather than silently ignored.
UNSUPPORTED_KEYWORDS = (
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentSchemas",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
)


class ContractError(ConfigError):
    """A contracts folder or file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Contract:
    """One version of one event type's contract."""

    type: str
    version: int
    path: Path
    schema: dict[str, Any]

    @property
    def name(self) -> str:
        """How tags and messages name it: `thing-created/v2`."""
        return f"{self.type}/v{self.version}"


def load(folder: Path) -> dict[str, list[Contract]]:
    """Every type's contracts in `folder`, versions in order; ContractError for the first
    problem found (files are read in name order, so the same folder always names the same
    one)."""
    if not folder.is_dir():
        raise ContractError(f"{folder}: the contracts folder does not exist")
    contracts: dict[str, list[Contract]] = {}
    for type_dir in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if not type_dir.is_dir():
            raise ContractError(
                f"{type_dir}: not a folder (contracts are <folder>/<type>/v<N>.json)"
            )
        if not TYPE_NAME.match(type_dir.name):
            raise ContractError(
                f"{type_dir}: an event type name has letters, digits, '.', '_' and '-'"
            )
        contracts[type_dir.name] = _versions(type_dir)
    return contracts


def _versions(type_dir: Path) -> list[Contract]:
    found: dict[int, Path] = {}
    for path in sorted(p for p in type_dir.iterdir() if not p.name.startswith(".")):
        match = VERSION_FILE.match(path.name)
        if not match or not path.is_file():
            raise ContractError(f"{path}: a contract file is named v<N>.json (N = 1, 2, ...)")
        found[int(match[1])] = path
    if not found:
        raise ContractError(f"{type_dir}: no contract (v1.json) in this type's folder")
    for version in range(1, max(found) + 1):
        if version not in found:
            raise ContractError(
                f"{type_dir / f'v{version}.json'}: missing: versions run 1, 2, ... without "
                f"a gap (v{max(found)}.json exists)"
            )
    return [
        Contract(type_dir.name, version, path, read_schema(path))
        for version, path in sorted(found.items())
    ]


def read_schema(path: Path) -> dict[str, Any]:
    """One contract file, parsed and checked."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ContractError(f"{path}:{error.lineno}: not JSON: {error.msg}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ContractError(f"{path}: cannot be read: {error}") from None
    if not isinstance(schema, dict):
        raise ContractError(f"{path}: a contract is a JSON Schema object")
    _check_draft(path, schema)
    _check_refs(path, schema, schema)
    for keyword in UNSUPPORTED_KEYWORDS:
        if _uses(schema, keyword):
            raise ContractError(
                f"{path}: keyword {keyword!r} is not supported (the validators are compiled "
                "with JSON Schema draft-07's keywords)"
            )
    described = sorted(set(schema.get("properties", {})) & set(RESERVED_FIELDS))
    if described:
        raise ContractError(
            f"{path}: describes the envelope field {described[0]!r}: a contract describes the "
            "event's body; the envelope's fields are checked for every event"
        )
    return schema


def _check_draft(path: Path, schema: dict[str, Any]) -> None:
    """Valid against its draft's metaschema (2020-12 when `$schema` is absent)."""
    try:
        import jsonschema
    except ImportError:
        raise ContractError(
            "contracts need the contracts extra: pip install 'cncb-event-stream[contracts]'"
        ) from None
    declared = str(schema.get("$schema", DRAFT_2020_12)).rstrip("#")
    validators = {
        DRAFT_2020_12: jsonschema.Draft202012Validator,
        DRAFT_07: jsonschema.Draft7Validator,
    }
    validator = validators.get(declared)
    if validator is None:
        raise ContractError(
            f"{path}: $schema {declared!r}: contracts are JSON Schema draft 2020-12 "
            f"({DRAFT_2020_12}) or draft-07 ({DRAFT_07})"
        )
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        raise ContractError(f"{path}: not a valid schema at {where}: {error.message}") from None


def _check_refs(path: Path, root: dict[str, Any], node: Any) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and resolve(root, ref) is None:
            raise ContractError(
                f"{path}: $ref {ref!r} does not resolve (only references inside the file, "
                "#/..., are followed)"
            )
        for value in node.values():
            _check_refs(path, root, value)
    elif isinstance(node, list):
        for value in node:
            _check_refs(path, root, value)


def resolve(root: dict[str, Any], ref: str) -> Any:
    """The subschema a local `$ref` (`#`, `#/$defs/x`) points at, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _uses(node: Any, keyword: str) -> bool:
    if isinstance(node, dict):
        return keyword in node or any(_uses(value, keyword) for value in node.values())
    if isinstance(node, list):
        return any(_uses(value, keyword) for value in node)
    return False
