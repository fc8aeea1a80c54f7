"""Lambda event filtering as the tools apply it, against the "Lambda event filtering" page's
operator table and its Kinesis rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from event_stream.tools.local.event_filter import FilterError, matches, patterns_of, record_passes

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


def test_an_unknown_operator_is_refused_not_ignored():
    with pytest.raises(FilterError, match="'wildcard'"):
        matches({"City": [{"wildcard": "S*"}]}, WEATHER)


def record(data: bytes, key: str = "1") -> dict:
    return {
        "Data": data,
        "PartitionKey": key,
        "SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
        "ApproximateArrivalTimestamp": datetime(2026, 11, 28, tzinfo=UTC),
    }


def criteria(*patterns: dict) -> dict:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_a_kinesis_record_matches_on_metadata_and_decoded_data():
    patterns = patterns_of(criteria({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}))
    assert record_passes(patterns, record(b'{"Location": "Los Angeles"}'))
    assert not record_passes(patterns, record(b'{"Location": "Los Angeles"}', key="2"))


def test_any_one_filter_is_enough():
    patterns = patterns_of(criteria({"data": {"type": ["a"]}}, {"data": {"type": ["b"]}}))
    assert record_passes(patterns, record(b'{"type": "b"}'))
    assert not record_passes(patterns, record(b'{"type": "c"}'))


def test_non_json_data_is_dropped_by_a_data_filter_but_passes_a_metadata_one():
    assert not record_passes(patterns_of(criteria({"data": {"type": ["a"]}})), record(b"not json"))
    assert record_passes(patterns_of(criteria({"partitionKey": ["1"]})), record(b"not json"))


def test_no_filter_criteria_lets_every_record_through():
    assert record_passes(patterns_of(None), record(b"anything"))
    assert record_passes(patterns_of({}), record(b"anything"))
