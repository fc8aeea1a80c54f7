"""Where an app's contracts are and how they are checked: the CDK context keys `contracts`
(the folder, relative to the folder of the app's `cdk.json`; absent: no contracts),
`contractsStrict` (refuse an event whose type has no contract; default false) and
`contractsCompatibility` (the mode; default BACKWARD). One home for the three keys, read by
the synth and by `event-stream contracts`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from event_stream.contracts.compatibility import DEFAULT_MODE, MODES, check
from event_stream.contracts.compiler import check_compiles
from event_stream.contracts.files import Contract, ContractError, load
from event_stream.lambda_src.event_contracts import STRICT_ENV

__all__ = ["STRICT_ENV", "ContractSettings", "checked"]

FOLDER_KEY, STRICT_KEY, MODE_KEY = "contracts", "contractsStrict", "contractsCompatibility"


@dataclass(frozen=True)
class ContractSettings:
    """An app's contract settings; `folder` None means the app has no contracts."""

    folder: Path | None = None
    strict: bool = False
    mode: str = DEFAULT_MODE

    @classmethod
    def from_context(cls, get: Callable[[str], Any], base: Path) -> ContractSettings:
        """From CDK context (`node.try_get_context`); `base` is the folder of `cdk.json`.
        `--context` values arrive as strings, cdk.json values typed: both are accepted."""
        folder, strict, mode = get(FOLDER_KEY), get(STRICT_KEY), get(MODE_KEY)
        if folder is not None and (not isinstance(folder, str) or not folder):
            raise ContractError(f"invalid context '{FOLDER_KEY}' {folder!r}: a folder path")
        if strict in (None, False, "false"):
            strict = False
        elif strict in (True, "true"):
            strict = True
        else:
            raise ContractError(f"invalid context '{STRICT_KEY}' {strict!r}: true or false")
        mode = DEFAULT_MODE if mode is None else mode
        if mode not in MODES:
            raise ContractError(f"invalid context '{MODE_KEY}' {mode!r}: one of {', '.join(MODES)}")
        return cls(base / folder if folder else None, strict, mode)

    @classmethod
    def from_cdk_json(cls, path: Path) -> ContractSettings:
        """From the `context` of a `cdk.json` file (none: no contracts)."""
        try:
            context = json.loads(path.read_text()).get("context", {})
        except FileNotFoundError:
            return cls()
        except (OSError, json.JSONDecodeError, AttributeError) as error:
            raise ContractError(f"{path}: cannot be read: {error}") from None
        return cls.from_context(context.get, path.parent)


@functools.cache  # once per synth: the stream's construct and every processor ask for them
def checked(settings: ContractSettings) -> dict[str, list[Contract]]:
    """The app's contracts, every file read and every type's versions compared under the
    mode; ContractError with the first problem, in one line (none: no contracts). The
    answer is shared: read it, do not change it."""
    if settings.folder is None:
        return {}
    contracts = load(settings.folder)
    check_compiles(contracts)
    problems = check(contracts, settings.mode)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: event-stream contracts check)" if problems[1:] else ""
        )
        raise ContractError(problems[0] + more)
    return contracts
