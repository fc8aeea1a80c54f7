"""Lambda's own lines around an invocation's logs, in each log format."""

from __future__ import annotations

import json

from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.platform_log import around


def function(**settings) -> DeployedFunction:
    values = {
        "name": "orders",
        "handler": "handler.handler",
        "environment": {},
        "log_group": "/aws/lambda/orders",
        "log_level": "INFO",
        "timeout": 3,
        "code_zip": b"",
        "memory_size": 256,
        **settings,
    }
    return DeployedFunction(**values)


DONE = Invocation({"ok": 1}, None, ["hello"], "req-1", duration_ms=12.3456, max_memory_mb=41)


def test_text_format_wraps_the_lines_in_start_end_and_report():
    lines = around(function(log_format="Text"), DONE)
    assert lines[:3] == ["START RequestId: req-1 Version: $LATEST", "hello", "END RequestId: req-1"]
    assert lines[3] == (
        "REPORT RequestId: req-1\tDuration: 12.35 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 41 MB\t"
    )


def test_a_timeout_is_named_in_the_report_line():
    timed_out = Invocation(None, {"errorType": "Sandbox.Timedout", "errorMessage": "x"}, [], "r")
    assert around(function(log_format="Text"), timed_out)[-1].endswith("Status: timeout\t")


def test_json_format_at_system_level_info_writes_platform_start_and_report():
    lines = around(function(log_format="JSON", system_log_level="INFO"), DONE)
    start, logged, report = (json.loads(lines[0]), lines[1], json.loads(lines[2]))
    assert (start["type"], start["record"]) == (
        "platform.start",
        {"requestId": "req-1", "version": "$LATEST"},
    )
    assert logged == "hello"
    assert report["type"] == "platform.report" and report["record"]["status"] == "success"
    assert report["record"]["metrics"] == {
        "durationMs": 12.35,
        "billedDurationMs": 13,
        "memorySizeMB": 256,
        "maxMemoryUsedMB": 41,
    }


def test_json_format_at_system_level_warn_writes_only_the_functions_lines():
    assert around(function(log_format="JSON", system_log_level="WARN"), DONE) == ["hello"]
