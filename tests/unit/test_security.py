"""The field's own checkers over the synthesized app: cdk-nag (AwsSolutions) and cfn-lint.

Each check is also run over a deliberately over-privileged variant, so it is known to bite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_iam as iam
from aws_cdk.aws_lambda import StartingPosition
from cdk_nag import AwsSolutionsChecks

from event_stream.config import StageConfig
from event_stream.stack import EventStreamStack
from tests.unit.synth import ENV, kinesis_actions, processor_stack, synth, synth_processor

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).parent / "cfn-lint"

VARIANTS = {
    "dev": StageConfig(),
    "hardened": StageConfig(
        stage="prod",
        on_demand=True,
        tracing=True,
        retain_stream=True,
        retention_hours=168,
        max_record_bytes=4 * 1024 * 1024,
        log_retention_days=365,
        alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:on-call",
    ),
}


def nag_report(config: StageConfig | None, tamper=None, **processor_options) -> dict:
    """Synthesize with the AwsSolutions pack; the validation report's AwsSolutions part.

    `config`: the event stream stack of that stage; None: a consumer stack with one
    StreamProcessor built with `processor_options`.
    """
    directory = Path(tempfile.mkdtemp(prefix="nag-"))
    app = cdk.App(outdir=str(directory))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    if config is None:
        processor_stack(app, tamper=tamper, **processor_options)
    else:
        stack = EventStreamStack(app, config=config, env=ENV)
        if tamper:
            tamper(stack)
    try:
        app.synth()
    except RuntimeError as error:  # an error fails the synth; the report is written first
        assert "ValidationFailed" in str(error)
    report = json.loads((directory / "validation-report.json").read_text())
    plugins = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    # A clean run leaves no plugin report at all; test_nag_bites_* proves the pack runs.
    return plugins[0] if plugins else {"violations": [], "suppressedViolations": []}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def report(request):
    return nag_report(VARIANTS[request.param])


def test_nag_finds_no_violation(report):
    assert report["violations"] == [], json.dumps(report["violations"], indent=1)[:3000]


def test_every_acknowledged_finding_has_a_written_reason(report):
    for finding in report["suppressedViolations"]:
        assert len(finding["reason"]) > 40, finding["ruleName"]


LAKE_ACKNOWLEDGED = {
    "AwsSolutions-S1",
    "AwsSolutions-KDF1",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Resource::<EventLakeBucket08FD9772.Arn>/*]",
    "AwsSolutions-IAM5[Resource::<EventLakeTransformer7FADA69F.Arn>:*]",
}


def test_only_x_ray_and_the_lakes_firehose_grants_are_acknowledged(report):
    rules = {f["ruleName"] for f in report["suppressedViolations"]}
    assert rules <= {"AwsSolutions-IAM5[Resource::*]", *LAKE_ACKNOWLEDGED}


def _wildcard_put(stack):
    stack.event_stream.publish_function.add_to_role_policy(
        iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=["*"])
    )


def test_nag_bites_on_a_wildcard_resource():
    report = nag_report(StageConfig(), tamper=_wildcard_put)
    assert "AwsSolutions-IAM5[Resource::*]" in {v["ruleName"] for v in report["violations"]}


def _tampered_template(tamper) -> dict:
    app = cdk.App()
    stack = EventStreamStack(app, config=StageConfig(lake=False), env=ENV)
    tamper(stack)
    return app.synth().get_stack_by_name(stack.stack_name).template


def test_least_privilege_check_bites_on_grant_write():
    """grant_write passes cdk-nag (no wildcard) but adds ListShards and the other put."""
    both = {"kinesis:PutRecord", "kinesis:PutRecords"}
    assert kinesis_actions(synth(StageConfig(lake=False)).json) == both
    tampered = _tampered_template(
        lambda s: s.event_stream.stream.grant_write(s.event_stream.publish_function)
    )
    assert kinesis_actions(tampered) > both


def cfn_lint(template: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    return subprocess.run(
        [str(CFN_LINT), str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cfn_lint_reports_nothing(variant, tmp_path):
    result = cfn_lint(synth(VARIANTS[variant]).json, tmp_path)
    assert result.returncode == 0, result.stdout


def test_cfn_lint_bites_on_a_broken_template(tmp_path):
    template = json.loads(json.dumps(synth(StageConfig()).json))
    stream = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Kinesis::Stream")
    stream["Properties"]["RetentionPeriodHours"] = 10_000
    result = cfn_lint(template, tmp_path)
    assert result.returncode != 0 and "E3034" in result.stdout


PROCESSOR_VARIANTS = {
    "processor": {"event_types": ["thing-created"]},
    "processor-hardened": {
        "tracing": True,
        "alarm_topic": "arn:aws:sns:us-east-1:123456789012:on-call",
        "starting_position": StartingPosition.AT_TIMESTAMP,
        "starting_position_timestamp": 1764300000.0,
    },
}


@pytest.fixture(scope="module", params=sorted(PROCESSOR_VARIANTS))
def processor_report(request):
    return nag_report(None, **PROCESSOR_VARIANTS[request.param])


def test_nag_finds_no_violation_in_a_stream_processor(processor_report):
    assert processor_report["violations"] == [], json.dumps(processor_report["violations"])[:3000]


def test_processor_acknowledges_only_the_dead_letter_queue_and_x_ray(processor_report):
    rules = {f["ruleName"] for f in processor_report["suppressedViolations"]}
    assert "AwsSolutions-SQS3" in rules
    assert rules <= {"AwsSolutions-SQS3", "AwsSolutions-IAM5[Resource::*]"}
    for finding in processor_report["suppressedViolations"]:
        assert len(finding["reason"]) > 40, finding["ruleName"]


def test_nag_bites_on_an_unencrypted_processor_queue():
    def plain_queue(processor):
        processor.dead_letter_queue.node.default_child.sqs_managed_sse_enabled = False

    report = nag_report(None, tamper=plain_queue)
    assert "AwsSolutions-SQS2" in {v["ruleName"] for v in report["violations"]}


@pytest.mark.parametrize("variant", sorted(PROCESSOR_VARIANTS))
def test_cfn_lint_reports_nothing_on_a_stream_processor(variant, tmp_path):
    result = cfn_lint(synth_processor(**PROCESSOR_VARIANTS[variant]).json, tmp_path)
    assert result.returncode == 0, result.stdout
