"""Synthesize a stage once per test session and share the template."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from event_stream.config import StageConfig
from event_stream.processor import StreamProcessor
from event_stream.stack import EventStreamStack
from tests.conftest import FIXTURES

ENV = cdk.Environment(account="123456789012", region="us-east-1")


@dataclass(frozen=True)
class Synthesized:
    """A synthesized stage: the assertions template, its JSON and the assembly folder."""

    template: Template
    json: dict[str, Any]
    directory: str

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(resource_type)


@functools.cache
def synth(config: StageConfig = StageConfig()) -> Synthesized:  # noqa: B008 - frozen, hashable
    """The template of `config`'s stack, built once per process per config."""
    app = cdk.App()
    stack = EventStreamStack(app, config=config, env=ENV)
    assembly = app.synth()
    template = Template.from_stack(stack)
    return Synthesized(template, template.to_json(), assembly.directory)


PROCESSOR_CODE = FIXTURES / "processor_code"


def processor_stack(app: cdk.App, tamper=None, **options: Any) -> cdk.Stack:
    """A consumer stack with one StreamProcessor `orders-john-listener` on stage john."""
    stack = cdk.Stack(app, "consumer", env=ENV)
    settings = {"code_dir": PROCESSOR_CODE, "handler": "handler.handler", **options}
    processor = StreamProcessor(
        stack, "Listener", stage="john", name="listener", service="orders", **settings
    )
    if tamper:
        tamper(processor)
    return stack


def synth_processor(**options: Any) -> Synthesized:
    """A consumer stack's template (call from a module-scoped fixture: it synthesizes)."""
    app = cdk.App()
    stack = processor_stack(app, **options)
    assembly = app.synth()
    template = Template.from_stack(stack)
    return Synthesized(template, template.to_json(), assembly.directory)


def kinesis_actions(template: dict[str, Any]) -> set[str]:
    """Every `kinesis:*` action any IAM policy of the template allows."""
    actions = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                listed = statement["Action"]
                listed = [listed] if isinstance(listed, str) else listed
                actions |= {a for a in listed if a.startswith("kinesis:")}
    return actions
