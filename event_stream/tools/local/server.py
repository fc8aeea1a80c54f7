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
    """The event console for this local AWS, on a free port (so a busy port never stops the
    local AWS, and several may run at once); its URL goes to `console.json` for `local up`
    and `local status`. Without the console's libraries the local AWS runs without it."""
    try:
        from event_stream.tools.cli.target import Target
        from event_stream.tools.console.context import ConsoleContext
        from event_stream.tools.console.server import ConsoleServer
    except ImportError as error:
        status.write(state_dir, status.CONSOLE_FILE, {"problem": f"no console: {error}"})
        return
    context = ConsoleContext(Target(endpoint, launcher.REGION), local_state=state_dir)
    status.write(state_dir, status.CONSOLE_FILE, {"url": ConsoleServer(context).start().url})


if __name__ == "__main__":
    main()
