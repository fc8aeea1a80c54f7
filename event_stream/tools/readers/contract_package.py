"""Event contracts as a function runs them, on the developer side: the generated validator
package (`event_contracts_generated`, see `event_stream/contracts/compiler.py`) loaded from a
folder or from a deployed function's own code. Its modules are loaded from their files under
names of their own: nothing is added to `sys.path` or left in `sys.modules`, so another
folder's package can be loaded next."""

from __future__ import annotations

import importlib.util
import io
import itertools
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from event_stream.contracts.compiler import PACKAGE
from event_stream.lambda_src.event_contracts import STRICT_ENV, Contracts
from event_stream.tools.readers.deployed import fetch_function

_loads = itertools.count()


def from_folder(folder: Path, *, strict: bool) -> Contracts | None:
    """The contracts of the package under `folder`, or None if it holds none; each
    validator is loaded the first time its type is checked, so keep the folder until then."""
    package = folder / PACKAGE
    if not (package / "__init__.py").is_file():
        return None
    index = _load(package / "__init__.py")
    return Contracts(index.MODULES, strict=strict, load=lambda name: _load(package / f"{name}.py"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{PACKAGE}_{next(_loads)}", path)
    assert spec is not None and spec.loader is not None  # a .py file
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        yield from_folder(Path(out), strict=function.environment.get(STRICT_ENV) == "true")
