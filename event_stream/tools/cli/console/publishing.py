"""The publish page: an event typed in, or an existing record edited, published through the
stage's publisher function (Lambda Invoke), so the envelope rules and the stage's contracts
apply, with their error lines."""

from __future__ import annotations

import json
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.invoke import lambda_invoker
from event_stream.tools.cli.output import function_error
from event_stream.tools.cli.target import INVOKE_CONFIG
from event_stream.tools.errors import UserError
from event_stream.tools.readers.deployed import output
from event_stream.tools.readers.shard_reader import read_range

# Left out of an edited copy, so the publisher gives it its own (the region tag is added
# by the publisher again). Typed back in, they republish the event as the same one.
SET_BY_PUBLISHER = ("id", "timestamp")


def existing_event(context: ConsoleContext, stage: str, shard: str, sequence: str) -> str:
    """A record's event as JSON to edit: its envelope less what the publisher sets."""
    stream_name = output(context.stack(stage), "streamName")
    found = read_range(context.client("kinesis"), stream_name, shard, sequence, sequence)
    if not found:
        raise UserError(f"record {sequence} is not on {shard} of {stream_name} (any more)")
    try:
        event = event_envelope.decode(found[0]["Data"])
    except ValueError as error:
        raise UserError(f"record {sequence} is not an envelope: {error}") from None
    tags = {k: v for k, v in event.get("tags", {}).items() if k != "region"}
    copy = {k: v for k, v in event.items() if k not in (*SET_BY_PUBLISHER, "tags")}
    return json.dumps({**copy, **({"tags": tags} if tags else {})}, indent=2, ensure_ascii=False)


def parse(text: str) -> Any:
    """The event typed into the page, or `UserError` saying why it is not JSON."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise UserError(f"event: not valid JSON: {error}") from None


def publish(context: ConsoleContext, stage: str, event: Any) -> dict[str, Any]:
    """Invoke the stage's publisher with the event; its answer, or `UserError` with the
    publisher's one line (an invalid event is never sent)."""
    function = output(context.stack(stage), "publishFunctionName")
    invocation = lambda_invoker(context.client("lambda", INVOKE_CONFIG), function)(event)
    if invocation.error:
        raise UserError(function_error(function, invocation.error))
    return {"stage": stage, "function": function, "published": invocation.answer}
