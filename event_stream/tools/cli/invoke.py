"""`invoke --stage S --data JSON [--batch] [--local]`, and running any deployed function
once: Lambda `Invoke` on AWS, the deployed zip on this machine on the local AWS."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from event_stream.tools.cli.output import function_error
from event_stream.tools.cli.target import INVOKE_CONFIG, Target, deployed_stage, staged_command
from event_stream.tools.deployed import output
from event_stream.tools.errors import UserError

Runner = Callable[[Any], tuple[Any, dict[str, Any] | None]]


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    invoke = staged_command(
        commands, "invoke", "invoke the deployed publisher with one event (or a batch)", run
    )
    invoke.add_argument("--data", required=True, help="the event as JSON (an array with --batch)")
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
    answer, error = function_runner(args.target, function_name, here=args.local)(event)
    if error:
        raise UserError(function_error(function_name, error))
    print(json.dumps(answer, indent=2))


def function_runner(target: Target, function_name: str, *, here: bool) -> Runner:
    """A callable that invokes the function once with an event: `(answer, error)`.

    On the local AWS (which cannot run Lambda code) and with `here`, the deployed zip runs
    in a child process on this machine; otherwise Lambda `Invoke` runs it, never retried.
    """
    if target.local or here:
        return _runner_here(target, function_name)
    client = target.client("lambda", INVOKE_CONFIG)

    def invoke(event: Any) -> tuple[Any, dict[str, Any] | None]:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        return (None, payload) if answer.get("FunctionError") else (payload, None)

    return invoke


def _runner_here(target: Target, function_name: str) -> Runner:
    from event_stream.tools.deployed import fetch_function
    from event_stream.tools.local import runner

    bootstrap = None
    if target.local:
        account = target.client("sts").get_caller_identity()["Account"]
        bootstrap = (target.client("s3"), account, target.region)
    function = fetch_function(target.client("lambda"), function_name, bootstrap=bootstrap)
    where = f"the local AWS at {target.endpoint}" if target.local else "AWS"
    print(
        f"running the deployed code of {function_name} ({function.handler}) here, against {where}",
        file=sys.stderr,
    )

    def run_here(event: Any) -> tuple[Any, dict[str, Any] | None]:
        invocation = runner.run(function, event, region=target.region)
        if target.local:
            runner.ship_logs(target.client("logs"), function, invocation.log_lines)
        return invocation.answer, invocation.error

    return run_here
