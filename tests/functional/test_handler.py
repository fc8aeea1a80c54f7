"""The Lambda handlers under in-process moto: what lands on the stream, what they answer."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest

from event_stream.lambda_src.event_envelope import InvalidEvent
from tests.conftest import load_fixture
from tests.functional.streams import STREAM, records_on

INVALID = load_fixture("invalid-events.json")


class Context:
    function_name = "cncb-event-stream-test-publish-batch"

    def __init__(self, request_id: str = "3f2c8a10-0000-4000-8000-000000000001") -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_a_redelivered_publish_invocation_publishes_the_same_id(handler, kinesis):
    first = handler.publish({"type": "t"}, Context("request-1"))
    again = handler.publish({"type": "t"}, Context("request-1"))
    other = handler.publish({"type": "t"}, Context("request-2"))
    assert first["id"] == again["id"] != other["id"]
    assert uuid.UUID(first["id"]).version == 5


def test_a_redelivered_batch_invocation_publishes_the_same_ids_in_order(handler, kinesis):
    events = [{"type": "t"}, {"type": "t"}, {"type": "t", "id": "given"}]
    first = handler.publish_batch(events, Context("request-1"))["Records"]
    again = handler.publish_batch(events, Context("request-1"))["Records"]
    ids = [entry["id"] for entry in first]
    assert ids == [entry["id"] for entry in again]
    assert len(set(ids)) == 3 and ids[2] == "given"
    assert [uuid.UUID(i).version for i in ids[:2]] == [5, 5]


def test_without_a_lambda_context_ids_are_fresh_v1_uuids(handler, kinesis):
    first, second = handler.publish({"type": "t"}, None), handler.publish({"type": "t"}, None)
    assert first["id"] != second["id"] and uuid.UUID(first["id"]).version == 1


def test_publish_puts_one_record_with_every_envelope_field(handler, kinesis):
    before = int(time.time() * 1000)
    answer = handler.publish(load_fixture("thing-created.json"), None)
    (envelope,) = records_on(kinesis)
    assert envelope["id"] == answer["id"] and uuid.UUID(envelope["id"]).version == 1
    assert envelope["type"] == "thing-created"
    assert before <= envelope["timestamp"] <= int(time.time() * 1000)
    assert uuid.UUID(envelope["partitionKey"]).version == 4
    assert envelope["tags"] == {"region": "us-east-1"}
    assert envelope["thing"] == load_fixture("thing-created.json")["thing"]


def test_publish_answers_what_kinesis_answered(handler, kinesis):
    answer = handler.publish({"type": "t"}, None)
    assert set(answer) == {"ShardId", "SequenceNumber", "id"}
    assert answer["ShardId"] == "shardId-000000000000"


def test_publish_uses_the_envelope_partition_key(handler, kinesis):
    handler.publish({"type": "t", "partitionKey": "thing-1"}, None)
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["PartitionKey"] == "thing-1"


def test_publish_logs_the_incoming_event_and_the_envelope_at_debug(handler, kinesis, caplog):
    with caplog.at_level(logging.DEBUG, logger="publisher"):
        handler.publish({"type": "t"}, None)
    logged = {r.getMessage(): r for r in caplog.records if r.name == "publisher"}
    assert logged["event received"].event == {"type": "t"}
    assert logged["envelope built"].envelope["type"] == "t"


def test_payloads_stay_out_of_the_logs_at_info(handler, kinesis, caplog):
    handler.logger.setLevel(logging.INFO)
    with caplog.at_level(logging.INFO):
        handler.publish({"type": "t", "secret": "s3cr3t"}, None)
    assert [r.getMessage() for r in caplog.records if r.name == "publisher"] == ["record put"]
    assert "s3cr3t" not in caplog.text


def test_botocores_info_lines_stay_out_of_the_functions_logs(kinesis, monkeypatch, caplog):
    monkeypatch.setenv("STREAM_NAME", STREAM)
    import importlib

    from event_stream.lambda_src import handler as module

    with caplog.at_level(logging.INFO):
        importlib.reload(module).publish({"type": "t"}, None)
    assert not [r for r in caplog.records if r.name.startswith("botocore")]


@pytest.mark.parametrize("sdk_logger", ["botocore.endpoint", "urllib3.connectionpool"])
def test_the_sdks_request_lines_stay_out_of_a_debug_stages_logs(
    kinesis, monkeypatch, caplog, sdk_logger
):
    # On AWS each request would log "Starting new HTTPS connection" between the envelope and
    # the result of a DEBUG stage; in-process moto sends no request, so write one as they do.
    monkeypatch.setenv("STREAM_NAME", STREAM)
    import importlib

    from event_stream.lambda_src import handler as module

    importlib.reload(module)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger(sdk_logger).debug("Starting new HTTP connection (1): localhost:4566")
    assert not [r for r in caplog.records if r.name == sdk_logger]


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_publish_rejects_an_invalid_event_and_writes_nothing(handler, kinesis, case):
    with pytest.raises(InvalidEvent, match=f"^{case['field']}:"):
        handler.publish(case["event"], None)
    assert records_on(kinesis) == []


def test_client_is_created_once_per_container_and_never_retries_by_itself(handler):
    from event_stream.lambda_src.publisher import call_timeouts

    client = handler._publisher.client
    handler.publish({"type": "t"}, None)
    assert handler._publisher.client is client
    config = client.meta.config
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == call_timeouts(handler.FUNCTION_TIMEOUT)


def test_publish_batch_answers_in_putrecords_shape_in_input_order(handler, kinesis):
    events = load_fixture("batch.json")
    answer = handler.publish_batch(events, Context())
    assert answer["FailedRecordCount"] == 0
    on_stream = records_on(kinesis)
    assert [r["id"] for r in answer["Records"]] == [e["id"] for e in on_stream]
    assert [e["n"] for e in on_stream] == [1, 2, 3]
    assert all({"id", "ShardId", "SequenceNumber"} <= set(r) for r in answer["Records"])


def test_publish_batch_takes_a_bare_array(handler, kinesis):
    answer = handler.publish_batch([{"type": "a"}, {"type": "b"}], None)
    assert len(answer["Records"]) == 2 and len(records_on(kinesis)) == 2


@pytest.mark.parametrize("case", INVALID, ids=[c["why"] for c in INVALID])
def test_publish_batch_rejects_the_whole_call_naming_the_index(handler, kinesis, case):
    events = [{"type": "fine"}, {"type": "fine"}, case["event"]]
    with pytest.raises(InvalidEvent, match=r"^events\[2\]"):
        handler.publish_batch({"events": events}, None)
    assert records_on(kinesis) == []


@pytest.mark.parametrize("events", [{"type": "t"}, "x", None, {"events": "x"}])
def test_publish_batch_rejects_what_is_not_a_list(handler, kinesis, events):
    with pytest.raises(InvalidEvent, match=r"^events:"):
        handler.publish_batch(events, None)


def test_publish_batch_emits_unpublished_events_metric(handler, kinesis, capsys):
    handler.publish_batch([{"type": "a"}], Context())
    metric = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metric["UnpublishedEvents"] == 0
    assert metric["FunctionName"] == Context.function_name
    assert metric["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "UnpublishedEvents", "Unit": "Count"}
    ]


def test_record_limit_comes_from_the_environment(kinesis, monkeypatch):
    monkeypatch.setenv("STREAM_NAME", STREAM)
    monkeypatch.setenv("MAX_RECORD_BYTES", "2048")
    import importlib

    from event_stream.lambda_src import handler as module

    small = importlib.reload(module)
    with pytest.raises(InvalidEvent, match="record limit of 2048 bytes"):
        small.publish({"type": "t", "blob": "x" * 2048}, None)
    assert records_on(kinesis) == []


# Lambda's log-level filtering for JSON logs (AWS docs, "Log-level filtering"): a line
# below the function's ApplicationLogLevel is dropped; a line with no level counts as INFO.
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def lambda_keeps(line: str, function_level: str) -> bool:
    try:
        level = json.loads(line).get("level", "INFO")
    except ValueError:
        level = "INFO"
    return LEVELS.index(level) >= LEVELS.index(function_level)


def metric_line(capsys) -> str:
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "UnpublishedEvents" in x]
    return line


def test_the_unpublished_metric_survives_log_level_filtering(handler, kinesis, capsys):
    from tests.faults import ThrottleEntries

    ThrottleEntries(share=1.0).attach(handler._publisher.client)
    handler._publisher._sleep = lambda seconds: None
    answer = handler.publish_batch([{"type": "a"}, {"type": "b"}], Context())
    line = metric_line(capsys)
    assert json.loads(line)["UnpublishedEvents"] == answer["FailedRecordCount"] == 2
    assert all(lambda_keeps(line, level) for level in ("DEBUG", "INFO", "WARN", "ERROR"))
    # Without its level field, WARN and ERROR would drop it, and the alarm never fire.
    unleveled = json.dumps({k: v for k, v in json.loads(line).items() if k != "level"})
    assert not lambda_keeps(unleveled, "WARN") and not lambda_keeps(unleveled, "ERROR")


def test_the_metric_counts_every_event_when_publishing_raises(
    handler, kinesis, capsys, monkeypatch
):
    def broken(records, deadline=None):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(handler._publisher, "put_many", broken)
    with pytest.raises(RuntimeError):
        handler.publish_batch([{"type": "a"}] * 3, Context())
    line = metric_line(capsys)
    assert json.loads(line)["UnpublishedEvents"] == 3 and lambda_keeps(line, "ERROR")


def test_a_clean_batch_reports_zero_at_info(handler, kinesis, capsys):
    handler.publish_batch([{"type": "a"}], Context())
    assert json.loads(metric_line(capsys))["level"] == "INFO"
