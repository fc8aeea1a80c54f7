"""Lambda's own lines around each invocation's logs: START, END and REPORT.

As the seed's `sls logs` output shows them, and as tools that wait for `REPORT` expect.
Text log format (Lambda's default): `START RequestId: <id> Version: $LATEST`, `END
RequestId: <id>`, and `REPORT RequestId: <id>\tDuration: <ms> ms\tBilled Duration: <ms>
ms\tMemory Size: <MB> MB\tMax Memory Used: <MB> MB\t` ("Using Lambda environment
variables"/"Monitoring with CloudWatch Logs": the REPORT line's fields). JSON log format:
the `platform.start` and `platform.report` system events ("Configuring JSON and plain text
log formats"), which the function's system log level filters: both are INFO events, so a
function at SystemLogLevel WARN (this project's constructs set it) gets neither, as on AWS
("Log-level filtering").
"""

from __future__ import annotations

import json
import math
import time

from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.lambda_model.kinesis_event import iso_time

SYSTEM_LEVELS = ("DEBUG", "INFO", "WARN")
VERSION = "$LATEST"


def around(function: DeployedFunction, invocation: Invocation) -> list[str]:
    """The invocation's log lines with Lambda's platform lines before and after them."""
    request_id = invocation.request_id
    duration = round(invocation.duration_ms, 2)
    billed = max(1, math.ceil(invocation.duration_ms))
    status = _status(invocation)
    if function.log_format != "JSON":
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {function.memory_size} MB\t"
            f"Max Memory Used: {invocation.max_memory_mb} MB\t"
            + ("" if status in ("success", "error") else f"Status: {status}\t")
        )
        return [
            f"START RequestId: {request_id} Version: {VERSION}",
            *invocation.log_lines,
            f"END RequestId: {request_id}",
            report,
        ]
    if SYSTEM_LEVELS.index(function.system_log_level) > SYSTEM_LEVELS.index("INFO"):
        return invocation.log_lines
    now = iso_time(time.time())
    start = {"requestId": request_id, "version": VERSION}
    report_record = {
        "requestId": request_id,
        "metrics": {
            "durationMs": duration,
            "billedDurationMs": billed,
            "memorySizeMB": function.memory_size,
            "maxMemoryUsedMB": invocation.max_memory_mb,
        },
        "status": status,
    }
    return [
        json.dumps({"time": now, "type": "platform.start", "record": start}),
        *invocation.log_lines,
        json.dumps({"time": now, "type": "platform.report", "record": report_record}),
    ]


def _status(invocation: Invocation) -> str:
    if invocation.error is None:
        return "success"
    kind = invocation.error.get("errorType", "")
    return {"Sandbox.Timedout": "timeout", "Runtime.ExitError": "failure"}.get(kind, "error")
