"""A Node.js consumer stack: the cookbook's stream processor on the stage's event stream,
with CDK's own `KinesisEventSource` on the stream `import_stream` binds through its exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from event_stream import import_stream

HANDLER_DIR = Path(__file__).parent / "handler"


class NodeConsumerStack(Stack):
    """`cncb-node-stream-processor-<stage>`: every event of the stage, from the start, in
    batches of 100, logged by `handler/index.js` (with its node_modules)."""

    def __init__(self, scope: Construct, *, stage: str, **kwargs: Any) -> None:
        super().__init__(scope, f"cncb-node-stream-processor-{stage}", **kwargs)
        self.function = lambda_.Function(
            self,
            "Listener",
            function_name=f"cncb-node-stream-processor-{stage}-listener",
            runtime=lambda_.Runtime.NODEJS_20_X,
            handler="index.handler",
            code=lambda_.Code.from_asset(
                str(HANDLER_DIR), exclude=["package-lock.json", "node_modules/.installed"]
            ),
            timeout=Duration.seconds(30),
            logging_format=lambda_.LoggingFormat.TEXT,
        )
        self.function.add_event_source(
            event_sources.KinesisEventSource(
                import_stream(self, "Events", stage=stage),
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=5,
            )
        )
