"""Read what a stage has deployed: stack outputs, exports, a function's code and settings."""

from __future__ import annotations

import base64
import hashlib
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from event_stream.config import DEFAULT_SERVICE, stack_name
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.mapping import EventSourceMapping

BOOTSTRAP_QUALIFIER = "hnb659fds"  # the CDK's default bootstrap qualifier


def bootstrap_bucket(account: str, region: str) -> str:
    """The CDK bootstrap bucket a deploy uploads its assets to."""
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"


@dataclass(frozen=True)
class DeployedStack:
    """A stage's stack as CloudFormation reports it."""

    name: str
    stack_id: str
    status: str
    outputs: dict[str, str]


def describe_stage(
    cloudformation: Any, stage: str, service: str = DEFAULT_SERVICE, *, deploy_hint: str
) -> DeployedStack:
    """The stage's stack and outputs, or `UserError` (ending with `deploy_hint`, the
    command that deploys it where the user is) if it was never deployed."""
    name = stack_name(stage, service)
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            raise UserError(
                f"stage {stage!r} is not deployed: there is no stack {name} "
                f"(deploy it with: {deploy_hint})"
            ) from None
        raise
    return DeployedStack(
        name=name,
        stack_id=stack["StackId"],
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
    )


def exports_of(cloudformation: Any, stack: DeployedStack) -> dict[str, str]:
    """The exports the stack makes (a separate, paginated call only `info` needs)."""
    exports = {}
    for page in cloudformation.get_paginator("list_exports").paginate():
        for export in page["Exports"]:
            if export["ExportingStackId"] == stack.stack_id:
                exports[export["Name"]] = export["Value"]
    return exports


def output(stack: DeployedStack, key: str) -> str:
    """One output of the stack, or `UserError` naming the output that is missing."""
    try:
        return stack.outputs[key]
    except KeyError:
        raise UserError(
            f"stack {stack.name} has no output {key!r}; deploy this version of the app to it"
        ) from None


def fetch_function(lambda_client: Any, function_name: str) -> DeployedFunction:
    """Read a function's settings and download its code from `Code.Location` (on AWS a
    pre-signed URL; on the local AWS its own, moto fix 8), checked against its CodeSha256.
    Works for any zip function, however it was created."""
    answer = lambda_client.get_function(FunctionName=function_name)
    config = answer["Configuration"]
    location = (answer.get("Code") or {}).get("Location")
    if not location:
        raise UserError(f"{function_name} has no code to download (an image function?)")
    with urllib.request.urlopen(location, timeout=30) as response:
        code = response.read()
    digest = base64.b64encode(hashlib.sha256(code).digest()).decode()
    if digest != config["CodeSha256"]:
        raise UserError(f"the code downloaded for {function_name} does not match its CodeSha256")
    return DeployedFunction.from_configuration(config, code)


def mappings_of(
    lambda_client: Any, function_name: str, stream_arn: str | None = None
) -> list[EventSourceMapping]:
    """The function's event source mappings (on `stream_arn` only, if given), or
    `UserError` when there is no such function."""
    try:
        pages = lambda_client.get_paginator("list_event_source_mappings").paginate(
            FunctionName=function_name
        )
        found = [
            EventSourceMapping.from_api(mapping)
            for page in pages
            for mapping in page["EventSourceMappings"]
        ]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise UserError(f"there is no function {function_name}") from None
        raise
    return [m for m in found if stream_arn is None or m.stream_arn == stream_arn]


def mapping_on(lambda_client: Any, function_name: str, stream_arn: str) -> EventSourceMapping:
    """The function's event source mapping on the stream, or `UserError` saying it has none."""
    found = mappings_of(lambda_client, function_name, stream_arn)
    if not found:
        raise UserError(f"{function_name} has no event source mapping on {stream_arn}")
    return found[0]
