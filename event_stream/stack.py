"""EventStreamStack: one EventStream, its EventLake (when the stage keeps one), and the
outputs and exports other stacks read."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from event_stream.config import EXPORTED_OUTPUT_KEYS, StageConfig
from event_stream.construct import EventStream
from event_stream.lake import EventLake


class EventStreamStack(Stack):
    """The stack `<service>-<stage>`: stream, publishers, lake, and the contract's outputs.

    The lake is created with the stream (context `lake`, on by default): Firehose reads a
    Kinesis source from LATEST, so a lake added later would miss every earlier event.
    """

    def __init__(self, scope: Construct, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            config.stack_name,
            stack_name=config.stack_name,
            description=f"Event stream {config.stream_name} and its publisher functions",
            **kwargs,
        )
        self.config = config
        # Stages that keep their stream keep their lake; others go whole with the stack.
        removal_policy = RemovalPolicy.RETAIN if config.retain_stream else RemovalPolicy.DESTROY
        shared: dict[str, Any] = {
            "stage": config.stage,
            "service": config.service,
            "log_level": config.log_level,
            "log_retention_days": config.log_retention_days,
            "tracing": config.tracing,
            "alarm_topic": config.alarm_topic_arn,
            "removal_policy": removal_policy,
        }
        self.event_stream = EventStream(
            self,
            "EventStream",
            shard_count=config.shard_count,
            on_demand=config.on_demand,
            retention=Duration.hours(config.retention_hours),
            max_record_bytes=config.max_record_bytes,
            **shared,
        )
        values = {
            "streamName": self.event_stream.stream.stream_name,
            "streamArn": self.event_stream.stream.stream_arn,
            "publishFunctionName": self.event_stream.publish_function.function_name,
            "publishBatchFunctionName": self.event_stream.publish_batch_function.function_name,
        }
        self.lake: EventLake | None = None
        if config.lake:
            self.lake = EventLake(
                self,
                "EventLake",
                stream=self.event_stream.stream,
                buffering_interval=Duration.seconds(config.lake_buffer_seconds),
                retention=(
                    Duration.days(config.lake_retention_days)
                    if config.lake_retention_days
                    else None
                ),
                **shared,
            )
            values.update(
                lakeBucketName=self.lake.bucket.bucket_name,
                lakeBucketArn=self.lake.bucket.bucket_arn,
                lakeDeliveryStreamName=self.lake.delivery_stream.delivery_stream_name,
            )
        for key, value in values.items():
            # Top-level CfnOutputs keep their id as logical id: `${cf:<stack>.streamArn}` works.
            CfnOutput(
                self,
                key,
                value=value,
                export_name=config.export_name(key) if key in EXPORTED_OUTPUT_KEYS else None,
            )
