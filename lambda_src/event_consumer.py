"""The consumer runtime: a Lambda Kinesis batch -> envelopes -> the user's `handle`. Stdlib only.

Shipped, with `event_envelope.py` and `metrics.py`, in every StreamProcessor's asset:

    from event_consumer import process

    def handler(kinesis_event, context):
        return process(kinesis_event, on_event)

Lambda delivers a shard's records in order, at least once. `process` keeps that order: it
calls `handle(envelope)` record after record and, at the first exception, stops and reports
that record's sequence number as the batch item failure, so Lambda (with
ReportBatchItemFailures) checkpoints before it and retries from it: no later record of the
shard runs ahead of a failed one.

When the failing record is the first whose `handle` ran in this batch, `process` raises
instead. A report would not help there: "When a partial batch success response is received
and both BisectBatchOnFunctionError and ReportBatchItemFailures are turned on, the batch is
bisected at the returned sequence number and Lambda retries only the remaining records"
(AWS, "Configuring partial batch response with Kinesis Data Streams and Lambda"): the same
records again, never split, until the retries run out and all of them, the good ones behind
the poison one included, go to the dead-letter queue. A function error is what Lambda
halves ("If the function returns an error, split the batch in two and retry"), so the poison
record ends alone in the dead-letter queue and the records behind it are handled in order.

A record that is not an envelope can never succeed on a retry: it is logged at ERROR (shard
and sequence number), counted in the `UnreadableRecords` metric and skipped, so it never
blocks the shard.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Collection
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_envelope import decode
    from .metrics import UNREADABLE_METRIC, emf_line
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import decode
    from metrics import UNREADABLE_METRIC, emf_line

# The event types the StreamProcessor's filter lets through (a JSON array), set by the
# construct; `process` skips any other type as a second guard behind the filter.
EVENT_TYPES_ENV = "EVENT_TYPES"

logger = logging.getLogger("event_consumer")


def process(
    kinesis_event: dict[str, Any],
    handle: Callable[[dict[str, Any]], Any],
    *,
    types: Collection[str] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Run `handle` once per wanted envelope of a Lambda Kinesis event, in record order.

    `types`: the event types to handle; None means those in the `EVENT_TYPES` environment
    variable (the processor's filter), or every type when it is unset. Answers Lambda's
    partial batch response: `{"batchItemFailures": []}` when every record is done, else the
    sequence number of the record whose `handle` raised.
    """
    records = kinesis_event.get("Records") if isinstance(kinesis_event, dict) else None
    if not isinstance(records, list):
        raise ValueError('kinesis_event: not a Lambda Kinesis event (no "Records" list)')
    wanted = _wanted_types() if types is None else set(types)
    unreadable = 0
    handled = 0
    try:
        for record in records:
            where = _where(record)
            try:
                envelope = decode(base64.b64decode(record["kinesis"]["data"], validate=True))
            except (KeyError, TypeError, ValueError) as error:
                unreadable += 1
                # The error names the field that is missing or wrong ("record.tags: missing").
                logger.error("skipped a record: %s", error, extra=where)
                continue
            if wanted and envelope["type"] not in wanted:
                logger.debug(
                    "skipped an event of another type", extra={**where, "type": envelope["type"]}
                )
                continue
            try:
                handle(envelope)
            except Exception:
                context = {**where, "id": envelope["id"], "type": envelope["type"]}
                if not handled:
                    logger.exception("handler failed; Lambda splits the batch", extra=context)
                    raise
                logger.exception("handler failed; Lambda retries from this record", extra=context)
                return {"batchItemFailures": [{"itemIdentifier": where["sequenceNumber"]}]}
            handled += 1
        return {"batchItemFailures": []}
    finally:
        if unreadable:
            function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
            print(
                emf_line(UNREADABLE_METRIC, unreadable, function_name=function_name, level="ERROR"),
                flush=True,
            )


def _wanted_types() -> set[str]:
    raw = os.environ.get(EVENT_TYPES_ENV)
    return set(json.loads(raw)) if raw else set()


def _where(record: Any) -> dict[str, str]:
    """Shard and sequence number of a record, for logs and the failure report."""
    kinesis = record.get("kinesis", {}) if isinstance(record, dict) else {}
    event_id = record.get("eventID", "") if isinstance(record, dict) else ""
    return {
        "shardId": event_id.rpartition(":")[0] or "unknown",
        "sequenceNumber": str(kinesis.get("sequenceNumber", "")),
    }
