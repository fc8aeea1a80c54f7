"""CloudWatch embedded-metric-format lines, shared by the publishers and the consumer runtime.

A line printed to stdout in Lambda becomes a metric. Under Lambda's JSON log format a line
without a `level` field counts as INFO and is dropped when the function logs at WARN or
ERROR, so each line carries the level it must survive at. Stdlib only.
"""

from __future__ import annotations

import json
import time

NAMESPACE = "CncbEventStream"
# Events publish_batch answered as failed (the CDK side alarms on it; boto3-free to import).
UNPUBLISHED_METRIC = "UnpublishedEvents"
# Records that are not event envelopes: skipped by a consumer, kept apart by the lake.
UNREADABLE_METRIC = "UnreadableRecords"
# Events a consumer sent to its dead-letter queue because they break their contract.
CONTRACT_VIOLATIONS_METRIC = "ContractViolations"


def emf_line(metric: str, value: int, *, function_name: str, level: str) -> str:
    """One EMF line: `value` of `metric` (a Count), by FunctionName, at log level `level`."""
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [["FunctionName"]],
                        "Metrics": [{"Name": metric, "Unit": "Count"}],
                    }
                ],
            },
            "level": level,
            "FunctionName": function_name,
            metric: value,
        }
    )
