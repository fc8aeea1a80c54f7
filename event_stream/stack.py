"""EventStreamStack: one EventStream plus the outputs and exports other stacks read."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from event_stream.config import EXPORTED_OUTPUT_KEYS, StageConfig
from event_stream.construct import EventStream


class EventStreamStack(Stack):
    """The stack `<service>-<stage>`: stream, publishers, and the outputs of the contract."""

    def __init__(self, scope: Construct, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            config.stack_name,
            stack_name=config.stack_name,
            description=f"Event stream {config.stream_name} and its publisher functions",
            **kwargs,
        )
        self.config = config
        self.event_stream = EventStream(self, "EventStream", config=config)
        values = {
            "streamName": self.event_stream.stream.stream_name,
            "streamArn": self.event_stream.stream.stream_arn,
            "publishFunctionName": self.event_stream.publish_function.function_name,
            "publishBatchFunctionName": self.event_stream.publish_batch_function.function_name,
        }
        for key, value in values.items():
            # Top-level CfnOutputs keep their id as logical id: `${cf:<stack>.streamArn}` works.
            CfnOutput(
                self,
                key,
                value=value,
                export_name=config.export_name(key) if key in EXPORTED_OUTPUT_KEYS else None,
            )
