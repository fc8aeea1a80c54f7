"""Compatibility of contract versions under Confluent's modes: each rule, both ways (a change
that breaks BACKWARD and its reverse, which breaks FORWARD), and each mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from event_stream.contracts.compatibility import MODES, check, compare
from event_stream.contracts.files import Contract


def obj(properties: dict, required=(), closed=None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required), **extra}
    if closed is not None:
        schema["additionalProperties"] = not closed
    return schema


STRING, INTEGER, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}

# (rule, old, new, what BACKWARD says of old -> new, what FORWARD says of new -> old)
RULES = [
    (
        "required field added",
        obj({"a": STRING}),
        obj({"a": STRING}, required=["a"]),
        'adds required field "a"',
    ),
    (
        "type narrowed",
        obj({"n": NUMBER}, closed=True),
        obj({"n": INTEGER}, closed=True),
        "narrows /n from number to integer",
    ),
    (
        "type narrowed from a union",
        obj({"n": {"type": ["string", "null"]}}, closed=True),
        obj({"n": STRING}, closed=True),
        "narrows /n from null or string to string",
    ),
    (
        "enum value removed",
        obj({"c": {"enum": ["red", "blue"]}}, closed=True),
        obj({"c": {"enum": ["red"]}}, closed=True),
        'removes enum value "blue" from /c',
    ),
    (
        "field removed from a closed schema",
        obj({"a": STRING, "b": STRING}, closed=True),
        obj({"a": STRING}, closed=True),
        'removes field "b" from a closed schema',
    ),
    (
        "field added to an open schema",
        obj({"a": STRING}),
        obj({"a": STRING, "b": STRING}),
        'adds field "b" to an open schema (events of the earlier version may hold any "b")',
    ),
    (
        "schema closed",
        obj({"a": STRING}),
        obj({"a": STRING}, closed=True),
        "closes / (additionalProperties false)",
    ),
    (
        "bound narrowed",
        obj({"s": {"type": "string", "maxLength": 50}}, closed=True),
        obj({"s": {"type": "string", "maxLength": 20}}, closed=True),
        "narrows /s: maxLength 50 -> 20",
    ),
    (
        "nested object: required field added",
        obj({"o": obj({"x": STRING})}, closed=True),
        obj({"o": obj({"x": STRING}, required=["x"])}, closed=True),
        'adds required field "x" at /o',
    ),
    (
        "array items narrowed",
        obj({"l": {"type": "array", "items": NUMBER}}, closed=True),
        obj({"l": {"type": "array", "items": INTEGER}}, closed=True),
        "narrows /l[] from number to integer",
    ),
    (
        "through a local $ref",
        obj({"p": {"$ref": "#/$defs/p"}}, closed=True, **{"$defs": {"p": NUMBER}}),
        obj({"p": {"$ref": "#/$defs/p"}}, closed=True, **{"$defs": {"p": INTEGER}}),
        "narrows /p from number to integer",
    ),
]
REVERSED = {  # FORWARD's words for the same difference, read from the other side
    "required field added": 'no longer requires field "a"',
    "type narrowed": "widens /n from integer to number",
    "type narrowed from a union": "widens /n from string to null or string",
    "enum value removed": 'adds enum value "blue" to /c',
    "field removed from a closed schema": 'adds field "b" to a closed schema',
    "field added to an open schema": 'removes field "b" from an open schema (events of the later version may hold any "b")',
    "schema closed": "opens / (additionalProperties no longer false)",
    "bound narrowed": "widens /s: maxLength 20 -> 50",
    "nested object: required field added": 'no longer requires field "x" at /o',
    "array items narrowed": "widens /l[] from integer to number",
    "through a local $ref": "widens /p from integer to number",
}
IDS = [rule for rule, *_ in RULES]


@pytest.mark.parametrize("rule,old,new,words", RULES, ids=IDS)
def test_the_change_breaks_backward(rule, old, new, words):
    assert compare(old, new, "BACKWARD") == [words]


@pytest.mark.parametrize("rule,old,new,words", RULES, ids=IDS)
def test_the_change_keeps_forward(rule, old, new, words):
    assert compare(old, new, "FORWARD") == []


@pytest.mark.parametrize("rule,old,new,words", RULES, ids=IDS)
def test_the_reverse_change_breaks_forward(rule, old, new, words):
    assert compare(new, old, "FORWARD") == [REVERSED[rule]]


@pytest.mark.parametrize("rule,old,new,words", RULES, ids=IDS)
def test_the_reverse_change_keeps_backward(rule, old, new, words):
    assert compare(new, old, "BACKWARD") == []


def test_an_optional_field_added_to_a_closed_schema_keeps_backward_only():
    old, new = obj({"a": STRING}, closed=True), obj({"a": STRING, "b": STRING}, closed=True)
    assert compare(old, new, "BACKWARD") == []
    assert compare(old, new, "FORWARD") == ['adds field "b" to a closed schema']


def test_a_change_inside_any_of_is_not_proven_compatible():
    old = obj({"v": {"anyOf": [STRING, INTEGER]}}, closed=True)
    new = obj({"v": {"anyOf": [STRING, NUMBER]}}, closed=True)
    assert compare(old, new, "BACKWARD") == ["changes anyOf at /v (not proven compatible)"]


def test_an_unchanged_schema_is_compatible_in_every_mode():
    schema = obj({"a": STRING, "n": NUMBER}, required=["a"], closed=True)
    assert all(compare(schema, schema, mode) == [] for mode in MODES)


def contracts(*schemas: dict) -> dict[str, list[Contract]]:
    return {
        "t": [Contract("t", n, Path(f"t/v{n}.json"), s) for n, s in enumerate(schemas, start=1)]
    }


def test_full_is_backward_and_forward():
    old, new = obj({"n": NUMBER}, closed=True), obj({"n": INTEGER}, closed=True)
    assert check(contracts(old, new), "FULL") == [
        "t v1 -> v2 breaks FULL: narrows /n from number to integer"
    ]
    assert check(contracts(new, old), "FULL") == [
        "t v1 -> v2 breaks FULL: widens /n from integer to number"
    ]


def test_non_transitive_modes_compare_each_version_with_the_previous_only():
    # v1 -> v2 adds an optional field to a closed schema, v2 -> v3 makes it required: v3
    # against v1 adds a required field, which only the transitive mode sees.
    v1 = obj({"a": STRING}, closed=True)
    v2 = obj({"a": STRING, "b": STRING}, closed=True)
    v3 = obj({"a": STRING, "b": STRING}, required=["b"], closed=True)
    assert check(contracts(v1, v2, v3), "BACKWARD") == [
        't v2 -> v3 breaks BACKWARD: adds required field "b"'
    ]
    assert check(contracts(v1, v2, v3), "BACKWARD_TRANSITIVE") == [
        't v1 -> v3 breaks BACKWARD_TRANSITIVE: adds required field "b"',
        't v2 -> v3 breaks BACKWARD_TRANSITIVE: adds required field "b"',
    ]


def test_none_checks_nothing():
    assert check(contracts(obj({"n": NUMBER}), obj({"n": INTEGER})), "NONE") == []


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="invalid compatibility mode 'SIDEWAYS'"):
        check(contracts(obj({})), "SIDEWAYS")
