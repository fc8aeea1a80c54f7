"""An example value of a JSON Schema, for documents: each field its schema allows, filled
with the first value its keywords suggest (`examples`, `const`, `default`, `enum`, a
bound), local `$ref`s followed."""

from __future__ import annotations

from typing import Any

from event_stream.contracts.files import resolve


def example(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """An example instance of `schema` (`root`: the document its `$ref`s point into)."""
    root = root if root is not None else schema
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "$ref" in schema:
        return example(resolve(root, schema["$ref"]), root, depth + 1)
    for keyword in ("examples", "const", "default", "enum"):
        if keyword in schema:
            value = schema[keyword]
            return value[0] if keyword in ("examples", "enum") and value else value
    for keyword in ("oneOf", "anyOf", "allOf"):
        if schema.get(keyword):
            return example(schema[keyword][0], root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object":
        return {
            name: example(sub, root, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example(schema.get("items", {}), root, depth + 1)] * max(
            1, schema.get("minItems", 1)
        )
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        low = low if isinstance(low, int | float) else 0
        above = 1 if "exclusiveMinimum" in schema else 0
        return int(low) + above if kind == "integer" else low + above
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1)) if "minLength" in schema else "string"
    if kind == "boolean":
        return False
    return None
