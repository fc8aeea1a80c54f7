"""The consumer runtime: a Lambda Kinesis batch -> envelopes -> the user's `handle`. Stdlib only.

Shipped, with `event_envelope.py` and `metrics.py`, in every StreamProcessor's asset:

    from event_consumer import process

    def handler(kinesis_event, context):
        return process(kinesis_event, on_event, context=context)

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

With event contracts shipped (the app's `contracts`, compiled at synth for the processor's
event types), each event is checked against the version its `tags.contract` names (the
newest without it) before `handle`. A violation can never succeed on a retry, so it neither
blocks the shard nor is dropped: the record (shard, sequence number, data) and the violation
go to the processor's dead-letter queue as one message, counted in the `ContractViolations`
metric, and the records behind it are handled. If that message cannot be sent, the record
fails as a `handle` would, and Lambda retries from it.

A transient fault (a throttled or timed-out write) costs a retry in place, not a trip
through Lambda: `handle` is called again up to `retries` times (StreamProcessor's
`handler_retries`, default 2) after a jittered exponential backoff ("full jitter", AWS
Architecture Blog, "Exponential Backoff And Jitter": a random wait of up to 0.1 s, then up
to 0.2 s), as long as the invocation has the time (`context`), before the record is
reported. Lambda's own retry of a reported record waits a second or more and, as its docs
read ("Lambda treats all other results as a complete failure and retries processing the
batch up to the retry limit"), may count against MaximumRetryAttempts: enough transient
faults in one batch would then send good records to the dead-letter queue. Exceptions that
give the same answer for the same event (a ValueError, KeyError, TypeError, ...: bad data or
a bug) are not retried in place, and a record whose in-place retries ran out is remembered
in this execution environment and tried once when Lambda delivers it again: a poison record
reaches the dead-letter queue as fast as without in-place retries.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_contracts import Contracts, ContractViolation
    from .event_envelope import decode
    from .metrics import CONTRACT_VIOLATIONS_METRIC, UNREADABLE_METRIC, emf_line
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import decode
    from metrics import CONTRACT_VIOLATIONS_METRIC, UNREADABLE_METRIC, emf_line

    try:  # shipped only when the app has event contracts
        from event_contracts import Contracts, ContractViolation
    except ImportError:
        Contracts = None  # type: ignore[assignment,misc]

# The event types the StreamProcessor's filter lets through (a JSON array), set by the
# construct; `process` skips any other type as a second guard behind the filter.
EVENT_TYPES_ENV = "EVENT_TYPES"
# Where a contract violation goes (set by the construct: the processor's dead-letter queue).
VIOLATIONS_QUEUE_ENV = "CONTRACT_VIOLATIONS_QUEUE_URL"
# How many times a failing `handle` is retried in place (set by the construct from
# StreamProcessor's `handler_retries`); DEFAULT_RETRIES when unset.
RETRIES_ENV = "HANDLER_RETRIES"
DEFAULT_RETRIES = 2
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 2.0  # seconds: the cap of the first wait, and of any
# Exceptions that answer the same for the same event: retrying in place cannot help.
DETERMINISTIC = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    NameError,
    NotImplementedError,
    TypeError,
    ValueError,
)
# Time an invocation keeps after a retry in place, beyond the attempt itself, for the rest.
TIME_RESERVE_S = 1.0
REMEMBERED = 1000  # records whose in-place retries ran out, remembered per environment

_sleep = time.sleep  # the tests' fake clock replaces these two
_jitter = random.random
_gave_up: OrderedDict[tuple[str, str], None] = OrderedDict()
_shipped: list[Any] = []  # [the asset's Contracts or None], looked up once per environment
_sqs: list[Any] = []  # the SQS client, made at the first violation

logger = logging.getLogger("event_consumer")


def process(
    kinesis_event: dict[str, Any],
    handle: Callable[[dict[str, Any]], Any],
    *,
    types: Collection[str] | None = None,
    retries: int | None = None,
    context: Any = None,
) -> dict[str, list[dict[str, str]]]:
    """Run `handle` once per wanted envelope of a Lambda Kinesis event, in record order.

    `types`: the event types to handle; None means those in the `EVENT_TYPES` environment
    variable (the processor's filter), or every type when it is unset. `retries`: how many
    times a failing `handle` is retried in place before the record is reported; None means
    the `HANDLER_RETRIES` environment variable, else 2; 0 never retries in place.
    `context`: the invocation's Lambda context; with it, no retry in place starts unless the
    invocation has the time left. Answers Lambda's partial batch response:
    `{"batchItemFailures": []}` when every record is done, else the sequence number of the
    record whose `handle` failed.
    """
    records = kinesis_event.get("Records") if isinstance(kinesis_event, dict) else None
    if not isinstance(records, list):
        raise ValueError('kinesis_event: not a Lambda Kinesis event (no "Records" list)')
    wanted = _wanted_types() if types is None else set(types)
    retries = _retries() if retries is None else retries
    contracts = _contracts()
    unreadable = 0
    violations = 0
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
                if contracts is not None and not _keeps_contract(contracts, envelope, record):
                    violations += 1
                    handled += 1  # the message holds it: the shard moves on
                    continue
                _handle_with_retries(handle, envelope, where, retries, context)
            except Exception:
                fields = {**where, "id": envelope["id"], "type": envelope["type"]}
                if not handled:
                    logger.exception("handler failed; Lambda splits the batch", extra=fields)
                    raise
                logger.exception("handler failed; Lambda retries from this record", extra=fields)
                return {"batchItemFailures": [{"itemIdentifier": where["sequenceNumber"]}]}
            handled += 1
        return {"batchItemFailures": []}
    finally:
        function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        for metric, count in (
            (UNREADABLE_METRIC, unreadable),
            (CONTRACT_VIOLATIONS_METRIC, violations),
        ):
            if count:
                print(
                    emf_line(metric, count, function_name=function_name, level="ERROR"), flush=True
                )


def _contracts() -> Any:
    if not _shipped:
        _shipped.append(Contracts.shipped() if Contracts is not None else None)
    return _shipped[0]


def _keeps_contract(contracts: Any, envelope: dict[str, Any], record: dict[str, Any]) -> bool:
    """True when the event keeps its contract; else its record and the violation are sent to
    the dead-letter queue (an error sending raises, and the record fails)."""
    try:
        contracts.check_tagged(envelope)
        return True
    except ContractViolation as violation:
        where = _where(record)
        logger.error(
            "contract violation: %s; the record goes to the dead-letter queue",
            violation,
            extra={**where, "id": envelope["id"], "type": envelope["type"]},
        )
        message = {
            "contractViolation": {
                "violation": str(violation),
                "type": envelope["type"],
                "id": envelope["id"],
                "functionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
                "eventSourceARN": record.get("eventSourceARN", ""),
                "shardId": where["shardId"],
                "sequenceNumber": where["sequenceNumber"],
                "partitionKey": record["kinesis"].get("partitionKey", ""),
                "approximateArrivalTimestamp": record["kinesis"].get("approximateArrivalTimestamp"),
                "data": record["kinesis"]["data"],
            }
        }
        if not _sqs:
            import boto3  # the Lambda runtime's; only when a violation is sent

            _sqs.append(boto3.client("sqs"))
        _sqs[0].send_message(
            QueueUrl=os.environ[VIOLATIONS_QUEUE_ENV], MessageBody=json.dumps(message)
        )
        return False


def _handle_with_retries(
    handle: Callable[[dict[str, Any]], Any],
    envelope: dict[str, Any],
    where: dict[str, str],
    retries: int,
    context: Any,
) -> None:
    """`handle(envelope)`, retried in place on a fault that may pass; raises the last error."""
    record = (where["shardId"], where["sequenceNumber"])
    if record in _gave_up:  # ran out of retries here before: Lambda is retrying it now
        retries = 0
    for attempt in range(retries + 1):
        started = time.monotonic()
        try:
            handle(envelope)
        except DETERMINISTIC:
            raise
        except Exception as error:
            # Full jitter: a random wait of up to BACKOFF_FIRST * 2^attempt.
            wait = _jitter() * min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt)
            spent = time.monotonic() - started
            if attempt == retries or not _time_left(context, wait + spent + TIME_RESERVE_S):
                if retries:
                    _remember(record)
                raise
            logger.warning(
                "handler failed (%s: %s); retrying in place in %.2f s (retry %d of %d)",
                type(error).__name__,
                error,
                wait,
                attempt + 1,
                retries,
                extra={**where, "id": envelope["id"]},
            )
            _sleep(wait)
        else:
            _gave_up.pop(record, None)
            return


def _time_left(context: Any, needed: float) -> bool:
    """Whether the invocation has `needed` seconds left (always, without a context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is None or remaining() / 1000 >= needed


def _remember(record: tuple[str, str]) -> None:
    _gave_up[record] = None
    while len(_gave_up) > REMEMBERED:
        _gave_up.popitem(last=False)


def _retries() -> int:
    raw = os.environ.get(RETRIES_ENV)
    return int(raw) if raw else DEFAULT_RETRIES


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
