"""Serve the console on localhost: in the foreground (`event-stream console`) or in a
thread of the local AWS's server process (`local up`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from event_stream.tools.cli.console.app import create_app
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.console.security import Guard

HOST = "127.0.0.1"  # never another interface: the console acts with the user's credentials


class ConsoleServer:
    """The console listening on `127.0.0.1:port` (port 0: a free one)."""

    def __init__(self, context: ConsoleContext, port: int = 0) -> None:
        # The port is only known once bound, and the guard needs it: bind, then build.
        self._server: BaseWSGIServer = make_server(HOST, port, _placeholder, threaded=True)
        self.guard = Guard(self._server.server_port)
        self._server.app = create_app(context, self.guard)
        # A line per request would bury the terminal or moto.log under the live refreshes.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.guard.port}/"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> ConsoleServer:
        """Serve from a daemon thread."""
        threading.Thread(target=self.serve_forever, name="console", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


def _placeholder(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [])
    return []
