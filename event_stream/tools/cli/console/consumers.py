"""A consumer's page (its event source mappings: state, filter, batch size, how far behind,
batches in flight, the last result and error, recent log lines) and its dead letters, with
redrive. Dead letters are read and redriven by the same parts as `dlq`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from event_stream.tools.actions.redrive import READ_AHEAD, read_ahead, redrive_queue
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.invoke import lambda_invoker
from event_stream.tools.cli.output import log_line
from event_stream.tools.cli.target import INVOKE_CONFIG
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.wire import PollerStatus
from event_stream.tools.local import status as local_status
from event_stream.tools.readers import dead_letters

LOG_LINES = 30  # the function's most recent log lines shown
LOG_MINUTES = 30


def consumer(context: ConsoleContext, function: str) -> dict[str, Any]:
    """The function's event source mappings and recent log lines."""
    lambda_client = context.client("lambda")
    try:
        pages = lambda_client.get_paginator("list_event_source_mappings").paginate(
            FunctionName=function
        )
        raw = [m for page in pages for m in page["EventSourceMappings"]]
    except lambda_client.exceptions.ResourceNotFoundException:
        raise UserError(f"there is no function {function}") from None
    local = _local_mappings(context)
    mappings = []
    for mapping in raw:
        shards = local.get(mapping["UUID"], {}).get("shards", [])
        filters = [f["Pattern"] for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {})
        mappings.append(
            {
                "uuid": mapping["UUID"],
                "source": mapping.get("EventSourceArn", ""),
                "state": mapping.get("State", ""),
                "batchSize": mapping.get("BatchSize"),
                "startingPosition": mapping.get("StartingPosition"),
                "filters": filters,
                "onFailure": destination.get("Destination"),
                "lastProcessingResult": mapping.get("LastProcessingResult", ""),
                "iteratorAgeMs": _iterator_age(context, function),
                # The local AWS's poller says these per shard; AWS reports none of them.
                "recordsBehind": _total(shards, "recordsBehind"),
                "batchesInFlight": _total(shards, "batchesInFlight"),
                "shards": shards,
            }
        )
    return {
        "function": function,
        "mappings": mappings,
        "logs": _recent_logs(context, function),
        "local": context.local_state is not None,
    }


def _local_mappings(context: ConsoleContext) -> dict[str, Any]:
    if context.local_state is None:
        return {}
    status: PollerStatus | None = local_status.read(context.local_state, local_status.MAPPINGS_FILE)
    return {m["uuid"]: m for m in (status or {"mappings": []})["mappings"]}


def _total(shards: list[dict[str, Any]], key: str) -> int | None:
    values = [shard[key] for shard in shards if key in shard]
    return sum(values) if values else None


def _iterator_age(context: ConsoleContext, function: str) -> int | None:
    """Lambda's `IteratorAge` metric for the function (ms; "the age of the last record in
    the event"), its newest one-minute maximum over the last five minutes; None without
    data (the local AWS publishes no Lambda metrics: its poller's own figures are shown)."""
    now = datetime.now(UTC)
    points = context.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    if not points:
        return None
    return int(max(points, key=lambda p: p["Timestamp"])["Maximum"])


def _recent_logs(context: ConsoleContext, function: str) -> list[str]:
    logs = context.client("logs")
    start = int((time.time() - LOG_MINUTES * 60) * 1000)
    try:
        events: list[dict[str, Any]] = []
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}", startTime=start
        )
        for page in pages:
            events += page["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    events.sort(key=lambda e: (e["timestamp"], e["eventId"]))
    return [log_line(event) for event in events[-LOG_LINES:]]


def dead_letter_list(context: ConsoleContext, function: str) -> dict[str, Any]:
    """The function's failed batches (and contract violations) with their events; every
    message stays queued."""
    sqs = context.client("sqs")
    consumer_ = dead_letters.consumer_of(context.client("lambda"), sqs, function)
    messages = dead_letters.receive_all(sqs, consumer_.queue_url)
    fetch = _fetcher(context, consumer_)
    try:
        batches = list(read_ahead(fetch, messages, READ_AHEAD))
    finally:
        for message in messages:
            dead_letters.release(sqs, consumer_.queue_url, message)
    return {
        "function": function,
        "queue": consumer_.queue_url,
        "batches": [batch.summary() for batch in batches],
    }


def redrive(context: ConsoleContext, function: str, message_id: str | None) -> dict[str, Any]:
    """Redrive one message (by id) or all of them, as `dlq --redrive` does."""
    sqs, lambda_client = context.client("sqs"), context.client("lambda")
    consumer_ = dead_letters.consumer_of(lambda_client, sqs, function)
    messages = dead_letters.receive_all(sqs, consumer_.queue_url)
    chosen = [m for m in messages if message_id in (None, m["MessageId"])]
    for message in messages:
        if message not in chosen:
            dead_letters.release(sqs, consumer_.queue_url, message)
    if message_id is not None and not chosen:
        raise UserError(f"message {message_id} is not in the dead-letter queue of {function}")
    role = lambda_client.get_function_configuration(FunctionName=function)["Role"]
    invoke = lambda_invoker(context.client("lambda", INVOKE_CONFIG), function)
    outcomes = redrive_queue(
        sqs,
        consumer_,
        chosen,
        _fetcher(context, consumer_),
        invoke,
        region=context.target.region,
        role_arn=role,
    )
    return {
        "function": function,
        "results": [
            {
                "messageId": o.batch.message_id,
                "redriven": o.succeeded,
                "result": o.result,
                "events": len(o.batch.records),
            }
            for o in outcomes
        ],
    }


def _fetcher(context: ConsoleContext, consumer_: dead_letters.Consumer) -> Any:
    kinesis = context.client("kinesis")
    lake = dead_letters.lake_source(
        context.client("cloudformation"), context.client("s3"), consumer_.mapping.stream_arn
    )
    return lambda message: dead_letters.failed_batch(kinesis, consumer_, message, lake)
