"""The envelope: what it adds, what it keeps, what it rejects, and the round trip."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_stream.lambda_src.event_envelope import (
    DEFAULT_MAX_RECORD_BYTES,
    ID_NAMESPACE,
    MAX_PARTITION_KEY_CHARS,
    InvalidEvent,
    Invocation,
    build,
    decode,
    encode,
    prepare,
    prepare_all,
)
from tests.conftest import load_fixture

INVALID = load_fixture("invalid-events.json")


def test_fresh_fields_are_a_v1_id_a_v4_partition_key_and_epoch_ms():
    envelope = build({"type": "thing-created"}, region="eu-west-1", now_ms=1521948046003)
    assert uuid.UUID(envelope["id"]).version == 1
    assert uuid.UUID(envelope["partitionKey"]).version == 4
    assert envelope["timestamp"] == 1521948046003
    assert envelope["tags"] == {"region": "eu-west-1"}


def test_timestamp_defaults_to_now_in_milliseconds():
    import time

    before = int(time.time() * 1000)
    stamp = build({"type": "t"}, region="r")["timestamp"]
    assert before <= stamp <= int(time.time() * 1000)


def test_caller_fields_are_kept_and_caller_tags_win():
    event = load_fixture("with-caller-fields.json")
    envelope = build(event, region="us-east-1")
    assert {k: envelope[k] for k in ("id", "timestamp", "partitionKey", "thing")} == {
        k: event[k] for k in ("id", "timestamp", "partitionKey", "thing")
    }
    assert envelope["tags"] == {"region": "eu-west-1", "source": "tests"}


def test_two_events_get_different_ids_and_partition_keys():
    a, b = (build({"type": "t"}, region="r") for _ in range(2))
    assert a["id"] != b["id"] and a["partitionKey"] != b["partitionKey"]


def test_encoding_is_compact_utf8_json():
    data = encode(build({"type": "t", "name": "Zoë"}, region="r"))
    assert b": " not in data and b", " not in data
    assert "Zoë".encode() in data


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_invalid_event_is_rejected_naming_the_field(case):
    with pytest.raises(InvalidEvent) as raised:
        prepare(case["event"], region="r")
    assert str(raised.value).startswith(case["field"] + ":")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1, 2}, b"bytes"])
def test_non_json_value_is_rejected_naming_its_field(value):
    with pytest.raises(InvalidEvent, match=r"^payload: not a JSON value"):
        prepare({"type": "t", "payload": value}, region="r")


def test_record_over_the_limit_is_rejected_with_its_size():
    with pytest.raises(InvalidEvent, match=r"over the stream's record limit of 1048576 bytes"):
        prepare({"type": "t", "blob": "x" * DEFAULT_MAX_RECORD_BYTES}, region="r")


def test_limit_counts_partition_key_plus_data():
    event = {"type": "t", "partitionKey": "k" * 100}
    size = prepare(event, region="r").size
    assert prepare(event, region="r", max_record_bytes=size).size == size
    with pytest.raises(InvalidEvent):
        prepare(event, region="r", max_record_bytes=size - 1)


def test_partition_key_of_256_characters_is_accepted():
    key = "é" * MAX_PARTITION_KEY_CHARS
    assert prepare({"type": "t", "partitionKey": key}, region="r").partition_key == key


def test_batch_rejection_names_the_index():
    with pytest.raises(InvalidEvent, match=r"^events\[1\]\.type: required"):
        prepare_all([{"type": "ok"}, {"kind": "x"}], region="r")


NOT_ENVELOPES = load_fixture("not-envelopes.json")


@pytest.mark.parametrize("case", NOT_ENVELOPES, ids=[c["why"] for c in NOT_ENVELOPES])
def test_decode_names_what_makes_data_not_an_envelope(case):
    with pytest.raises(InvalidEvent) as raised:
        decode(case["data"].encode())
    assert str(raised.value) == case["message"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
valid_events = st.fixed_dictionaries(
    {"type": st.text(min_size=1)},
    optional={
        "id": st.text(min_size=1),
        "timestamp": st.integers(),
        "partitionKey": st.text(min_size=1, max_size=MAX_PARTITION_KEY_CHARS),
        "tags": st.dictionaries(st.text(), st.text(), max_size=4),
        "payload": json_values,
        "thing": json_values,
    },
)


@given(valid_events)
def test_every_valid_event_round_trips(event):
    record = prepare(event, region="us-east-1")
    assert decode(record.data) == record.envelope
    assert json.loads(record.data) == record.envelope
    for key, value in event.items():
        if key != "tags":
            assert record.envelope[key] == value
    assert record.envelope["tags"] == {"region": "us-east-1", **event.get("tags", {})}


invalid_events = st.one_of(
    st.lists(st.integers()) | st.text() | st.integers() | st.none(),
    st.fixed_dictionaries({"type": st.just("")}),
    st.fixed_dictionaries({"type": st.text(min_size=1), "timestamp": st.text() | st.floats()}),
    st.fixed_dictionaries({"type": st.text(min_size=1), "id": st.integers() | st.just("")}),
    st.fixed_dictionaries(
        {
            "type": st.text(min_size=1),
            "partitionKey": st.text(min_size=257, max_size=300) | st.just(""),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.text(min_size=1), "tags": st.dictionaries(st.text(), st.integers(), min_size=1)}
    ),
    st.dictionaries(st.text().filter(lambda k: k != "type"), json_values),
)


@given(invalid_events)
def test_every_invalid_event_is_rejected(event):
    with pytest.raises(InvalidEvent):
        prepare(event, region="us-east-1")


def test_the_default_id_inside_an_invocation_names_function_request_and_position():
    invocation = Invocation("fn", "request-1")
    first = build({"type": "t"}, region="us-east-1", invocation=invocation, position=0)
    second = build({"type": "t"}, region="us-east-1", invocation=invocation, position=1)
    assert first["id"] == str(uuid.uuid5(ID_NAMESPACE, "fn/request-1/0"))
    assert second["id"] != first["id"]
    assert build({"type": "t"}, region="us-east-1", invocation=invocation)["id"] == first["id"]
    other_function = build(
        {"type": "t"}, region="us-east-1", invocation=Invocation("g", "request-1")
    )
    assert other_function["id"] != first["id"]


def test_a_given_id_wins_over_the_invocations():
    envelope = build({"type": "t", "id": "mine"}, region="r", invocation=Invocation("fn", "req"))
    assert envelope["id"] == "mine"
