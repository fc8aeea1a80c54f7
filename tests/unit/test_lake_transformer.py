"""The lake's Firehose transformer on a Firehose transformation event (JSON fixture)."""

from __future__ import annotations

import base64
import json

from event_stream.lambda_src.lake_transformer import handler
from tests.conftest import load_fixture

EVENT = load_fixture("firehose-transformation.json")


def answered() -> list[dict]:
    return handler(EVENT)["records"]


def line_of(record: dict) -> dict:
    data = base64.b64decode(record["data"]).decode("utf-8")
    assert data.endswith("\n") and data.count("\n") == 1  # one JSON line per event
    return json.loads(data)


def test_every_record_is_answered_in_order_by_its_record_id():
    assert [r["recordId"] for r in answered()] == [r["recordId"] for r in EVENT["records"]]


def test_an_envelope_becomes_one_line_with_its_kinesis_coordinates():
    first = answered()[0]
    assert first["result"] == "Ok"
    assert line_of(first) == {
        "event": {
            "id": "id-1",
            "type": "thing-created",
            "timestamp": 1764300000001,
            "partitionKey": "k1",
            "tags": {"region": "us-east-1"},
            "n": 1,
        },
        "kinesis": {
            "shardId": "shardId-000000000000",
            "sequenceNumber": "49590000000000000000000000000000000000000000000000000001",
            "partitionKey": "k1",
            "approximateArrivalTimestamp": 1764300000.124,  # epoch seconds, as Lambda's
        },
    }


def test_a_record_that_is_not_an_envelope_fails_processing_with_its_data_untouched():
    second = answered()[1]
    assert second == {
        "recordId": EVENT["records"][1]["recordId"],
        "result": "ProcessingFailed",
        "data": EVENT["records"][1]["data"],
    }


def test_records_after_a_failed_one_are_still_transformed():
    assert [r["result"] for r in answered()] == ["Ok", "ProcessingFailed", "Ok"]
    assert line_of(answered()[2])["event"]["id"] == "id-3"
