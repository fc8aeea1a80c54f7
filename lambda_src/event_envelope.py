"""The standard event envelope: build, validate, encode, decode. Stdlib only.

Every event in the system carries `id`, `type`, `timestamp` (epoch ms), `partitionKey` (V4
UUID unless the caller gives one) and `tags` (always with `region`); the caller's other
fields ride along unchanged. The default `id`, inside a Lambda invocation, is a name-based
UUID (version 5) of the function name, the invocation's request id and the event's position
in the input: Lambda may deliver one asynchronous invocation more than once, and its copies
then publish the same ids, which consumers can recognise. Outside Lambda (the CLI, replay) it
is a fresh V1 UUID, as the original recipe's. This module is also the one home of the
Kinesis record limits, which the publisher, the CDK side and the tests read from here.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Kinesis Data Streams limits (AWS documentation).
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024  # partition key + data, per record
LARGEST_MAX_RECORD_BYTES = 10 * 1024 * 1024  # what a stream can opt into (MaxRecordSizeInKiB)
MAX_PARTITION_KEY_CHARS = 256
PUT_RECORDS_MAX_RECORDS = 500
PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024

# The envelope's fields, each with the JSON type `build` writes and `decode` requires.
RESERVED_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "type": (str,),
    "timestamp": (int, float),
    "partitionKey": (str,),
    "tags": (dict,),
}
# The namespace of the name-based default ids (a fixed value: ids must not change between
# deployments, or a re-delivered invocation would no longer repeat them).
ID_NAMESPACE = uuid.UUID("6f0c1f5e-2b1a-5c4e-9f3d-0c2e7a9b8d41")


@dataclass(frozen=True)
class Invocation:
    """The Lambda invocation an event is published from: what makes its default id."""

    function_name: str
    request_id: str

    def event_id(self, position: int) -> str:
        """The default id of the event at `position` in this invocation's input."""
        return str(uuid.uuid5(ID_NAMESPACE, f"{self.function_name}/{self.request_id}/{position}"))


class InvalidEvent(ValueError):
    """An event that cannot be published; the message names the offending field."""


@dataclass(frozen=True)
class Record:
    """One envelope ready for Kinesis: the envelope, its encoded data and its size."""

    envelope: dict[str, Any]
    data: bytes

    @property
    def partition_key(self) -> str:
        return str(self.envelope["partitionKey"])

    @property
    def size(self) -> int:
        """Bytes Kinesis counts against the record limit: partition key (UTF-8) + data."""
        return len(self.partition_key.encode("utf-8")) + len(self.data)


def build(
    event: Any,
    *,
    region: str,
    now_ms: int | None = None,
    invocation: Invocation | None = None,
    position: int = 0,
) -> dict[str, Any]:
    """Wrap a caller's event object in the envelope, or raise `InvalidEvent`.

    `invocation` and `position`: the Lambda invocation publishing it and the event's place
    in its input, for the default id (absent: a fresh V1 UUID)."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event: must be a JSON object, got {_json_type(event)}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent("type: required, must be a non-empty string")
    event_id = event.get("id", _MISSING)
    if event_id is _MISSING:
        event_id = invocation.event_id(position) if invocation else str(uuid.uuid1())
    elif not isinstance(event_id, str) or not event_id:
        raise InvalidEvent("id: must be a non-empty string when given")
    timestamp = event.get("timestamp", _MISSING)
    if timestamp is _MISSING:
        timestamp = int(time.time() * 1000) if now_ms is None else now_ms
    elif not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise InvalidEvent("timestamp: must be an integer (epoch milliseconds) when given")
    partition_key = event.get("partitionKey", _MISSING)
    if partition_key is _MISSING:
        partition_key = str(uuid.uuid4())
    elif not isinstance(partition_key, str) or not (
        1 <= len(partition_key) <= MAX_PARTITION_KEY_CHARS
    ):
        raise InvalidEvent(
            f"partitionKey: must be a string of 1-{MAX_PARTITION_KEY_CHARS} characters when given"
        )
    caller_tags = event.get("tags", {})
    if not isinstance(caller_tags, dict):
        raise InvalidEvent("tags: must be an object of string values")
    for key, value in caller_tags.items():
        if not isinstance(value, str):
            raise InvalidEvent(f"tags.{key}: must be a string, got {_json_type(value)}")
    envelope = {
        "id": event_id,
        "type": event_type,
        "timestamp": timestamp,
        "partitionKey": partition_key,
        "tags": {"region": region, **caller_tags},
    }
    for key, value in event.items():
        if key not in envelope:
            envelope[key] = value
    return envelope


def encode(envelope: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; a value JSON cannot carry raises `InvalidEvent` naming its field."""
    try:
        return json.dumps(
            envelope, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError):
        raise InvalidEvent(f"{_first_unencodable(envelope)}: not a JSON value") from None


