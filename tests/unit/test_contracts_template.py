"""The publishers of an app with event contracts: what their asset ships and what their
environment says (the stage synthesized once for the module, with the `contracts` context)."""

from __future__ import annotations

import os

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from event_stream.checks import ConfigError
from event_stream.config import StageConfig
from event_stream.runtime import RUNTIME_FILES
from event_stream.stack import EventStreamStack
from tests.conftest import FIXTURES
from tests.unit.synth import ENV, processor_stack


def synth_with(context):
    app = cdk.App(context=context)
    stack = EventStreamStack(app, config=StageConfig(lake=False, stage="dev"), env=ENV)
    assembly = app.synth()
    return Template.from_stack(stack), assembly.directory


@pytest.fixture(scope="module")
def with_contracts():
    return synth_with({"contracts": str(FIXTURES / "contracts"), "contractsStrict": True})


def functions(template):
    return template.find_resources("AWS::Lambda::Function").values()


def test_the_publishers_asset_ships_the_validators_of_every_version(with_contracts):
    template, directory = with_contracts
    (key,) = {f["Properties"]["Code"]["S3Key"] for f in functions(template)}
    asset = os.path.join(directory, "asset." + key.removesuffix(".zip"))
    assert sorted(os.listdir(asset)) == sorted(
        [*RUNTIME_FILES, "event_contracts.py", "event_contracts_generated"]
    )
    assert sorted(os.listdir(os.path.join(asset, "event_contracts_generated"))) == [
        "__init__.py",
        "thing_created_v1.py",
        "thing_created_v2.py",
        "thing_deleted_v1.py",
    ]


def test_contracts_strict_reaches_the_publishers(with_contracts):
    template, _ = with_contracts
    for function in functions(template):
        assert function["Properties"]["Environment"]["Variables"]["CONTRACTS_STRICT"] == "true"


def test_an_explicit_folder_wins_over_the_context(tmp_path):
    from event_stream.construct import EventStream

    stack = cdk.Stack(cdk.App(context={"contracts": "nowhere"}), "s", env=ENV)
    stream = EventStream(stack, "E", stage="dev", contracts=FIXTURES / "contracts")
    assert sorted(stream.contracts) == ["thing-created", "thing-deleted"]


@pytest.fixture(scope="module")
def consumer():
    app = cdk.App()
    stack = processor_stack(app, contracts=FIXTURES / "contracts", event_types=["thing-created"])
    assembly = app.synth()
    return Template.from_stack(stack), assembly.directory


def test_a_processor_ships_the_validators_of_its_event_types_only(consumer):
    template, directory = consumer
    (function,) = functions(template)
    asset = os.path.join(
        directory, "asset." + function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    )
    assert "event_contracts.py" in os.listdir(asset)
    assert sorted(os.listdir(os.path.join(asset, "event_contracts_generated"))) == [
        "__init__.py",
        "thing_created_v1.py",
        "thing_created_v2.py",
    ]


def test_a_processor_is_told_its_dead_letter_queue_for_violations(consumer):
    template, _ = consumer
    (function,) = functions(template)
    (queue_id,) = template.find_resources("AWS::SQS::Queue")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CONTRACT_VIOLATIONS_QUEUE_URL"] == {"Ref": queue_id}


def test_a_processor_may_send_violations_to_its_queue(consumer):
    template, _ = consumer
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("sqs:SendMessage" in s["Action"] for s in statements)


def test_violations_have_an_alarm(consumer):
    template, _ = consumer
    names = [
        a["Properties"]["MetricName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "MetricName" in a["Properties"]
    ]
    assert "ContractViolations" in names


def test_contracts_without_the_dead_letter_queue_is_one_line():
    with pytest.raises(
        ConfigError, match="contracts send violating events to the processor's dead-letter queue"
    ):
        processor_stack(cdk.App(), contracts=FIXTURES / "contracts", deploy_dead_letter_queue=False)
