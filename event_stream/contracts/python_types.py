"""Typed Python for handlers, from the contracts: one `TypedDict` per type and version (the
envelope's fields and the body's), nested objects as their own `TypedDict`s; stdlib only.
A handler annotates its event (`def on_event(event: ThingCreatedV2) -> None`) and a type
checker knows its fields."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

from event_stream.contracts.files import Contract, resolve

# No `from __future__ import annotations` in the module: Python 3.11's TypedDict reads
# NotRequired only from evaluated annotations (nested classes come first, so they evaluate).
HEADER = '''"""Event types generated from the app's contracts by `event-stream contracts types
--python`: do not edit; generate again when a contract changes."""

from typing import Any, Literal, NotRequired, TypedDict

'''
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def module(contracts: Mapping[str, list[Contract]]) -> str:
    """The source of a module with every type and version's `TypedDict`."""
    classes: list[str] = []
    for versions in contracts.values():
        for contract in versions:
            name = class_name(contract.type) + f"V{contract.version}"
            envelope = {
                "id": "str",
                "type": f'Literal["{contract.type}"]',
                "timestamp": "int",
                "partitionKey": "str",
                "tags": "dict[str, str]",
            }
            _object(name, contract.schema, contract.schema, classes, envelope)
    return HEADER + "\n" + "\n\n\n".join(classes) + "\n"


def class_name(text: str) -> str:
    """`thing-created` -> `ThingCreated`."""
    words = re.split(r"[^A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    return name if name[:1].isalpha() else f"T{name}"


def _object(
    name: str,
    schema: dict[str, Any],
    root: dict[str, Any],
    classes: list[str],
    leading: dict[str, str] | None = None,
) -> str:
    required = set(schema.get("required", []))
    lines = [f"class {name}(TypedDict):"]
    doc = schema.get("description") or schema.get("title")
    if doc:
        lines.append(f'    """{doc}"""')
        lines.append("")
    for field, annotation in (leading or {}).items():
        lines.append(f"    {field}: {annotation}")
    fields = []
    for field, sub in schema.get("properties", {}).items():
        if not field.isidentifier() or keyword.iskeyword(field):
            continue  # not a TypedDict field in class syntax; read it with event["..."]
        annotation = _annotation(sub, root, classes, name + class_name(field))
        if field not in required:
            annotation = f"NotRequired[{annotation}]"
        fields.append(f"    {field}: {annotation}")
    lines += fields
    if len(lines) == 1:
        lines.append("    pass")
    classes.append("\n".join(lines))
    return name


def _annotation(schema: Any, root: dict[str, Any], classes: list[str], name: str) -> str:
    if not isinstance(schema, dict):
        return "Any"
    if isinstance(schema.get("$ref"), str):
        return _annotation(resolve(root, schema["$ref"]), root, classes, name)
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    kinds = schema.get("type", "object" if "properties" in schema else None)
    if kinds is None:
        return "Any"
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    parts = []
    for kind in kinds:
        if kind == "object":
            if "properties" in schema:
                parts.append(_object(name, schema, root, classes))
            else:
                parts.append("dict[str, Any]")
        elif kind == "array":
            parts.append(
                f"list[{_annotation(schema.get('items', {}), root, classes, name + 'Item')}]"
            )
        else:
            parts.append(SCALARS.get(kind, "Any"))
    return " | ".join(dict.fromkeys(parts))
