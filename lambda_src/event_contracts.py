"""Event contracts at run time: an event's body checked against its type's contract. Stdlib
only.

The validators are generated at synth (`event_stream/contracts/compiler.py`) into the package
`event_contracts_generated`, shipped beside this module; each is imported the first time its
type is seen. The body is the event without the envelope's fields, which `event_envelope.py`
checks for every event. A violation names the type, the version and the JSON path:
`thing-created v2: /name: must be string`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

try:  # on the developer side, as the package event_stream.lambda_src
    from .event_envelope import RESERVED_FIELDS, InvalidEvent
except ImportError:  # in Lambda, the asset's files are top-level modules
    from event_envelope import RESERVED_FIELDS, InvalidEvent

PACKAGE = "event_contracts_generated"
STRICT_ENV = "CONTRACTS_STRICT"  # "true": refuse an event whose type has no contract
TAG = "contract"  # tags.contract = "<type>/v<N>": the version an event was checked against
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


class ContractViolation(InvalidEvent):
    """An event whose body breaks its type's contract (or has none, when contracts are
    strict); the message names the type, the version and the path."""


class Contracts:
    """The contracts shipped with a function: `modules` maps type -> version -> module of the
    generated package (its `MODULES`)."""

    def __init__(
        self,
        modules: dict[str, dict[int, str]],
        *,
        strict: bool = False,
        load: Callable[[str], ModuleType] | None = None,
    ) -> None:
        self.modules = modules
        self.strict = strict
        # How a validator module is had by name: imported from the package, as in Lambda,
        # unless the developer side loads it from elsewhere.
        self.load = load or (lambda name: importlib.import_module(f"{PACKAGE}.{name}"))
        self._loaded: dict[str, ModuleType] = {}

    @classmethod
    def shipped(cls, *, strict: bool | None = None) -> Contracts | None:
        """The contracts in this function's asset, or None when it ships none; `strict`
        None means the `CONTRACTS_STRICT` environment variable (the app's contractsStrict)."""
        try:
            index = importlib.import_module(PACKAGE)
        except ImportError:
            return None
        if strict is None:
            strict = os.environ.get(STRICT_ENV) == "true"
        return cls(index.MODULES, strict=strict)

    def newest(self, event_type: str) -> int | None:
        versions = self.modules.get(event_type)
        return max(versions) if versions else None

    def check(self, envelope: dict[str, Any], version: int | None = None) -> str | None:
        """Validate `envelope`'s body against its type's contract, version `version` (the
        newest if None); answers the contract's name (`thing-created/v2`), None for a type
        without a contract when not strict. Raises ContractViolation."""
        event_type = envelope["type"]
        versions = self.modules.get(event_type)
        if not versions:
            if self.strict:
                raise ContractViolation(f"{event_type}: no contract for this type (strict)")
            return None
        version = version or max(versions)
        if version not in versions:
            raise ContractViolation(
                f"{event_type} v{version}: no such version of the contract "
                f"(this function has v{', v'.join(str(v) for v in sorted(versions))})"
            )
        module = self._module(versions[version])
        body = {k: v for k, v in envelope.items() if k not in RESERVED_FIELDS}
        try:
            module.validate(body)
        except module.JsonSchemaValueException as error:
            raise ContractViolation(f"{event_type} v{version}: {_pointed(str(error))}") from None
        return f"{event_type}/v{version}"

    def check_tagged(self, envelope: dict[str, Any]) -> str | None:
        """Validate against the version the event's `tags.contract` names (the newest for
        an event without it), as a consumer does."""
        tag = envelope.get("tags", {}).get(TAG)
        version = None
        if isinstance(tag, str) and tag.startswith(f"{envelope['type']}/v"):
            suffix = tag.rsplit("/v", 1)[1]
            version = int(suffix) if suffix.isdigit() else None
        return self.check(envelope, version)

    def _module(self, name: str) -> ModuleType:
        if name not in self._loaded:
            self._loaded[name] = self.load(name)
        return self._loaded[name]


def _pointed(message: str) -> str:
    """fastjsonschema's `data.items[0].sku must be string` as `/items/0/sku: must be string`."""
    name, _, rest = message.partition(" ")
    if not name.startswith("data"):
        return message
    steps = [key or index for key, index in _STEP.findall(name[4:])]
    return "/" + "/".join(steps) + ": " + rest
