#!/usr/bin/env python3
"""Node.js consumer app: `cdk deploy --context stage=<stage>` after the event stream's."""

import aws_cdk as cdk
from node_consumer_stack import NodeConsumerStack

app = cdk.App()
NodeConsumerStack(app, stage=app.node.try_get_context("stage") or "dev")
app.synth()
