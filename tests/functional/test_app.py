"""app.py as the CDK CLI runs it: context in CDK_CONTEXT_JSON, exit status, output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_app(context: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "context,words",
    [
        ({"stage": "john_doe"}, "invalid stage 'john_doe'"),
        ({"stage": "x" * 40}, "at most 32 characters"),
        ({"stage": "prod", "retentionHours": "9000"}, "invalid retentionHours"),
        ({"stage": "prod", "stages": {"prod": ["shardCount"]}}, "invalid context 'stages.prod'"),
        (
            {
                "stage": "john",
                "contracts": "tests/fixtures/contracts",
                "contractsCompatibility": "FULL",
            },
            'thing-created v1 -> v2 breaks FULL: adds field "parts" to a closed schema',
        ),
        ({"stage": "john", "contracts": "nowhere"}, "nowhere: the contracts folder does not exist"),
        (
            {"stage": "john", "contracts": "tests/fixtures/contracts", "contractsStrict": "yes"},
            "invalid context 'contractsStrict' 'yes': true or false",
        ),
    ],
)
def test_bad_context_exits_1_with_one_line_and_writes_nothing(context, words, tmp_path):
    result = run_app(context, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert words in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_compatible_contracts_let_the_synth_through(tmp_path):
    result = run_app({"stage": "john", "contracts": "tests/fixtures/contracts"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cncb-event-stream-john.template.json").exists()


def test_good_stage_writes_its_template(tmp_path):
    result = run_app({"stage": "john"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cncb-event-stream-john.template.json").exists()


# Runs a CDK app as `cdk synth` would, where boto3 and botocore cannot be imported (as on a
# CI image with aws-cdk-lib alone), and lists any AWS SDK module the synth loaded anyway.
WITHOUT_AWS_SDK = """
import runpy, sys
sys.modules.update(dict.fromkeys(("boto3", "botocore")))  # `import boto3` now fails
runpy.run_path("app.py", run_name="__main__")
print([name for name, module in sys.modules.items() if module and name.startswith("boto")])
"""


@pytest.mark.parametrize(
    "app_dir,template",
    [
        (ROOT, "cncb-event-stream-john.template.json"),
        # A consumer app using every construct: EventStream(Stack), StreamProcessor, import_stream.
        (ROOT / "tests" / "fixtures" / "installed_app", "consumer-elsewhere.template.json"),
    ],
    ids=["app", "consumer-app"],
)
def test_synth_imports_no_aws_sdk(app_dir, template, tmp_path):
    if app_dir != ROOT:  # the consumer app expects a module of its own named handler.py
        app_dir = shutil.copytree(app_dir, tmp_path / "app")
        (app_dir / "handler.py").write_text("OWN = True\n")
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"stage": "john"}),
        "CDK_OUTDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_AWS_SDK],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / template).exists()
