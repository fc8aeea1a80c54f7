#!/usr/bin/env python3
"""The CDK app: one event stream stack for the stage given by `--context stage=<name>`."""

import os
import sys
from pathlib import Path

import aws_cdk as cdk

from event_stream.config import ConfigError, StageConfig
from event_stream.contracts.settings import ContractSettings, checked
from event_stream.stack import EventStreamStack


def main() -> None:
    """Synthesize the stage's stack, or exit 1 with one line naming what is wrong."""
    app = cdk.App()
    try:
        config = StageConfig.from_context(app.node.try_get_context)
        # The app's event contracts: a bad file or a breaking change stops the synth.
        checked(ContractSettings.from_context(app.node.try_get_context, Path.cwd()))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    EventStreamStack(
        app,
        config=config,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    app.synth()


if __name__ == "__main__":
    main()
