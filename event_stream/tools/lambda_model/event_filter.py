"""Lambda event filtering of Kinesis records: a mapping's FilterCriteria, checked when the
mapping is created or updated and applied to each record the local poller reads.

Sources, in order: "Control which events Lambda sends to your function" (the operator
table: equals, null, empty, equals-ignore-case, and, or, `$or`, anything-but, numeric,
exists, prefix, suffix; EventBridge's pattern syntax, `wildcard` included), "Using event
filtering with a Kinesis event source" ("Kinesis event source mappings only support
filtering on the data key"), and the responses LocalStack recorded on real AWS
(tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis*.snapshot.json):
CreateEventSourceMapping refuses `null`, a plain string, a scalar where an array belongs, an
empty array and invalid JSON with InvalidParameterValueException "Invalid filter pattern
definition.".

A record passes when any filter matches; a filter matches when every field it names
matches one of its rules. A record whose data is not JSON never matches a `data` filter.
Strings match exactly; numbers match by their JSON text (300 and 300.0 differ), as the
page says. `exists` applies to leaves only (EventBridge: "Exists matching only works on
leaf nodes"): an object is not a value that exists for it.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

INVALID_PATTERN = "Invalid filter pattern definition."
KINESIS_FILTER_KEYS = frozenset({"data"})
_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TEXT_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")


class FilterError(ValueError):
    """A pattern Lambda refuses; `str()` is Lambda's message, `detail` says what is wrong."""

    def __init__(self, detail: str) -> None:
        super().__init__(INVALID_PATTERN)
        self.detail = detail


def parse_pattern(
    text: Any, *, allowed_keys: frozenset[str] = KINESIS_FILTER_KEYS
) -> dict[str, Any]:
    """A filter's `Pattern` string, checked as CreateEventSourceMapping checks it."""
    try:
        pattern = json.loads(text) if isinstance(text, str) else _MISSING
    except ValueError:
        raise FilterError("the pattern is not JSON") from None
    if not isinstance(pattern, dict) or not pattern:
        raise FilterError("the pattern must be a non-empty JSON object")
    _check_object(pattern)
    _check_top_keys(pattern, allowed_keys)
    return pattern


