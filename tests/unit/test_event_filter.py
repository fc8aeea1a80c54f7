"""Lambda event filtering as the tools apply it, against the "Lambda event filtering" page's
operator table and its Kinesis rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from event_stream.tools.lambda_model.event_filter import (
    FilterError,
    matches,
    parse_pattern,
    patterns_of,
    record_passes,
)

WEATHER = {
    "City": "Seattle",
    "State": "WA",
    "Temperature": 46,
    "Month": "December",
    "Tags": ["a", "b"],
}


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ({"City": ["Seattle"]}, True),  # equals
        ({"City": ["Portland"]}, False),
        ({"City": ["Portland", "Seattle"]}, True),  # or
        ({"City": ["Seattle"], "State": ["WA"]}, True),  # and
        ({"City": ["Seattle"], "State": ["OR"]}, False),
        ({"City": [{"anything-but": ["Portland"]}]}, True),  # not
        ({"City": [{"anything-but": ["Seattle"]}]}, False),
        ({"City": [{"anything-but": "Seattle"}]}, False),
        ({"City": [{"anything-but": {"prefix": "Sea"}}]}, False),
        ({"Temperature": [{"numeric": ["=", 46]}]}, True),  # numeric equals
        ({"Temperature": [{"numeric": [">", 40, "<=", 46]}]}, True),  # numeric range
        ({"Temperature": [{"numeric": [">", 46]}]}, False),
        ({"City": [{"numeric": [">", 0]}]}, False),  # a string is no number
        ({"City": [{"exists": True}]}, True),  # exists
        ({"Country": [{"exists": True}]}, False),
        ({"Country": [{"exists": False}]}, True),  # does not exist
        ({"City": [{"exists": False}]}, False),
        ({"City": [{"prefix": "Sea"}]}, True),  # begins with
        ({"City": [{"prefix": "sea"}]}, False),  # no case-folding
        ({"City": [{"prefix": {"equals-ignore-case": "sea"}}]}, True),
        ({"City": [{"suffix": "tle"}]}, True),
        ({"City": [{"equals-ignore-case": "SEATTLE"}]}, True),
        ({"Country": ["Seattle"]}, False),  # every named field must be present
        ({"Tags": ["b"]}, True),  # an array matches when any element does
        ({"Temperature": [46.0]}, False),  # numbers compare by their text: 46 is not 46.0
        ({"Temperature": ["46"]}, False),
    ],
)
def test_operator_table(pattern, expected):
    assert matches(pattern, WEATHER) is expected


def test_nested_fields_are_matched_level_by_level():
    event = {"dynamodb": {"Keys": {"Id": {"N": "101"}}}}
    assert matches({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, event)
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": ["102"]}}}}, event)


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ({"City": [{"wildcard": "S*e"}]}, True),
        ({"City": [{"wildcard": "*att*"}]}, True),
        ({"City": [{"wildcard": "P*"}]}, False),
        ({"City": [{"anything-but": {"wildcard": "P*"}}]}, True),
        ({"City": [{"anything-but": {"suffix": "tle"}}]}, False),
        ({"City": [{"anything-but": {"equals-ignore-case": "seattle"}}]}, False),
        ({"$or": [{"City": ["Portland"]}, {"State": ["WA"]}]}, True),
        ({"$or": [{"City": ["Portland"]}, {"State": ["OR"]}]}, False),
        ({"City": ["Seattle"], "$or": [{"Month": ["May"]}, {"Temperature": [46]}]}, True),
        ({"Nested": [{"exists": True}]}, False),  # exists applies to leaves only
        ({"Nested": [{"exists": False}]}, True),  # ... so no leaf is there
        ({"Missing": [None]}, False),
        ({"Nothing": [None]}, True),  # null matches a null value
        ({"Empty": [""]}, True),
    ],
)
def test_more_of_eventbridges_pattern_syntax(pattern, expected):
    event = {**WEATHER, "Nested": {"a": 1}, "Nothing": None, "Empty": ""}
    assert matches(pattern, event) is expected


# What CreateEventSourceMapping refuses: LocalStack's recordings of real AWS
# (test_lambda_integration_kinesis.snapshot.json, filter tests) and the page's syntax.
REFUSED = {
    "null": "null",
    "a plain string": '"just text"',
    "a scalar instead of an array": '{"data": {"type": "thing-created"}}',
    "an empty array": '{"data": {"type": []}}',
    "invalid JSON": '{"data": ',
    "an empty object": "{}",
    "a metadata key": '{"partitionKey": ["1"]}',
    "a metadata key beside data": '{"partitionKey": ["1"], "data": {"type": ["a"]}}',
    "a metadata key inside $or": '{"$or": [{"data": {"a": [1]}}, {"partitionKey": ["1"]}]}',
    "an unknown operator": '{"data": {"type": [{"regex": "a.*"}]}}',
    "two operators in one rule": '{"data": {"n": [{"numeric": [">", 1], "prefix": "a"}]}}',
    "exists without a boolean": '{"data": {"type": [{"exists": "yes"}]}}',
    "numeric with an odd list": '{"data": {"n": [{"numeric": [">", 1, "<"]}]}}',
    "numeric with an unknown operator": '{"data": {"n": [{"numeric": ["!=", 1]}]}}',
    "prefix with a number": '{"data": {"type": [{"prefix": 1}]}}',
    "consecutive wildcards": '{"data": {"type": [{"wildcard": "a**b"}]}}',
    "$or with one alternative": '{"$or": [{"data": {"a": [1]}}]}',
    "an empty anything-but": '{"data": {"type": [{"anything-but": []}]}}',
}


@pytest.mark.parametrize("pattern", REFUSED.values(), ids=REFUSED.keys())
def test_an_invalid_pattern_is_refused_with_lambdas_message(pattern):
    with pytest.raises(FilterError, match=r"^Invalid filter pattern definition\.$"):
        parse_pattern(pattern)


def record(data: bytes, key: str = "1") -> dict:
    return {
        "Data": data,
        "PartitionKey": key,
        "SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
        "ApproximateArrivalTimestamp": datetime(2026, 11, 28, tzinfo=UTC),
    }


def criteria(*patterns: dict) -> dict:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_a_kinesis_record_matches_on_its_decoded_data():
    patterns = patterns_of(criteria({"data": {"Location": ["Los Angeles"]}}))
    assert record_passes(patterns, record(b'{"Location": "Los Angeles"}'))
    assert not record_passes(patterns, record(b'{"Location": "New York"}'))


def test_any_one_filter_is_enough():
    patterns = patterns_of(criteria({"data": {"type": ["a"]}}, {"data": {"type": ["b"]}}))
    assert record_passes(patterns, record(b'{"type": "b"}'))
    assert not record_passes(patterns, record(b'{"type": "c"}'))


def test_non_json_data_never_matches_a_data_filter():
    assert not record_passes(patterns_of(criteria({"data": {"type": ["a"]}})), record(b"not json"))


def test_or_across_records_lets_either_kind_through():
    patterns = patterns_of(criteria({"$or": [{"data": {"type": ["a"]}}, {"data": {"n": [1]}}]}))
    assert record_passes(patterns, record(b'{"type": "a"}'))
    assert record_passes(patterns, record(b'{"type": "b", "n": 1}'))
    assert not record_passes(patterns, record(b'{"type": "b", "n": 2}'))


def test_no_filter_criteria_lets_every_record_through():
    assert record_passes(patterns_of(None), record(b"anything"))
    assert record_passes(patterns_of({}), record(b"anything"))
