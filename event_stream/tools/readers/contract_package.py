"""Event contracts as a function runs them, on the developer side: the generated validator
package (`event_contracts_generated`, see `event_stream/contracts/compiler.py`) made
importable for a while, from a folder or from a deployed function's own code."""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from event_stream.contracts.compiler import PACKAGE
from event_stream.lambda_src.event_contracts import STRICT_ENV, Contracts
from event_stream.tools.readers.deployed import fetch_function


@contextmanager
def importable(folder: Path, *, strict: bool) -> Iterator[Contracts | None]:
    """The contracts of the package under `folder` (None if it holds none), importable
    until the block ends; then forgotten, so another folder's can be imported next."""
    sys.path.insert(0, str(folder))
    try:
        yield Contracts.shipped(strict=strict)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@contextmanager
def deployed(lambda_client: Any, function_name: str) -> Iterator[Contracts | None]:
    """The contracts a deployed function checks with (its code's package and its
    contractsStrict), or None when it was deployed without contracts."""
    function = fetch_function(lambda_client, function_name)
    with tempfile.TemporaryDirectory(prefix="deployed-contracts-") as out:
        with zipfile.ZipFile(io.BytesIO(function.code_zip)) as archive:
            for name in archive.namelist():
                if name.startswith(f"{PACKAGE}/"):
                    archive.extract(name, out)
        strict = function.environment.get(STRICT_ENV) == "true"
        with importable(Path(out), strict=strict) as contracts:
            yield contracts
