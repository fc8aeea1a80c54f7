"""Stage rules: names, limits and context values, each failing with one clear line."""

from __future__ import annotations

import pytest

from event_stream.config import ConfigError, StageConfig


def test_default_stage_is_dev_with_the_contract_names():
    config = StageConfig()
    assert (config.stage, config.stack_name, config.stream_name) == (
        "dev",
        "cncb-event-stream-dev",
        "dev-cncb-event-stream-s1",
    )
    assert config.publish_function_name == "cncb-event-stream-dev-publish"
    assert config.publish_batch_function_name == "cncb-event-stream-dev-publish-batch"
    assert config.export_name("streamArn") == "cncb-event-stream-dev-streamArn"


def test_service_override_changes_every_name():
    config = StageConfig(stage="john", service="orders")
    assert config.stack_name == "orders-john"
    assert config.stream_name == "john-orders-s1"
    assert config.export_name("streamName") == "orders-john-streamName"


@pytest.mark.parametrize("stage", ["john", "J0hn-2", "7", "a" * 32, "feature-123"])
def test_valid_stages(stage):
    assert StageConfig(stage=stage).stage == stage


@pytest.mark.parametrize(
    "stage,words",
    [
        ("", "must match"),
        ("-john", "must match"),
        ("john_doe", "must match"),
        ("john.doe", "must match"),
        ("jöhn", "must match"),
        ("john doe", "must match"),
        ("a" * 33, "at most 32 characters"),
    ],
)
def test_invalid_stage_names_the_stage_and_the_rule(stage, words):
    with pytest.raises(ConfigError) as raised:
        StageConfig(stage=stage)
    message = str(raised.value)
    assert repr(stage) in message and words in message and "\n" not in message


def test_stage_limit_depends_on_the_service_length():
    # 64 - len("cncb-event-stream-xxxxxxx-") - len("-publish-batch") = 24
    assert StageConfig(stage="a" * 24, service="cncb-event-stream-xxxxxxx")
    with pytest.raises(ConfigError, match="at most 24 characters"):
        StageConfig(stage="a" * 25, service="cncb-event-stream-xxxxxxx")


@pytest.mark.parametrize(
    "values,words",
    [
        ({"shard_count": 0}, "shardCount"),
        ({"shard_count": 2, "on_demand": True}, "onDemand"),
        ({"retention_hours": 23}, "retentionHours"),
        ({"retention_hours": 8761}, "retentionHours"),
        ({"max_record_bytes": 10 * 1024 * 1024 + 1}, "maxRecordBytes"),
        ({"log_retention_days": 31}, "logRetentionDays"),
        ({"log_level": "TRACE"}, "logLevel"),
        ({"alarm_topic_arn": "on-call"}, "alarmTopicArn"),
        ({"retain_stream": "yes"}, "retainStream"),
        ({"service": "9lives"}, "service"),
    ],
)
def test_out_of_range_values_fail_with_the_key_name(values, words):
    with pytest.raises(ConfigError, match=words):
        StageConfig(**values)


def _context(values):
    return values.get


def test_context_strings_from_the_command_line_are_typed():
    config = StageConfig.from_context(
        _context({"stage": "x", "shardCount": "3", "retainStream": "true", "tracing": "False"})
    )
    assert (config.shard_count, config.retain_stream, config.tracing) == (3, True, False)


def test_per_stage_settings_apply_to_their_stage_only():
    stages = {"prod": {"retainStream": True, "shardCount": 2}}
    assert StageConfig.from_context(_context({"stage": "prod", "stages": stages})).shard_count == 2
    assert StageConfig.from_context(_context({"stage": "dev", "stages": stages})).shard_count == 1


def test_command_line_context_overrides_per_stage_settings():
    context = {"stage": "prod", "stages": {"prod": {"shardCount": 2}}, "shardCount": "5"}
    assert StageConfig.from_context(_context(context)).shard_count == 5


def test_unknown_per_stage_key_is_rejected():
    with pytest.raises(ConfigError, match="unknown context key 'shards'"):
        StageConfig.from_context(_context({"stage": "prod", "stages": {"prod": {"shards": 2}}}))


@pytest.mark.parametrize(
    "stages,key",
    [
        (["prod"], "'stages'"),
        ({"prod": ["retainStream"]}, "'stages.prod'"),
        ({"prod": "retainStream"}, "'stages.prod'"),
        ({"prod": {"stage": "other"}}, "'stages.prod.stage'"),
    ],
)
def test_malformed_stages_block_names_the_key(stages, key):
    with pytest.raises(ConfigError, match=rf"^invalid context {key}: "):
        StageConfig.from_context(_context({"stage": "prod", "stages": stages}))


def test_non_number_context_is_rejected_with_the_key():
    with pytest.raises(ConfigError, match="invalid shardCount 'two'"):
        StageConfig.from_context(_context({"shardCount": "two"}))
