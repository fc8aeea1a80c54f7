"""import_stream: how a consumer stack binds to a stage's event stream."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from event_stream.config import DEFAULT_SERVICE, export_name


def import_stream(
    scope: Construct, construct_id: str, *, stage: str, service: str = DEFAULT_SERVICE
) -> kinesis.IStream:
    """An `IStream` bound to the stage's `streamArn` export (`Fn::ImportValue`).

    `import_stream(self, "Events", stage="prod").grant_read(fn)` gives `fn` read rights on
    the stream; CloudFormation then keeps the export until this stack stops importing it.
    """
    return kinesis.Stream.from_stream_arn(
        scope, construct_id, Fn.import_value(export_name(stage, "streamArn", service))
    )
