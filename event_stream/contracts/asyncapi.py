"""An AsyncAPI 3.0 document of a stage's event stream from its contracts: the stream is the
channel, each type and version a message whose payload is the envelope around the
contract's body, with an example. AsyncAPI has no Kinesis binding; the stream's name and
the partition key are said in the channel's and the messages' descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from event_stream.config import DEFAULT_SERVICE, stream_name
from event_stream.contracts.examples import example
from event_stream.contracts.files import DRAFT_07, Contract, resolve

ENVELOPE_PROPERTIES = {
    "id": {"type": "string", "description": "unique per event; a re-sent event keeps it"},
    "type": {"type": "string"},
    "timestamp": {"type": "integer", "description": "epoch milliseconds"},
    "partitionKey": {"type": "string", "description": "the Kinesis partition key"},
    "tags": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "always `region`; `contract`: the version the event was checked against",
    },
}


def document(
    contracts: Mapping[str, list[Contract]], *, stage: str, service: str = DEFAULT_SERVICE
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `stage`'s stream and `contracts`."""
    messages: dict[str, Any] = {}
    for versions in contracts.values():
        for contract in versions:
            messages[_key(contract)] = _message(contract)
    channel = stream_name(stage, service)
    references = {key: {"$ref": f"#/components/messages/{key}"} for key in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{service} ({stage})",
            "version": "1.0.0",
            "description": (
                f"The events of stage {stage!r}: every event is an envelope (id, type, "
                "timestamp, partitionKey, tags) around a body its type's contract describes."
            ),
        },
        "channels": {
            "events": {
                "address": channel,
                "title": f"Kinesis stream {channel}",
                "description": "Ordered per partition key within a shard; delivered at least once.",
                "messages": references,
            }
        },
        "operations": {
            "publishEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/events"},
                "summary": f"publish through {service}-{stage}-publish or -publish-batch",
                "messages": [{"$ref": f"#/channels/events/messages/{key}"} for key in messages],
            },
            "consumeEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "a StreamProcessor's function, through an event source mapping",
                "messages": [{"$ref": f"#/channels/events/messages/{key}"} for key in messages],
            },
        },
        "components": {"messages": messages},
    }


def _key(contract: Contract) -> str:
    return f"{contract.type}.v{contract.version}"


def _message(contract: Contract) -> dict[str, Any]:
    body = contract.schema
    draft07 = str(body.get("$schema", "")).rstrip("#") == DRAFT_07
    payload = {
        "allOf": [
            {
                "type": "object",
                "properties": {
                    **ENVELOPE_PROPERTIES,
                    "type": {"const": contract.type},
                },
                "required": list(ENVELOPE_PROPERTIES),
            },
            {
                k: _inlined(v, body)
                for k, v in body.items()
                if k not in ("$schema", "$defs", "definitions", "additionalProperties")
            },
        ]
    }
    envelope = {
        "id": "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "type": contract.type,
        "timestamp": 1764979200000,
        "partitionKey": "4b8a1d5e-0c6f-4a57-9e1f-2f0d9c3a7b61",
        "tags": {"region": "us-east-1", "contract": contract.name},
    }
    body_example = example(body)
    return {
        "name": contract.type,
        "title": f"{contract.type} v{contract.version}",
        "summary": body.get("description") or body.get("title") or contract.type,
        "contentType": "application/json",
        "payload": {
            "schemaFormat": "application/schema+json;version="
            + ("draft-07" if draft07 else "2020-12"),
            "schema": payload,
        },
        "examples": [
            {
                "name": f"{contract.type}-v{contract.version}",
                "payload": {**envelope, **(body_example if isinstance(body_example, dict) else {})},
            }
        ],
    }


def _inlined(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """`node` with the contract's local `$ref`s replaced by what they point at: in the
    document, `#/...` would point into the document itself."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and depth < 16:
            target = resolve(root, node["$ref"])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inlined(
                {**(target if isinstance(target, dict) else {}), **rest}, root, depth + 1
            )
        return {k: _inlined(v, root, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, root, depth) for v in node]
    return node
