"""The embedded local AWS's server process: moto_server with the project's moto fixes
(`moto_fixes`), and beside it the Lambda Invoke API, the event source mappings' poller and
the local Firehose, which all run functions through one invoker.

Run as `python -m event_stream.tools.local.server -H 127.0.0.1 -p PORT --state-dir DIR`
(what `local up` does).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from botocore.config import Config

from event_stream.tools.local import launcher, moto_fixes, status
from event_stream.tools.local.firehose_poller import FirehosePoller
from event_stream.tools.local.invoke_api import InvokeApi
from event_stream.tools.local.invoker import Invoker
from event_stream.tools.local.mapping_poller import MappingPoller

CONSOLE_MODULE = "event_stream.tools.cli.console.serve"  # run, never imported: it sits above
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=60, retries={"total_max_attempts": 2})


def main(argv: list[str] | None = None) -> None:
    """Start moto_server with the fixes applied, the pollers beside it.

    Arguments as moto_server's (`-H HOST -p PORT`), plus `--state-dir DIR` for the
    status files.
    """
    args = list(argv if argv is not None else sys.argv[1:])
    state_dir = Path(".local-aws")
    if "--state-dir" in args:
        at = args.index("--state-dir")
        state_dir = Path(args[at + 1])
        del args[at : at + 2]
    port = int(args[args.index("-p") + 1]) if "-p" in args else 5000
    moto_fixes.apply_fixes()
    endpoint = launcher.endpoint_url(port)

    clients: dict[str, Any] = {}
    clients_lock = threading.Lock()

    def client(service: str) -> Any:
        # One client per service for the process: boto3's clients are thread-safe, and
        # making one (loading its service model) cost more CPU than the pollers' calls.
        # Made under a lock: creating clients from one session is not thread-safe.
        with clients_lock:
            if service not in clients:
                clients[service] = launcher.client(endpoint, service, config=CLIENT_CONFIG)
            return clients[service]

    invoker = Invoker(
        client,
        region=launcher.REGION,
        environment=launcher.function_environment(endpoint),
        code_dir=state_dir / launcher.CODE_DIR,  # `local down` removes what is left there
    )
    invoke_api = InvokeApi(invoker.invoke, client, flush_logs=invoker.flush_logs).start()
    moto_fixes.serve_invocations(invoke_api.answer)
    firehose = FirehosePoller(client, invoker.invoke, state_dir).start()
    mappings = MappingPoller(
        client,
        invoker,
        region=launcher.REGION,
        state_dir=state_dir,
        keep_warm=firehose.functions_in_use,
        states=moto_fixes.MAPPING_STATES,
    ).start()

    _start_console(endpoint, state_dir)

    def stop(signum: int, frame: Any) -> None:
        invoke_api.stop()
        firehose.stop()
        mappings.stop()
        invoker.stop()  # its workers are this process's children: end them first
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # One access-log line per request would bury moto.log under the pollers' own calls
    # (several a second); warnings and errors still go there.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    moto_main(args)


def _start_console(endpoint: str, state_dir: Path) -> None:
    """The event console for this local AWS, in a process of its own on a free port (so a
    busy port never stops the local AWS, and several may run at once); it writes its URL to
    `console.json` for `local up` and `local status`. A child in this process group:
    `local down` ends it with the rest."""
    (state_dir / status.CONSOLE_FILE).unlink(missing_ok=True)
    state = str(state_dir)
    with open(state_dir / "console.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", CONSOLE_MODULE, "--endpoint", endpoint, "--state-dir", state],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


if __name__ == "__main__":
    main()
