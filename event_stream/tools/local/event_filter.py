"""Lambda event filtering of Kinesis records, as the tools apply a mapping's FilterCriteria.

The rules are the "Lambda event filtering" page's (EventBridge's pattern syntax): a record
passes when any filter matches; a filter matches when every field it names matches one of
its rules. Kinesis records offer the metadata fields (`partitionKey`, `sequenceNumber`,
`approximateArrivalTimestamp`, `kinesisSchemaVersion`) and `data`, the decoded JSON body.
A record whose data is not JSON never matches a filter that names `data`. Strings match
exactly; numbers match by their JSON text (300 and 300.0 differ), as the page says.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from event_stream.tools.local.kinesis_event import epoch_seconds

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterError(ValueError):
    """A pattern this module cannot apply; the message names the operator."""


def patterns_of(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The decoded patterns of a mapping's `FilterCriteria` (none: every record passes)."""
    return [json.loads(f["Pattern"]) for f in (filter_criteria or {}).get("Filters", [])]


def record_passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether a record (GetRecords' shape) passes any of `patterns`."""
    if not patterns:
        return True
    try:
        data: Any = json.loads(record["Data"])
    except ValueError:
        data = _MISSING
    subject = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": record["PartitionKey"],
        "sequenceNumber": record["SequenceNumber"],
        "approximateArrivalTimestamp": epoch_seconds(record["ApproximateArrivalTimestamp"]),
    }
    if data is not _MISSING:
        subject["data"] = data
    return any(
        matches(pattern, subject)
        for pattern in patterns
        if not ("data" in pattern and data is _MISSING)
    )


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether `event` (a dict) has every field `pattern` names, each matching a rule."""
    for key, rules in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event[key] if present else _MISSING
        if isinstance(rules, dict):
            if not (present and isinstance(value, dict) and matches(rules, value)):
                return False
        elif isinstance(rules, list):
            if not _any_rule(rules, value, present):
                return False
        else:
            raise FilterError(f"filter field {key!r}: rules must be a list or an object")
    return True


def _any_rule(rules: list[Any], value: Any, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if rule["exists"] is present:
                return True
        elif present and any(_leaf(rule, v) for v in values):
            return True
    return False


def _leaf(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return _equal(rule, value)
    if len(rule) != 1:
        raise FilterError(f"filter rule {rule!r}: one operator per rule")
    ((name, argument),) = rule.items()
    if name == "prefix":
        return _text_test(argument, value, str.startswith)
    if name == "suffix":
        return _text_test(argument, value, str.endswith)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if name == "anything-but":
        if isinstance(argument, list):
            return not any(_equal(a, value) for a in argument)
        if isinstance(argument, dict):
            return not _leaf(argument, value)
        return not _equal(argument, value)
    if name == "numeric":
        return _numeric(argument, value)
    raise FilterError(f"filter operator {name!r} is not supported here")


def _equal(expected: Any, value: Any) -> bool:
    # By JSON text: 300 and 300.0 differ, true is not 1.
    return json.dumps(expected) == json.dumps(value)


def _text_test(argument: Any, value: Any, test: Callable[[str, str], bool]) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        return test(value.casefold(), str(argument["equals-ignore-case"]).casefold())
    return test(value, str(argument))


def _numeric(conditions: list[Any], value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC[op](value, bound) for op, bound in pairs)
