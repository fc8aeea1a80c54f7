"""Whether a type's contract versions can be read by each other: Confluent's compatibility
modes, with their meaning for JSON Schema (Confluent Schema Registry, "Schema Evolution and
Compatibility" and its JSON Schema rules).

BACKWARD: a consumer of the new version reads events of the previous one (the new schema
accepts everything the previous accepted). FORWARD: a consumer of the previous version reads
events of the new one. FULL: both. The `_TRANSITIVE` forms compare against every earlier
version, not only the previous. NONE: no check. BACKWARD is the default, as Confluent's.

"Reads" is decided rule by rule: a reader schema accepts every event of a writer schema when,
at every path:
- the reader requires no field the writer does not require;
- the reader allows every JSON type the writer allows (`integer` is within `number`), every
  `enum` value, and bounds (`minimum`, `maximum`, `minLength`, `maxLength`, `minItems`,
  `maxItems`) at least as wide; a `pattern` or `format` is the same or absent from the reader;
- content models: a closed reader (`additionalProperties: false`) declares every field the
  writer declares, and the writer is closed too; an open reader that declares a field the
  writer does not declare, while the writer is open, constrains data the writer allowed (its
  events may hold that field with any value) unless the reader's field accepts anything;
- properties both declare, array `items`, and an `additionalProperties` schema are compared the
  same way, recursively; local `$ref`s are followed;
- `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `const`, `dependentRequired` and
  `patternProperties` must be equal in both (a change there is not proven compatible, so it
  is reported).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from event_stream.contracts.files import Contract, resolve

MODES = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)
DEFAULT_MODE = "BACKWARD"
BOUNDS = {  # keyword -> True when a larger value is narrower
    "minimum": True,
    "exclusiveMinimum": True,
    "minLength": True,
    "minItems": True,
    "minProperties": True,
    "maximum": False,
    "exclusiveMaximum": False,
    "maxLength": False,
    "maxItems": False,
    "maxProperties": False,
}
COMPARED_EQUAL = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "const",
    "dependentRequired",
    "patternProperties",
    "pattern",
    "format",
    "multipleOf",
    "uniqueItems",
)


@dataclass(frozen=True)
class Break:
    """One way the reader may refuse an event of the writer, said as the change from the
    earlier version to the later one (`reader_is_new`: the check is BACKWARD's)."""

    new_reader: str  # the change, when the new version is the reader
    old_reader: str  # the same difference, when the old version is the reader

    def said(self, reader_is_new: bool) -> str:
        return self.new_reader if reader_is_new else self.old_reader


def check(contracts: Mapping[str, list[Contract]], mode: str = DEFAULT_MODE) -> list[str]:
    """One line per breaking change among each type's versions under `mode`:
    `thing-created v2 -> v3 breaks BACKWARD: adds required field "color"`."""
    if mode not in MODES:
        raise ValueError(f"invalid compatibility mode {mode!r}: one of {', '.join(MODES)}")
    lines = []
    for versions in contracts.values():
        for index in range(1, len(versions)):
            new = versions[index]
            earlier = versions[:index] if mode.endswith("_TRANSITIVE") else [versions[index - 1]]
            for old in earlier:
                lines += [
                    f"{new.type} v{old.version} -> v{new.version} breaks {mode}: {problem}"
                    for problem in compare(old.schema, new.schema, mode)
                ]
    return lines


def compare(old: dict[str, Any], new: dict[str, Any], mode: str) -> list[str]:
    """The breaking changes from `old` to `new` under `mode` (not transitive: one pair)."""
    base = mode.removesuffix("_TRANSITIVE")
    problems: list[str] = []
    if base in ("BACKWARD", "FULL"):
        problems += [b.said(True) for b in _breaks(new, old, new, old, "")]
    if base in ("FORWARD", "FULL"):
        problems += [b.said(False) for b in _breaks(old, new, old, new, "")]
    return list(dict.fromkeys(problems))  # FULL finds some twice


def _breaks(
    reader: Any, writer: Any, reader_root: dict[str, Any], writer_root: dict[str, Any], path: str
) -> Iterator[Break]:
    reader, writer = _deref(reader_root, reader), _deref(writer_root, writer)
    where = path or "/"
    if reader is True or reader == {}:
        return  # accepts anything
    if writer is False:
        return  # allows nothing
    if reader is False or writer is True or writer == {}:
        if reader != writer:
            yield Break(
                f"constrains {where}, which accepted anything", f"lets {where} accept anything"
            )
        return
    yield from _types(reader, writer, where)
    yield from _enum(reader, writer, where)
    yield from _bounds(reader, writer, where)
    for keyword in COMPARED_EQUAL:
        if _canonical(reader.get(keyword)) != _canonical(writer.get(keyword)):
            yield Break(
                f"changes {keyword} at {where} (not proven compatible)",
                f"changes {keyword} at {where} (not proven compatible)",
            )
    yield from _object(reader, writer, reader_root, writer_root, path)
    if "items" in reader or "items" in writer:
        yield from _breaks(
            reader.get("items", True),
            writer.get("items", True),
            reader_root,
            writer_root,
            f"{path}[]",
        )


def _types(reader: dict[str, Any], writer: dict[str, Any], where: str) -> Iterator[Break]:
    read, written = _type_set(reader), _type_set(writer)
    if read is None:
        return
    if written is None:
        yield Break(
            f"restricts {where} to {_names(read)}", f"lets {where} be any type, not {_names(read)}"
        )
        return
    allowed = read | ({"integer"} if "number" in read else set())
    if not written <= allowed:
        yield Break(
            f"narrows {where} from {_names(written)} to {_names(read)}",
            f"widens {where} from {_names(read)} to {_names(written)}",
        )


def _enum(reader: dict[str, Any], writer: dict[str, Any], where: str) -> Iterator[Break]:
    if "enum" not in reader:
        return
    read = [_canonical(v) for v in reader["enum"]]
    if "enum" not in writer:
        yield Break(f"restricts {where} to an enum", f"lifts the enum of {where}")
        return
    missing = [v for v in writer["enum"] if _canonical(v) not in read]
    if missing:
        values = ", ".join(json.dumps(v) for v in missing)
        yield Break(
            f"removes enum value {values} from {where}", f"adds enum value {values} to {where}"
        )


def _bounds(reader: dict[str, Any], writer: dict[str, Any], where: str) -> Iterator[Break]:
    for keyword, larger_is_narrower in BOUNDS.items():
        if keyword not in reader or isinstance(reader[keyword], bool):
            continue
        read, written = reader[keyword], writer.get(keyword)
        narrower = written is None or (read > written if larger_is_narrower else read < written)
        if narrower:
            before = "none" if written is None else json.dumps(written)
            yield Break(
                f"narrows {where}: {keyword} {before} -> {json.dumps(read)}",
                f"widens {where}: {keyword} {json.dumps(read)} -> {before}",
            )


def _object(
    reader: dict[str, Any],
    writer: dict[str, Any],
    reader_root: dict[str, Any],
    writer_root: dict[str, Any],
    path: str,
) -> Iterator[Break]:
    where = path or "/"
    read_props, written_props = reader.get("properties", {}), writer.get("properties", {})
    for name in sorted(set(reader.get("required", [])) - set(writer.get("required", []))):
        yield Break(
            f'adds required field "{name}"' + _at(path),
            f'no longer requires field "{name}"' + _at(path),
        )
    read_extra = reader.get("additionalProperties", True)
    written_extra = writer.get("additionalProperties", True)
    for name in sorted(set(written_props) - set(read_props)):
        if read_extra is False:
            yield Break(
                f'removes field "{name}" from a closed schema' + _at(path),
                f'adds field "{name}" to a closed schema' + _at(path),
            )
        elif read_extra is not True:
            yield from _breaks(
                read_extra, written_props[name], reader_root, writer_root, f"{path}/{name}"
            )
    for name in sorted(set(read_props) - set(written_props)):
        if written_extra is True and not _accepts_anything(reader_root, read_props[name]):
            yield Break(
                f'adds field "{name}" to an open schema' + _at(path) + " (events of the "
                f'earlier version may hold any "{name}")',
                f'removes field "{name}" from an open schema' + _at(path) + " (events of the "
                f'later version may hold any "{name}")',
            )
        elif written_extra not in (True, False):
            yield from _breaks(
                read_props[name], written_extra, reader_root, writer_root, f"{path}/{name}"
            )
    for name in sorted(set(read_props) & set(written_props)):
        yield from _breaks(
            read_props[name], written_props[name], reader_root, writer_root, f"{path}/{name}"
        )
    if read_extra is False and written_extra is not False:
        yield Break(
            f"closes {where} (additionalProperties false)",
            f"opens {where} (additionalProperties no longer false)",
        )
    elif isinstance(read_extra, dict) and written_extra is not False:
        yield from _breaks(read_extra, written_extra, reader_root, writer_root, f"{path}/*")


def _at(path: str) -> str:
    return f" at {path}" if path else ""


def _deref(root: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        target = resolve(root, node["$ref"])
        rest = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **rest} if isinstance(target, dict) else target
        seen += 1
    return node


def _accepts_anything(root: dict[str, Any], node: Any) -> bool:
    node = _deref(root, node)
    return node is True or node == {}


def _type_set(schema: dict[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _names(types: set[str]) -> str:
    return " or ".join(sorted(types))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
