"""What every view of the console reads from: where AWS is, the service's stages there, and
the local AWS's status files when the console looks at one."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from event_stream.config import DEFAULT_SERVICE
from event_stream.tools.cli.cdk_cli import deploy_hint
from event_stream.tools.cli.target import CLIENT_CONFIG, Target
from event_stream.tools.readers.deployed import DeployedStack, describe_stage


@dataclass
class ConsoleContext:
    """The AWS the console shows (the user's account, or a local AWS) and its clients."""

    target: Target
    service: str = DEFAULT_SERVICE
    local_state: Path | None = None  # the local AWS's state folder (its poller's status)
    _clients: dict[tuple[str, int], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, config: Config = CLIENT_CONFIG) -> Any:
        """One boto3 client per service and config for the console's threads (clients are
        thread-safe; creating them from one session is not, hence the lock)."""
        with self._lock:
            key = (service, id(config))
            if key not in self._clients:
                self._clients[key] = self.target.client(service, config)
            return self._clients[key]

    def stack(self, stage: str) -> DeployedStack:
        """The stage's stack, or `UserError` saying how to deploy it."""
        return describe_stage(
            self.client("cloudformation"),
            stage,
            self.service,
            deploy_hint=deploy_hint(stage, endpoint=self.target.endpoint),
        )
