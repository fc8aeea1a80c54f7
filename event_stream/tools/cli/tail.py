"""`tail --stage S [--from trim-horizon|latest] [--follow]`: the stream's envelopes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools.cli.output import tail_line
from event_stream.tools.cli.target import deployed_stage, staged_command
from event_stream.tools.readers.deployed import output
from event_stream.tools.readers.shard_reader import read_stream


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    tail = staged_command(
        commands, "tail", "print the stream's events, one JSON object a line", run
    )
    tail.add_argument(
        "--from", dest="start", choices=["trim-horizon", "latest"], default="trim-horizon"
    )
    tail.add_argument("--follow", action="store_true", help="keep polling until Ctrl-C")


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    stream_name = output(deployed_stage(args), "streamName")
    start = "LATEST" if args.start == "latest" else "TRIM_HORIZON"
    kinesis = args.target.client("kinesis")
    try:
        for shard, record in read_stream(kinesis, stream_name, start=start, follow=args.follow):
            try:
                envelope = event_envelope.decode(record["Data"])
            except event_envelope.InvalidEvent as error:  # names the field that is wrong
                print(
                    f"skipped record {record['SequenceNumber']} of {shard}: {error}",
                    file=sys.stderr,
                )
                continue
            print(tail_line(envelope), flush=True)
    except KeyboardInterrupt:
        pass