def patterns_of(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The checked patterns of a mapping's `FilterCriteria` (none: every record passes)."""
    filters = (filter_criteria or {}).get("Filters") or []
    return [parse_pattern(f.get("Pattern") if isinstance(f, dict) else None) for f in filters]


def record_passes(patterns: list[dict[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether a record (GetRecords' shape) passes any of `patterns`."""
    if not patterns:
        return True
    try:
        subject: dict[str, Any] = {"data": json.loads(record["Data"])}
    except ValueError:
        subject = {}  # not JSON: no data to match
    return any(matches(pattern, subject) for pattern in patterns)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether `event` matches `pattern` (checked by `parse_pattern`) at this level."""
    for key, rules in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in rules):
                return False
            continue
        present = isinstance(event, dict) and key in event
        value = event[key] if present else _MISSING
        if isinstance(rules, dict):
            if not (present and isinstance(value, dict) and matches(rules, value)):
                return False
        elif not _any_rule(rules, value):
            return False
    return True


# Checking a pattern: the shapes Lambda accepts.


def _check_top_keys(pattern: dict[str, Any], allowed_keys: frozenset[str]) -> None:
    unknown = set(pattern) - allowed_keys - {"$or"}
    if unknown:
        raise FilterError(f"a Kinesis mapping filters on data only, not on {sorted(unknown)}")
    for alternative in pattern.get("$or", ()):
        _check_top_keys(alternative, allowed_keys)


def _check_object(pattern: dict[str, Any]) -> None:
    for key, rules in pattern.items():
        if key == "$or":
            if not isinstance(rules, list) or len(rules) < 2:
                raise FilterError("$or takes an array of at least two patterns")
            for alternative in rules:
                if not isinstance(alternative, dict) or not alternative:
                    raise FilterError("each $or alternative must be a non-empty object")
                _check_object(alternative)
        elif isinstance(rules, dict):
            if not rules:
                raise FilterError(f"field {key!r}: an empty object matches nothing")
            _check_object(rules)
        elif isinstance(rules, list):
            if not rules:
                raise FilterError(f"field {key!r}: an empty array of rules")
            for rule in rules:
                _check_rule(key, rule)
        else:
            raise FilterError(f"field {key!r}: rules must be an array, not {rules!r}")


def _check_rule(key: str, rule: Any) -> None:
    if not isinstance(rule, dict):
        if isinstance(rule, list):
            raise FilterError(f"field {key!r}: a rule cannot be an array")
        return  # a literal: string, number, boolean or null
    if len(rule) != 1:
        raise FilterError(f"field {key!r}: one operator per rule, got {sorted(rule)}")
    ((name, argument),) = rule.items()
    if name == "exists":
        if not isinstance(argument, bool):
            raise FilterError(f"field {key!r}: exists takes true or false")
    elif name == "numeric":
        _check_numeric(key, argument)
    elif name in ("prefix", "suffix"):
        if not (isinstance(argument, str) or _is_ignore_case(argument)):
            raise FilterError(f"field {key!r}: {name} takes a string")
    elif name == "equals-ignore-case":
        if not isinstance(argument, str):
            raise FilterError(f"field {key!r}: equals-ignore-case takes a string")
    elif name == "wildcard":
        _check_wildcard(key, argument)
    elif name == "anything-but":
        _check_anything_but(key, argument)
    else:
        raise FilterError(f"field {key!r}: unknown operator {name!r}")


def _is_ignore_case(argument: Any) -> bool:
    return (
        isinstance(argument, dict)
        and set(argument) == {"equals-ignore-case"}
        and isinstance(argument["equals-ignore-case"], str)
    )


def _check_numeric(key: str, argument: Any) -> None:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        raise FilterError(f"field {key!r}: numeric takes operator/number pairs")
    for op, bound in zip(argument[::2], argument[1::2], strict=True):
        if op not in _NUMERIC or isinstance(bound, bool) or not isinstance(bound, int | float):
            raise FilterError(f"field {key!r}: numeric pair {op!r}, {bound!r}")


def _check_wildcard(key: str, argument: Any) -> None:
    if not isinstance(argument, str) or "**" in argument:
        raise FilterError(f"field {key!r}: wildcard takes a string without consecutive '*'")


def _check_anything_but(key: str, argument: Any) -> None:
    if isinstance(argument, list):
        if not argument or any(isinstance(a, dict | list) for a in argument):
            raise FilterError(f"field {key!r}: anything-but takes values")
    elif isinstance(argument, dict):
        if len(argument) != 1 or next(iter(argument)) not in _TEXT_OPERATORS:
            raise FilterError(f"field {key!r}: anything-but takes a value or a text operator")
        _check_rule(key, argument)


# Applying a rule to a value.


def _any_rule(rules: list[Any], value: Any) -> bool:
    present = value is not _MISSING
    leaves = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            is_leaf = present and not isinstance(value, dict)
            if rule["exists"] is is_leaf:
                return True
        elif present and any(_leaf(rule, v) for v in leaves):
            return True
    return False


def _leaf(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return _equal(rule, value)
    ((name, argument),) = rule.items()
    if name == "anything-but":
        if isinstance(argument, list):
            return not any(_equal(a, value) for a in argument)
        if isinstance(argument, dict):
            return isinstance(value, str) and not _leaf(argument, value)
        return not _equal(argument, value)
    if name == "numeric":
        return _numeric(argument, value)
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return _text_test(argument, value, str.startswith)
    if name == "suffix":
        return _text_test(argument, value, str.endswith)
    if name == "equals-ignore-case":
        return bool(value.casefold() == argument.casefold())
    return _wildcard(argument).fullmatch(value) is not None  # wildcard


def _equal(expected: Any, value: Any) -> bool:
    # By JSON text: 300 and 300.0 differ, true is not 1.
    return json.dumps(expected) == json.dumps(value)


def _text_test(argument: Any, value: str, test: Callable[[str, str], bool]) -> bool:
    if isinstance(argument, dict):
        return test(value.casefold(), argument["equals-ignore-case"].casefold())
    return test(value, argument)


def _wildcard(argument: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in argument.split("*")), re.DOTALL)


def _numeric(conditions: list[Any], value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC[op](value, bound) for op, bound in pairs)
