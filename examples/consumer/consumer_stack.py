"""A consumer stack in another CDK app: the cookbook's stream processor, on StreamProcessor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from event_stream import StreamProcessor


class ConsumerStack(Stack):
    """`cncb-stream-processor-<stage>`: `thing-created` events of the stage, from the start,
    in batches of 100 (the StreamProcessor's defaults), logged by `listener/handler.py`."""

    def __init__(self, scope: Construct, *, stage: str, **kwargs: Any) -> None:
        super().__init__(scope, f"cncb-stream-processor-{stage}", **kwargs)
        self.processor = StreamProcessor(
            self,
            "Listener",
            stage=stage,
            name="listener",
            code_dir=Path(__file__).parent / "listener",
            handler="handler.handler",
            event_types=["thing-created"],
        )
