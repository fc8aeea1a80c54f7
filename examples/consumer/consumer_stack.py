"""A consumer stack in another CDK app: it reads the event stream through its exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from event_stream import import_stream


class ConsumerStack(Stack):
    """`cncb-consumer-<stage>`: a function that reads the stage's stream from the start."""

    def __init__(self, scope: Construct, *, stage: str, **kwargs: Any) -> None:
        super().__init__(scope, f"cncb-consumer-{stage}", **kwargs)
        stream = import_stream(self, "EventStream", stage=stage)
        consumer = lambda_.Function(
            self,
            "Consume",
            function_name=f"cncb-consumer-{stage}-listener",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="consume.handler",
            code=lambda_.Code.from_asset(str(Path(__file__).parent / "consumer_lambda")),
            timeout=Duration.seconds(30),
        )
        stream.grant_read(consumer)
        # As the cookbook's consumers: batches of 100, from the oldest record.
        consumer.add_event_source(
            sources.KinesisEventSource(
                stream, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100
            )
        )
