#!/usr/bin/env python3
"""Example consumer app: `cdk deploy --context stage=<stage>` after the event stream's."""

import aws_cdk as cdk
from consumer_stack import ConsumerStack

app = cdk.App()
ConsumerStack(app, stage=app.node.try_get_context("stage") or "dev")
app.synth()
