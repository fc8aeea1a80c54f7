#!/usr/bin/env python3
"""The CDK app: one event stream stack for the stage given by `--context stage=<name>`."""

import os
import sys

import aws_cdk as cdk

from event_stream.config import ConfigError, StageConfig
from event_stream.stack import EventStreamStack


def main() -> None:
    """Synthesize the stage's stack, or exit 1 with one line naming what is wrong."""
    app = cdk.App()
    try:
        config = StageConfig.from_context(app.node.try_get_context)
        # A bad contract file or a breaking change (the constructs check them) stops here too.
        EventStreamStack(
            app,
            config=config,
            env=cdk.Environment(
                account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                region=os.environ.get("CDK_DEFAULT_REGION"),
            ),
        )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
