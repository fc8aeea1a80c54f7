"""The event console the local AWS starts beside it: `python -m
event_stream.tools.cli.console.serve --endpoint URL --state-dir DIR`. A process of its own
(its requests do not compete with moto for one interpreter), in the local AWS's process
group, so `local down` ends it; on a free port, its URL written to `console.json`."""

from __future__ import annotations

import argparse
from pathlib import Path

from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.console.server import ConsoleServer
from event_stream.tools.cli.target import Target
from event_stream.tools.local import launcher, status


def main(argv: list[str] | None = None) -> None:
    """Serve the console for the local AWS at `--endpoint` until the process is ended."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    context = ConsoleContext(Target(args.endpoint, launcher.REGION), local_state=args.state_dir)
    server = ConsoleServer(context)
    status.write(args.state_dir, status.CONSOLE_FILE, {"url": server.url})
    server.serve_forever()


if __name__ == "__main__":
    main()
