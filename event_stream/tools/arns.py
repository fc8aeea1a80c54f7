"""The one home of ARN parsing in the tools: which resource, account and region an ARN names.

ARNs are `arn:<partition>:<service>:<region>:<account>:<resource>` ("Amazon Resource Names
(ARNs)", IAM User Guide); the resource part is `function:NAME[:QUALIFIER]` for Lambda,
`stream/NAME` for Kinesis, `deliverystream/NAME` for Firehose, the bare name for SQS and SNS.
"""

from __future__ import annotations


def _parts(arn: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts


def service(arn: str) -> str:
    """`sqs` for `arn:aws:sqs:...`."""
    return _parts(arn)[2]


def region(arn: str) -> str:
    """The region an ARN names."""
    return _parts(arn)[3]


def function_name(name_or_arn: str) -> str:
    """A Lambda function's name, from its name, its ARN or a qualified ARN."""
    if not name_or_arn.startswith("arn:"):
        return name_or_arn
    return _parts(name_or_arn)[5].removeprefix("function:").split(":")[0]


def stream_name(stream_arn: str) -> str:
    """A Kinesis stream's name from its ARN."""
    return _parts(stream_arn)[5].removeprefix("stream/")


def resource_name(arn: str) -> str:
    """The last part of an ARN: a queue's or a topic's name, a role's path-less name."""
    return _parts(arn)[5].rsplit("/", 1)[-1].rsplit(":", 1)[-1]
