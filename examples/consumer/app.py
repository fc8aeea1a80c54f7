#!/usr/bin/env python3
"""Example consumer app: `cdk deploy --context stage=<stage>` after the event stream's."""

import sys

import aws_cdk as cdk
from consumer_stack import ConsumerStack

from event_stream.config import ConfigError

app = cdk.App()
try:
    ConsumerStack(app, stage=app.node.try_get_context("stage") or "dev")
except ConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)
app.synth()
