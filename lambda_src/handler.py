"""Lambda entry points: `publish` (one event) and `publish_batch` (many).

Thin adapters from a Lambda event to the envelope and the publisher. At import the module
pays only for what every cold start needs: read the environment, create the client.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_contracts import Contracts
    from .event_envelope import (
        DEFAULT_MAX_RECORD_BYTES,
        InvalidEvent,
        Invocation,
        prepare,
        prepare_all,
    )
    from .publisher import ANSWER_MARGIN, Publisher, kinesis_client, unpublished_metric
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import (
        DEFAULT_MAX_RECORD_BYTES,
        InvalidEvent,
        Invocation,
        prepare,
        prepare_all,
    )
    from publisher import ANSWER_MARGIN, Publisher, kinesis_client, unpublished_metric

    try:  # shipped only when the app has event contracts (`event_stream/contracts/`)
        from event_contracts import Contracts
    except ImportError:
        Contracts = None  # type: ignore[assignment,misc]

STREAM_NAME = os.environ.get("STREAM_NAME", "")
REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")
MAX_RECORD_BYTES = int(os.environ.get("MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES))
# The function's configured timeout, which Lambda does not tell the code: the construct
# passes it, and every Kinesis call is sized to fit in it.
FUNCTION_TIMEOUT = float(os.environ.get("FUNCTION_TIMEOUT_SECONDS", "10"))

# The SDK's own lines are not ours: botocore's INFO ("Found credentials in environment
# variables.") and urllib3's DEBUG ("Starting new HTTP connection", one line per request)
# would sit between the envelope and the result in a DEBUG stage's logs.
for _sdk_logger in ("botocore", "boto3", "urllib3"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)
_publisher = Publisher(kinesis_client(FUNCTION_TIMEOUT), STREAM_NAME)
# The app's event contracts, if this asset ships them: each body checked before it is sent.
_contracts = Contracts.shipped() if Contracts is not None else None
_check = _contracts.check if _contracts is not None else None

# Lambda's JSON log format configures the root logger; its level comes from the function's
# ApplicationLogLevel (AWS_LAMBDA_LOG_LEVEL). Outside Lambda, LOG_LEVEL or INFO. Payloads
# are logged at DEBUG: the dev stage shows them, other stages keep events out of the logs.
logger = logging.getLogger("publisher")
logger.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO")

__all__ = ["InvalidEvent", "publish", "publish_batch"]


def publish(event: Any, context: Any = None) -> dict[str, str]:
    """Wrap one event in the envelope and put it with PutRecord.

    Answers Kinesis' `{"ShardId", "SequenceNumber"}` plus the envelope `id`; an invalid
    event raises `InvalidEvent` naming the field, and nothing is written. A put that still
    fails after the attempts that fit in the function's time raises the last error.
    """
    logger.debug("event received", extra={"event": event})
    record = prepare(
        event,
        region=REGION,
        max_record_bytes=MAX_RECORD_BYTES,
        invocation=_invocation(context),
        check=_check,
    )
    logger.debug("envelope built", extra={"envelope": record.envelope})
    result = _publisher.put_one(record, deadline=_deadline(context))
    logger.info("record put", extra={"result": result, "streamName": STREAM_NAME})
    return result


def publish_batch(events: Any, context: Any = None) -> dict[str, Any]:
    """Wrap many events and put them with PutRecords, re-sending what failed.

    Takes a JSON array of event objects or `{"events": [...]}`. Every event is validated
    first: one invalid event rejects the call with `InvalidEvent` naming its index. Answers
    in PutRecords' shape, one entry per input event in input order. The unpublished-events
    metric is printed on every path once events were accepted, an unexpected error included.
    """
    if isinstance(events, dict) and "events" in events:
        events = events["events"]
    if not isinstance(events, list):
        raise InvalidEvent('events: must be a JSON array of event objects or {"events": [...]}')
    logger.debug("batch received", extra={"count": len(events)})
    records = prepare_all(
        events,
        region=REGION,
        max_record_bytes=MAX_RECORD_BYTES,
        invocation=_invocation(context),
        check=_check,
    )
    unpublished = len(records)
    try:
        answer = _publisher.put_many(records, deadline=_deadline(context))
        unpublished = answer["FailedRecordCount"]
    finally:
        _emit_unpublished_metric(unpublished, context)
    log = logger.error if unpublished else logger.info
    log(
        "batch put",
        extra={
            "count": len(records),
            "failed": unpublished,
            "failedIds": [r["id"] for r in answer["Records"] if "ErrorCode" in r],
        },
    )
    return answer


def _invocation(context: Any) -> Invocation | None:
    """The invocation that names default ids: a re-delivered copy of it (same request id)
    publishes the same ids. None without a Lambda context (then ids are fresh V1 UUIDs)."""
    function_name = getattr(context, "function_name", None)
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(function_name, str) and isinstance(request_id, str):
        return Invocation(function_name, request_id)
    return None


def _deadline(context: Any) -> float | None:
    """The monotonic time by which every call must be done: the Lambda's remaining time,
    less what answering takes."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    remaining = float(context.get_remaining_time_in_millis()) / 1000
    return time.monotonic() + remaining - ANSWER_MARGIN


def _emit_unpublished_metric(count: int, context: Any) -> None:
    """Report unpublished events as a metric, when running as a named function."""
    function_name = getattr(context, "function_name", None)
    if function_name:
        print(unpublished_metric(count, function_name), flush=True)
