"""The local Firehose: finds the local AWS's Kinesis-sourced delivery streams once a second
and delivers each (`firehose_delivery.DeliveryStream`); what each is doing goes to the status
file, for `local status`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from event_stream.tools import arns
from event_stream.tools.local import status
from event_stream.tools.local.firehose_delivery import DeliverySettings, DeliveryStream, Invoke

DISCOVERY_INTERVAL = 1.0


class FirehosePoller:
    """Finds the local AWS's Kinesis-sourced delivery streams and delivers them."""

    def __init__(self, client: Callable[[str], Any], invoke: Invoke, state_dir: Path) -> None:
        self.client = client
        self.invoke = invoke
        self.state_dir = state_dir
        self.streams: dict[str, DeliveryStream] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="firehose-poller", daemon=True)

    def start(self) -> FirehosePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def functions_in_use(self) -> set[str]:
        """The transformer functions of the delivery streams (kept warm by the invoker)."""
        return {
            arns.function_name(stream.settings.processor_arn)
            for stream in list(self.streams.values())
            if stream.settings.processor_arn
        }

    def _run(self) -> None:
        firehose, kinesis, s3 = (self.client(s) for s in ("firehose", "kinesis", "s3"))
        last_discovery = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_discovery >= DISCOVERY_INTERVAL:
                    self.write_status()  # once a second is what `local status` needs
                    self.discover(firehose, kinesis, s3)
                    last_discovery = time.monotonic()
                for stream in list(self.streams.values()):
                    stream.step()
            except Exception as error:  # the emulator must outlive a bad moment
                for stream in self.streams.values():
                    stream.problem = f"{type(error).__name__}: {error}"
            self._stop.wait(0.2)

    def write_status(self) -> None:
        """Write where each delivery stream stands to the status file."""
        written = [stream.status() for stream in list(self.streams.values())]
        status.write(self.state_dir, status.FIREHOSE_FILE, written)

    def discover(self, firehose: Any, kinesis: Any, s3: Any) -> None:
        """Start and stop deliveries to match the delivery streams there are now."""
        names = firehose.list_delivery_streams(Limit=10_000)["DeliveryStreamNames"]
        for name in names:
            description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
                "DeliveryStreamDescription"
            ]
            settings = DeliverySettings.from_api(description)
            known = self.streams.get(name)
            if settings is None or (known and known.settings == settings):
                continue
            if known and known.buffer:
                known.flush()  # a changed configuration: what was read is delivered first
            self.streams[name] = DeliveryStream(settings, kinesis, s3, self.invoke)
        for name in set(self.streams) - set(names):
            self.streams.pop(name)
