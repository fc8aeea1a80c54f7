"""`console [--stage S] [--port N]`: the event console in the browser, on localhost, reading
where the other commands read (the local AWS, or AWS with the user's credentials): the
stage's stream, records, consumers, dead letters, lake, replay and publishing.

Each view reads through the same parts as the other commands (`readers/`, `actions/`);
`app.py` turns their data into a page for a browser and into JSON for `Accept:
application/json`; `serve.py` is how the local AWS starts one beside it.
"""

from __future__ import annotations

import argparse
from typing import Any

from event_stream.tools.cli.target import Target
from event_stream.tools.errors import UserError
from event_stream.tools.local import launcher


def register(commands: Any) -> None:
    """Add this command to the CLI\'s subcommands."""
    from event_stream.config import DEFAULT_SERVICE

    console = commands.add_parser(
        "console", help="the event console in the browser: streams, records, consumers, ..."
    )
    console.add_argument("-s", "--stage", help="the stage to open first (default: the list)")
    console.add_argument("--port", type=int, default=0, help="default: a free port")
    console.add_argument("--service", default=DEFAULT_SERVICE, help=argparse.SUPPRESS)
    console.set_defaults(run=run, needs_target=True)


def run(args: argparse.Namespace) -> None:
    """Run the command with its parsed arguments."""
    from event_stream.tools.cli.console.context import ConsoleContext
    from event_stream.tools.cli.console.server import ConsoleServer

    target: Target = args.target
    local = None
    if target.endpoint:
        port = launcher.local_port(target.endpoint)
        local = launcher.find(port=port) if port else None
    context = ConsoleContext(target, args.service, local.state_dir if local else None)
    try:
        server = ConsoleServer(context, args.port)
    except OSError as error:
        raise UserError(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}") from None
    page = f"stages/{args.stage}" if args.stage else ""
    where = target.endpoint or f"AWS ({target.region})"
    print(f"event console for {where} at {server.url}{page} (Ctrl-C stops it)", flush=True)
    server.serve_forever()  # until Ctrl-C (the CLI exits 130, as shells expect)
