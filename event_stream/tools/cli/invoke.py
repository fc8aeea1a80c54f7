"""`invoke --stage S --data JSON [--batch] [--local]`, and running any deployed function
once: Lambda `Invoke`, on AWS and on the local AWS alike (which runs it in its warm
workers); with `--local`, the deployed zip runs in a worker of this command, on this
machine."""

from __future__ import annotations

import argparse
import atexit
import json
import sys
from collections.abc import Callable
from typing import Any

from event_stream.tools.cli.output import function_error
from event_stream.tools.cli.target import INVOKE_CONFIG, Target, deployed_stage, staged_command
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.readers.deployed import output

Invoke = Callable[[Any], Invocation]  # an event -> what the function answered


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    invoke = staged_command(
        commands, "invoke", "invoke the deployed publisher with one event (or a batch)", run
    )
    invoke.add_argument(
        "-d", "--data", required=True, help="the event as JSON (an array with --batch)"
    )
    invoke.add_argument("--batch", action="store_true", help="invoke publish-batch")
    invoke.add_argument("--local", action="store_true", help="run the deployed code here")


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    try:
        event = json.loads(args.data)
    except ValueError as error:
        raise UserError(f"--data is not valid JSON: {error}") from None
    key = "publishBatchFunctionName" if args.batch else "publishFunctionName"
    function_name = output(deployed_stage(args), key)
    invocation = function_invoker(args.target, function_name, here=args.local)(event)
    if invocation.error:
        raise UserError(function_error(function_name, invocation.error))
    print(json.dumps(invocation.answer, indent=2))


def function_invoker(target: Target, function_name: str, *, here: bool) -> Invoke:
    """A callable that invokes the function with an event: Lambda `Invoke`, never retried
    (on the local AWS too, whose Invoke API runs the code); with `here`, the deployed zip
    runs in a worker of this process.
    """
    if here:
        return _invoker_here(target, function_name)
    return lambda_invoker(target.client("lambda", INVOKE_CONFIG), function_name)


def lambda_invoker(client: Any, function_name: str) -> Invoke:
    """Lambda `Invoke` of the function through `client` (made with `INVOKE_CONFIG`)."""

    def invoke(event: Any) -> Invocation:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        return Invocation(None, payload) if answer.get("FunctionError") else Invocation(payload)

    return invoke


def _invoker_here(target: Target, function_name: str) -> Invoke:
    from event_stream.tools.local import launcher
    from event_stream.tools.local.invoker import Invoker

    invoker = Invoker(
        target.client,
        region=target.region,
        ship_logs=target.local,
        # On the local AWS the code reaches only it; against AWS it runs as the developer.
        environment=launcher.function_environment(target.endpoint) if target.endpoint else None,
    )
    atexit.register(invoker.stop)  # no worker, and no unpacked code, outlives the command
    deployed, unsupported, _ = invoker.refresh(function_name)
    if unsupported:
        raise UserError(unsupported)
    where = f"the local AWS at {target.endpoint}" if target.local else "AWS"
    print(
        f"running the deployed code of {function_name} ({deployed.handler}) here, against {where}",
        file=sys.stderr,
    )
    return lambda event: invoker.invoke(function_name, event, refresh=False)
