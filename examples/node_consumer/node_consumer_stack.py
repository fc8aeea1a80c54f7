"""A Node.js consumer stack: the cookbook's stream processor on the stage's event stream, a
`StreamProcessor` whose code is `handler/index.js` (with its node_modules): it gets the same
dead-letter queue, record age bound, retries and alarms as a Python consumer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from event_stream import StreamProcessor

HANDLER_DIR = Path(__file__).parent / "handler"


class NodeConsumerStack(Stack):
    """`cncb-node-stream-processor-<stage>`: every event of the stage, from the start, in
    batches of 100, logged by `handler/index.js` in Lambda's text log format."""

    def __init__(self, scope: Construct, *, stage: str, **kwargs: Any) -> None:
        super().__init__(scope, f"cncb-node-stream-processor-{stage}", **kwargs)
        self.processor = StreamProcessor(
            self,
            "Listener",
            stage=stage,
            name="listener",
            service="cncb-node-stream-processor",
            runtime=lambda_.Runtime.NODEJS_20_X,
            code_dir=HANDLER_DIR,
            handler="index.handler",
            function_props={"logging_format": lambda_.LoggingFormat.TEXT},
        )
        self.function = self.processor.function
