"""ProcessorConfig: every consumer setting validated once, one clear line for a bad one."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk.aws_lambda import StartingPosition

from event_stream.config import ConfigError
from event_stream.processor_config import ProcessorConfig
from tests.unit.synth import PROCESSOR_CODE


def config(**overrides):
    values = {
        "stage": "john",
        "name": "listener",
        "code_dir": str(PROCESSOR_CODE),
        "handler": "handler.handler",
        **overrides,
    }
    return ProcessorConfig(**values)


def test_names_follow_the_consumers_service():
    made = config(service="orders")
    assert (made.function_name, made.queue_name) == (
        "orders-john-listener",
        "orders-john-listener-dlq",
    )


def test_default_service_is_the_stream_processor():
    assert config().function_name == "cncb-stream-processor-john-listener"


@pytest.mark.parametrize(
    "overrides,words",
    [
        ({"name": "a" * 40}, "the function name 'cncb-stream-processor-john-aaaa"),
        ({"name": "bad_name"}, "invalid name 'bad_name'"),
        ({"stage": "a b"}, "invalid stage 'a b'"),
        ({"handler": "handler"}, "invalid handler 'handler'"),
        ({"handler": "missing.handler"}, "there is no missing.py in code_dir"),
        ({"batch_size": 0}, "invalid batch_size 0"),
        ({"batch_size": 10_001}, "invalid batch_size 10001"),
        ({"retry_attempts": -1}, "invalid retry_attempts -1"),
        ({"handler_retries": 11}, "invalid handler_retries 11"),
        ({"handler_retries": -1}, "invalid handler_retries -1"),
        ({"max_record_age": Duration.seconds(59)}, "invalid max_record_age 59 s"),
        ({"max_record_age": 3600}, "invalid max_record_age 3600: must be a Duration"),
        ({"max_batching_window": Duration.minutes(6)}, "invalid max_batching_window 360 s"),
        ({"timeout": Duration.minutes(16)}, "invalid timeout 960 s"),
        ({"parallelization_factor": 11}, "invalid parallelization_factor 11"),
        ({"starting_position": "LATEST"}, "invalid starting_position 'LATEST'"),
        (
            {"starting_position": StartingPosition.AT_TIMESTAMP},
            "invalid starting_position_timestamp",
        ),
        ({"event_types": "thing-created"}, "invalid event_types 'thing-created'"),
        ({"event_types": ("",)}, "invalid event_types"),
        ({"bisect_batch_on_error": "yes"}, "invalid bisect_batch_on_error 'yes'"),
        ({"log_level": "TRACE"}, "invalid log_level 'TRACE'"),
        ({"alarm_topic": "topic"}, "invalid alarm_topic 'topic'"),
        ({"log_retention_days": True}, "invalid log_retention_days True"),
        ({"log_retention_days": 2}, "invalid log_retention_days 2"),
        ({"environment": {"A": 1}}, "invalid environment"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(overrides, words):
    with pytest.raises(ConfigError) as raised:
        config(**overrides)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_a_code_dir_with_its_own_runtime_copy_is_rejected(tmp_path):
    (tmp_path / "handler.py").write_text("")
    (tmp_path / "event_envelope.py").write_text("")
    with pytest.raises(ConfigError, match=r"it has its own event_envelope\.py"):
        config(code_dir=str(tmp_path))


def test_an_unknown_option_is_refused():
    with pytest.raises(TypeError, match="batchsize"):
        config(batchsize=10)
