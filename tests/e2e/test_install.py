"""The library as another repository gets it: `pip install <this folder>` into a fresh
virtual environment, then `cdk synth` of a consumer app that lives outside this folder.

To keep the tier fast, the fresh environment borrows the already-installed dependencies
(aws-cdk-lib, boto3, moto, ...) through a `.pth` line and installs only this package, with
pip, from this folder; the package's declared dependencies are checked from its metadata.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from event_stream.tools.cli.cdk_cli import QUIET_ENV, cdk_executable
from tests.conftest import FIXTURES, ROOT

CDK = cdk_executable(ROOT)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run(sys.executable, "-m", "venv", str(venv), cwd=venv.parent)
    python = venv / "bin" / "python"
    site = run(
        str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=venv.parent
    )
    (Path(site.strip()) / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # With WITHOUT_EXTRA=1 the borrowed developer-tool packages cannot be imported: the venv
    # then has what `pip install <repo>` alone would give.
    (Path(site.strip()) / "without-extra.pth").write_text(
        "import os, sys; os.environ.get('WITHOUT_EXTRA') and sys.modules.update("
        "dict.fromkeys(('boto3', 'botocore', 'moto', 'tqdm')))\n"
    )
    run(
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--disable-pip-version-check",
        str(ROOT),
        cwd=venv.parent,
    )
    return python


def declared(fresh: Path, extra: str | None) -> set[str]:
    """The package's declared requirements: the library's, or those an extra adds."""
    requires = run(
        str(fresh),
        "-c",
        "from importlib.metadata import requires; print('\\n'.join(requires('cncb-event-stream')))",
        cwd=fresh.parent,
    )
    names = set()
    for line in filter(None, requires.split("\n")):
        requirement, _, marker = line.partition(";")
        wanted = not marker if extra is None else f'extra == "{extra}"' in marker
        if wanted:
            names.add(re.split(r"[<>=\[ ]", requirement.strip())[0])
    return names


def test_the_library_depends_on_aws_cdk_lib_and_constructs_only(fresh):
    assert declared(fresh, None) == {"aws-cdk-lib", "constructs"}


def test_the_local_extra_brings_the_developer_tools(fresh):
    assert declared(fresh, "local") == {
        "boto3",
        "moto",
        "tqdm",
        "jsonschema",
        "fastjsonschema",
        "pyyaml",
        "flask",  # the event console
    }


def test_the_console_ships_its_pages_script_and_stylesheet(fresh):
    shipped = run(
        str(fresh),
        "-c",
        "from importlib.resources import files; "
        "root = files('event_stream.tools.cli.console'); "
        "print(sorted(p.name for d in ('templates', 'static') for p in (root / d).iterdir()))",
        cwd=fresh.parent,
    )
    assert "'console.js'" in shipped and "'console.css'" in shipped
    assert "'records.html'" in shipped and "'base.html'" in shipped


def test_the_contracts_extra_brings_what_a_synth_with_contracts_needs(fresh):
    assert declared(fresh, "contracts") == {"jsonschema", "fastjsonschema"}


def test_the_cli_without_the_extra_names_it_in_one_line(fresh):
    result = subprocess.run(
        [str(fresh.parent / "event-stream"), "local", "status"],
        cwd=fresh.parent,
        env={**os.environ, "WITHOUT_EXTRA": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the developer tools need the 'local' extra")
    assert line.endswith('pip install "cncb-event-stream[local]"')


def test_the_lambda_files_are_package_data_outside_this_folder(fresh):
    where = run(
        str(fresh),
        "-c",
        "import event_stream.runtime as r, json; print(json.dumps([str(r.LAMBDA_SRC), sorted(p.name for p in r.LAMBDA_SRC.glob('*.py'))]))",
        cwd=fresh.parent,
    )
    folder, files = json.loads(where)
    assert not folder.startswith(str(ROOT)) and "site-packages" in folder
    assert {"handler.py", "event_envelope.py", "publisher.py"} <= set(files)


def test_the_cli_is_installed_as_a_command(fresh):
    assert "local,info,invoke" in run(
        str(fresh.parent / "event-stream"), "--help", cwd=fresh.parent
    )


def test_cdk_synth_of_a_consumer_app_outside_this_folder(fresh, tmp_path):
    app = tmp_path / "consumer-repo"
    app.mkdir()
    shutil.copytree(FIXTURES / "installed_app", app, dirs_exist_ok=True)
    # A consumer's own module named like one of the Lambda files must stay its own.
    (app / "handler.py").write_text("OWN = True\n")
    # Without the extra: the synth must need neither boto3 nor the tools.
    env = {**os.environ, **QUIET_ENV, "WITHOUT_EXTRA": "1"}
    env.pop("PYTHONPATH", None)
    run(
        str(CDK),
        "synth",
        "--app",
        f"{fresh} app.py",
        "--output",
        str(tmp_path / "out"),
        "--quiet",
        cwd=app,
        env=env,
    )
    template = json.loads(
        (tmp_path / "out" / "cncb-event-stream-elsewhere.template.json").read_text()
    )
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    # The stage's own functions (CDK's auto-delete provider of the lake bucket has no name).
    assert {f["Properties"].get("FunctionName") for f in functions} - {None} == {
        "cncb-event-stream-elsewhere-publish",
        "cncb-event-stream-elsewhere-publish-batch",
        "cncb-event-stream-elsewhere-lake",
    }
    consumer = json.loads((tmp_path / "out" / "consumer-elsewhere.template.json").read_text())
    (processor,) = [
        r
        for r in consumer["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("FunctionName") == "cncb-stream-processor-elsewhere-listener"
    ]
    asset = (
        tmp_path / "out" / f"asset.{processor['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    )
    assert sorted(p.name for p in asset.iterdir()) == [
        "event_consumer.py",
        "event_envelope.py",
        "handler.py",
        "metrics.py",
    ]


def test_the_node_runtimes_bootstrap_ships_with_the_tools(fresh):
    where = run(
        str(fresh),
        "-c",
        "from event_stream.tools.lambda_model import workers; print(workers.NODE_BOOTSTRAP.is_file(), workers.NODE_BOOTSTRAP)",
        cwd=fresh.parent,
    )
    present, path = where.split()
    assert present == "True" and "site-packages" in path
