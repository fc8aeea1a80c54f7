"""The event console's handlers without a browser: Flask's test client against in-process
moto holding one deployed stage (a stack with its stream and outputs)."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from event_stream.lambda_src import event_envelope
from event_stream.tools.cli.console import records as records_module
from event_stream.tools.cli.console.app import create_app
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.console.security import Guard
from event_stream.tools.cli.target import Target
from event_stream.tools.local import moto_fixes
from tests.conftest import FIXTURES, load_fixture

PORT = 5123
ORIGIN = f"http://127.0.0.1:{PORT}"
STREAM = "unit-cncb-event-stream-s1"
JSON = {"Accept": "application/json"}


@pytest.fixture
def aws(aws_credentials, monkeypatch):
    for owner, attribute, replacement in moto_fixes.FIXES:
        monkeypatch.setattr(owner, attribute, replacement)
    with mock_aws():
        boto3.client("cloudformation").create_stack(
            StackName="cncb-event-stream-unit",
            TemplateBody=(FIXTURES / "console" / "stage-template.json").read_text(),
        )
        yield boto3.client("kinesis")


@pytest.fixture
def guard():
    return Guard(PORT)


@pytest.fixture
def console(aws, guard):
    app = create_app(ConsoleContext(Target(None, "us-east-1")), guard)
    return app.test_client()


def publish(kinesis, count, **fields):
    """Put `count` envelopes (n = 0..count-1) on the stream; their envelopes."""
    envelopes = []
    for n in range(count):
        record = event_envelope.prepare(
            {"type": "thing-created", "n": n, **fields},  # `fields` may name another type
            region="us-east-1",
            max_record_bytes=event_envelope.DEFAULT_MAX_RECORD_BYTES,
        )
        kinesis.put_record(StreamName=STREAM, Data=record.data, PartitionKey=record.partition_key)
        envelopes.append(record.envelope)
    return envelopes


def get(console, url, **headers):
    return console.get(url, base_url=ORIGIN, headers=headers)


def test_the_stages_page_lists_the_deployed_stage(console):
    answer = get(console, "/", **JSON)
    assert answer.status_code == 200
    assert [s["stage"] for s in answer.json["stages"]] == ["unit"]


def test_a_browser_gets_a_page_with_the_token_and_a_script_gets_json(console, guard):
    page = get(console, "/", Accept="text/html")
    assert page.mimetype == "text/html"
    assert f'<meta name="csrf-token" content="{guard.token}">' in page.text
    assert get(console, "/", **JSON).mimetype == "application/json"


def test_the_stage_page_shows_shards_retention_and_the_records_written(console, aws):
    publish(aws, 3)
    stage = get(console, "/stages/unit", **JSON).json
    assert stage["stream"]["openShards"] == 2
    assert stage["stream"]["retentionHours"] == 24
    assert stage["stream"]["recordsWithinRetention"] == 3
    assert sum(m["records"] for m in stage["stream"]["writesPerMinute"]) == 3


def test_a_stage_that_is_not_deployed_is_one_line_naming_it(console):
    answer = get(console, "/stages/nope", **JSON)
    assert answer.status_code == 400
    assert answer.json["error"].startswith("stage 'nope' is not deployed")


def test_the_records_page_decodes_envelopes_of_one_shard_in_order(console, aws):
    sent = publish(aws, 20)
    page = get(console, "/stages/unit/records?shard=shardId-000000000001", **JSON).json
    shown = [r["event"]["id"] for r in page["records"]]
    assert page["shard"] == "shardId-000000000001"
    assert shown == [e["id"] for e in sent if e["id"] in shown]  # publishing order
    assert all(r["shardId"] == "shardId-000000000001" for r in page["records"])
    assert page["records"][0]["raw"]["Data"]  # the raw record, base64


def test_a_full_page_links_to_the_next_one_which_continues_after_it(console, aws, monkeypatch):
    monkeypatch.setattr(records_module, "PAGE_SIZE", 5)
    publish(aws, 30, partitionKey="one-key")
    shard = get(console, "/stages/unit/records", **JSON).json["shards"]
    pages, url = (
        [],
        "/stages/unit/records?shard={}".format(
            next(
                s
                for s in shard
                if get(console, f"/stages/unit/records?shard={s}", **JSON).json["records"]
            )
        ),
    )
    while url and len(pages) < 10:
        page = get(console, url, **JSON).json
        pages.append([r["event"]["n"] for r in page["records"]])
        url = page["next"] and f"/stages/unit/records?shard={page['shard']}&from={page['next']}"
    assert [n for page in pages for n in page] == list(range(30))
    assert pages[0] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=thing-updated", ["updated"]),
        ("key=k2", ["other-key"]),
        ("tag=team:blue", ["tagged"]),
        ("q=needle", ["text"]),
        ("type=thing-created&key=k0", ["plain", "tagged", "text"]),
    ],
)
def test_filters_keep_only_the_matching_events(console, aws, query, expected):
    for event in load_fixture("console/events.json"):
        publish(aws, 1, **event)
    found = []
    for shard in get(console, "/stages/unit/records", **JSON).json["shards"]:
        page = get(console, f"/stages/unit/records?shard={shard}&{query}", **JSON).json
        found += [r["event"]["marker"] for r in page["records"]]
    assert sorted(found) == expected


def test_an_event_is_found_by_id_across_the_shards(console, aws):
    sent = publish(aws, 40)
    wanted = sent[27]["id"]
    page = get(console, f"/stages/unit/records?id={wanted}", **JSON).json
    assert [r["event"]["id"] for r in page["records"]] == [wanted]
    assert page["searchComplete"] is True


def test_an_unknown_id_is_searched_to_the_end_of_every_shard(console, aws):
    publish(aws, 10)
    page = get(console, "/stages/unit/records?id=no-such-id", **JSON).json
    assert page["records"] == []
    assert page["scanned"] == 10
    assert page["searchComplete"] is True


def test_records_from_a_sequence_number_start_there(console, aws):
    publish(aws, 6, partitionKey="same")
    shards = get(console, "/stages/unit/records", **JSON).json["shards"]
    pages = [get(console, f"/stages/unit/records?shard={s}", **JSON).json for s in shards]
    page = next(p for p in pages if p["records"])
    third = page["records"][2]["sequenceNumber"]
    later = get(
        console, f"/stages/unit/records?shard={page['shard']}&from=at-sequence:{third}", **JSON
    ).json
    assert [r["event"]["n"] for r in later["records"]] == [2, 3, 4, 5]


def test_a_browser_asking_for_latest_is_sent_to_now_with_its_filters(console):
    answer = get(console, "/stages/unit/records?from=latest&type=x", Accept="text/html")
    assert answer.status_code == 303
    assert re.search(r"from=at-time%3A\d{4}-\d\d-\d\dT", answer.headers["Location"])
    assert "type=x" in answer.headers["Location"]


@pytest.mark.parametrize("start", ["yesterday", "at-sequence:abc", "at-time:not-a-time"])
def test_a_bad_starting_position_is_one_line_naming_it(console, start):
    answer = get(console, f"/stages/unit/records?from={start}", **JSON)
    assert answer.status_code == 400
    assert answer.json["error"].startswith(f"from {start!r}: must be trim-horizon, latest")


def test_a_bad_tag_filter_is_one_line(console):
    answer = get(console, "/stages/unit/records?tag=novalue", **JSON)
    assert answer.status_code == 400
    assert "must be NAME:VALUE" in answer.json["error"]


def test_an_unknown_shard_is_one_line_listing_the_shards(console):
    answer = get(console, "/stages/unit/records?shard=shardId-9", **JSON)
    assert answer.status_code == 400
    assert "shardId-000000000000, shardId-000000000001" in answer.json["error"]


def test_a_request_for_another_host_is_refused(console):
    answer = console.get("/", base_url="http://evil.example:5123", headers=JSON)
    assert answer.status_code == 403
    assert "answers only at" in answer.json["error"]


def test_a_cross_site_post_without_the_token_is_refused(console, aws):
    answer = console.post(
        "/stages/unit/publish",
        base_url=ORIGIN,
        data={"event": json.dumps({"type": "thing-created"})},
        headers={"Origin": "http://evil.example", **JSON},
    )
    assert answer.status_code == 403
    assert "Origin" in answer.json["error"]
    assert aws.describe_stream_summary(StreamName=STREAM)  # nothing else happened


def test_a_post_from_the_console_origin_without_the_token_is_refused(console):
    answer = console.post(
        "/consumers/f/dead-letters/redrive", base_url=ORIGIN, headers={"Origin": ORIGIN, **JSON}
    )
    assert answer.status_code == 403
    assert "token" in answer.json["error"]


def test_a_post_with_a_wrong_token_is_refused(console):
    answer = console.post(
        "/consumers/f/dead-letters/redrive",
        base_url=ORIGIN,
        headers={"Origin": ORIGIN, "X-Console-Token": "guess", **JSON},
    )
    assert answer.status_code == 403


def test_a_post_with_the_token_and_origin_reaches_its_handler(console, guard):
    answer = console.post(
        "/consumers/f/dead-letters/redrive",
        base_url=ORIGIN,
        headers={"Origin": ORIGIN, "X-Console-Token": guard.token, **JSON},
    )
    assert answer.status_code == 400  # past the guard: there is no function f
    assert answer.json["error"].startswith("f has no Kinesis event source mapping")


def test_pages_may_not_be_framed_and_run_only_the_consoles_script(console):
    headers = get(console, "/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_the_assets_ship_in_the_package(console):
    assert get(console, "/static/console.js").status_code == 200
    assert get(console, "/static/console.css").status_code == 200
