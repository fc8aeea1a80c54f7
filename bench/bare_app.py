"""The synth floors: a bare CDK app with one Kinesis stream, and (with BARE_FUNCTION=1) the
same plus one Lambda function from the same asset with one grant: the least any app with a
publisher function pays."""

import os

import aws_cdk as cdk
from aws_cdk import aws_kinesis as kinesis

app = cdk.App()
stack = cdk.Stack(app, "bare-stream")
stream = kinesis.Stream(stack, "Stream", shard_count=1)
if os.environ.get("BARE_FUNCTION"):
    from aws_cdk import aws_lambda as lambda_

    function = lambda_.Function(
        stack,
        "Publish",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="handler.publish",
        code=lambda_.Code.from_asset("lambda_src"),
    )
    stream.grant(function, "kinesis:PutRecord")
app.synth()
