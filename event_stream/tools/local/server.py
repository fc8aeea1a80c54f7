"""The embedded local AWS's server process: moto_server with the project's moto fixes
(`moto_fixes`), the event source poller that runs deployed consumers beside it, and the
lake poller that delivers Kinesis-sourced Firehose streams to S3.

Run as `python -m event_stream.tools.local.server -H 127.0.0.1 -p PORT --state-dir DIR`
(what `local up` does).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from event_stream.tools.local.event_source_poller import Poller
from event_stream.tools.local.lake_poller import LakePoller
from event_stream.tools.local.launcher import ACCOUNT, REGION, endpoint_url
from event_stream.tools.local.moto_fixes import apply_fixes


def main(argv: list[str] | None = None) -> None:
    """Start moto_server with the fixes applied and the event source poller beside it.

    Arguments as moto_server's (`-H HOST -p PORT`), plus `--state-dir DIR` for the
    poller's status file.
    """
    args = list(argv if argv is not None else sys.argv[1:])
    state_dir = Path(".local-aws")
    if "--state-dir" in args:
        at = args.index("--state-dir")
        state_dir = Path(args[at + 1])
        del args[at : at + 2]
    port = args[args.index("-p") + 1] if "-p" in args else "5000"
    apply_fixes()
    poller = Poller(
        endpoint_url(int(port)), account=ACCOUNT, region=REGION, state_dir=state_dir
    ).start()
    lake = LakePoller(poller.client, poller.invoke_function, state_dir).start()

    def stop(signum: int, frame: Any) -> None:
        lake.stop()
        poller.stop()  # its workers are this process's children: end them first
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # One access-log line per request would bury moto.log under the poller's own calls
    # (several a second); warnings and errors still go there.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    moto_main(args)


if __name__ == "__main__":
    main()
