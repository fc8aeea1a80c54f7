"""The cookbook's stream processor: log every `thing-created` event."""

import logging

from event_consumer import process

logger = logging.getLogger("listener")


def on_event(event):
    # One envelope: id, type, timestamp, partitionKey, tags, and the event's own fields.
    logger.info("thing created", extra={"id": event["id"], "partitionKey": event["partitionKey"]})


def handler(kinesis_event, context):
    return process(kinesis_event, on_event, context=context)
