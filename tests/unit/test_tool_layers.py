"""The developer tools are layered one way, and the folders say so: what models Lambda
imports nothing of the readers, the local AWS or the commands; the readers nothing of the
local AWS or the commands; the actions and the local AWS nothing of each other or of the
commands; the commands sit on top. Checked on every import of every module, including the
ones inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "event_stream" / "tools"
BASE = "base"  # errors.py, arns.py: import nothing of the tools
# The layers each layer may import (its own included).
ALLOWED = {
    BASE: {BASE},
    "lambda_model": {BASE, "lambda_model"},
    "readers": {BASE, "lambda_model", "readers"},
    "actions": {BASE, "lambda_model", "readers", "actions"},
    "local": {BASE, "lambda_model", "readers", "local"},
    "cli": {BASE, "lambda_model", "readers", "actions", "local", "cli"},
}


def layer_of(module: str) -> str:
    """`event_stream.tools.local.invoker` -> `local`; a top-level tools module -> base."""
    part = module.split(".")[2]
    return part if part in ALLOWED else BASE


def imported_tools_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("event_stream.tools.") and name != "event_stream.tools":
                found.add(name)
    return found


def tool_modules() -> list[Path]:
    return sorted(p for p in TOOLS.rglob("*.py") if p.name != "__init__.py" or p.parent != TOOLS)


def test_every_tools_module_is_in_a_known_layer():
    for path in tool_modules():
        relative = path.relative_to(TOOLS)
        layer = relative.parts[0] if len(relative.parts) > 1 else BASE
        assert layer in ALLOWED, f"{relative}: not in a layer the tools know"


@pytest.mark.parametrize("path", tool_modules(), ids=lambda p: str(p.relative_to(TOOLS)))
def test_imports_go_down_the_layers_only(path):
    relative = path.relative_to(TOOLS)
    layer = relative.parts[0] if len(relative.parts) > 1 else BASE
    wrong = {name for name in imported_tools_modules(path) if layer_of(name) not in ALLOWED[layer]}
    assert not wrong, f"{relative} ({layer}) imports {sorted(wrong)}"


def test_the_function_bootstraps_import_nothing_of_the_project():
    # They run inside the function's environment, beside the deployed code only.
    bootstrap = TOOLS / "lambda_model" / "python_bootstrap.py"
    tree = ast.parse(bootstrap.read_text())
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in modules if m and m.startswith("event_stream")}
