"""`info --stage S`: the stage's stack, outputs and exports."""

from __future__ import annotations

import argparse
import json
from typing import Any

from event_stream.tools.cli.target import deployed_stage, staged_command
from event_stream.tools.readers.deployed import exports_of


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    staged_command(commands, "info", "the stage's outputs and exports", run)


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    stack = deployed_stage(args)
    info = {
        "stack": stack.name,
        "status": stack.status,
        "outputs": stack.outputs,
        "exports": exports_of(args.target.client("cloudformation"), stack),
    }
    print(json.dumps(info, indent=2))
