"""The library's import hygiene: what importing it does to the importing process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
before, path = set(sys.modules), list(sys.path)
import event_stream
from event_stream import StageConfig
{extra}
added = sorted(set(sys.modules) - before)
print(json.dumps({{"path_same": path == sys.path, "added": added}}))
"""


def probe(tmp_path: Path, extra: str = "") -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(extra=extra)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def foreign(added: list[str]) -> list[str]:
    """Modules outside the package and the standard library."""
    return [
        name
        for name in added
        if not name.startswith("event_stream") and name.split(".")[0] not in sys.stdlib_module_names
    ]


def test_importing_the_library_leaves_sys_path_and_other_modules_alone(tmp_path):
    seen = probe(tmp_path)
    assert seen["path_same"]
    assert foreign(seen["added"]) == []


def test_the_library_never_imports_the_developer_tools(tmp_path):
    seen = probe(
        tmp_path,
        "from event_stream import EventStream, EventStreamStack, StreamProcessor, import_stream",
    )
    assert not [name for name in seen["added"] if name.startswith("event_stream.tools")]


@pytest.mark.parametrize("own", ["handler", "publisher", "event_envelope"])
def test_an_apps_own_module_named_like_a_lambda_file_stays_its_own(tmp_path, own):
    (tmp_path / f"{own}.py").write_text("OWN = True\n")
    seen = probe(tmp_path, f"import {own}; assert {own}.OWN")
    assert seen["path_same"]


def test_the_cli_loads_no_cdk_until_a_command_synthesizes(tmp_path):
    # aws_cdk costs about a second and prints jsii's banner on Node 20.
    seen = probe(tmp_path, "import event_stream.tools.cli, event_stream.tools.local.server")
    assert not [name for name in seen["added"] if name.startswith(("aws_cdk", "jsii"))]


LAMBDA_MODULES = ("handler", "publisher", "event_envelope", "event_consumer", "metrics")


def test_each_lambda_module_has_one_name_in_a_process_that_uses_everything(tmp_path):
    # Library, tools and the Lambda code side by side: an `except InvalidEvent` written on
    # one side must catch what the other side raises, so each module loads once.
    seen = probe(
        tmp_path,
        "import os; os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')\n"
        "from event_stream import StreamProcessor\n"
        "import event_stream.tools.cli, event_stream.tools.local.server\n"
        "from event_stream.lambda_src import handler, event_consumer",
    )
    assert [name for name in seen["added"] if name in LAMBDA_MODULES] == []
    assert {f"event_stream.lambda_src.{name}" for name in LAMBDA_MODULES} <= set(seen["added"])


def test_the_repository_holds_no_symbolic_link():
    root = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(
        ["git", "ls-files", "-s"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert [line for line in tracked.splitlines() if line.startswith("120000")] == []