def prepare(
    event: Any,
    *,
    region: str,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    now_ms: int | None = None,
    invocation: Invocation | None = None,
    position: int = 0,
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> Record:
    """Build, encode and size-check one event: what the publisher sends, or `InvalidEvent`.

    `check`: the event contracts' (`event_contracts.Contracts.check`): raises for a body that
    breaks its type's contract, else answers the contract checked against, which the envelope
    records in `tags.contract`."""
    envelope = build(event, region=region, now_ms=now_ms, invocation=invocation, position=position)
    if check is not None:
        try:
            checked = check(envelope)
        except InvalidEvent as violation:  # "thing-created v2: /name: must be string"
            raise InvalidEvent(f"event: {violation}") from None
        if checked:
            envelope["tags"]["contract"] = checked
    record = Record(envelope, encode(envelope))
    if record.size > max_record_bytes:
        raise InvalidEvent(
            f"event: partitionKey + data is {record.size} bytes, over the stream's record "
            f"limit of {max_record_bytes} bytes"
        )
    return record


def prepare_all(
    events: list[Any],
    *,
    region: str,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    invocation: Invocation | None = None,
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> list[Record]:
    """Prepare every event or none: the first invalid one raises, naming its index."""
    records = []
    for index, event in enumerate(events):
        try:
            records.append(
                prepare(
                    event,
                    region=region,
                    max_record_bytes=max_record_bytes,
                    invocation=invocation,
                    position=index,
                    check=check,
                )
            )
        except InvalidEvent as error:
            # "type: ..." becomes "events[3].type: ...", "event: ..." becomes "events[3]: ..."
            field, _, reason = str(error).partition(": ")
            where = f"events[{index}]" + ("" if field == "event" else f".{field}")
            raise InvalidEvent(f"{where}: {reason}") from None
    return records


def decode(data: bytes | str) -> dict[str, Any]:
    """Read one record's data back into the envelope dict (for tail, tests and consumers), or
    raise `InvalidEvent` naming what is wrong: "record: not JSON (...)", "record: must be a
    JSON object, got array", "record.tags: missing" or "record.type: must be a string, got
    number", each followed by "(not an event envelope)"."""
    try:
        envelope = json.loads(data)
    except ValueError as error:  # UnicodeDecodeError included
        raise InvalidEvent(f"record: not JSON ({error}) (not an event envelope)") from None
    if not isinstance(envelope, dict):
        raise InvalidEvent(
            f"record: must be a JSON object, got {_json_type(envelope)} (not an event envelope)"
        )
    for field, types in RESERVED_FIELDS.items():
        value = envelope.get(field, _MISSING)
        if value is _MISSING:
            raise InvalidEvent(f"record.{field}: missing (not an event envelope)")
        if not isinstance(value, types) or isinstance(value, bool):
            raise InvalidEvent(
                f"record.{field}: must be {_JSON_NAMES[types[0]]}, got {_json_type(value)} "
                "(not an event envelope)"
            )
    return envelope


_MISSING = object()
_JSON_NAMES = {str: "a string", int: "a number", dict: "an object"}


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return names.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def _first_unencodable(envelope: dict[str, Any]) -> str:
    for key, value in envelope.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return key
    return "event"
