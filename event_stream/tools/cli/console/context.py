"""What every view of the console reads from: where AWS is, the service's stages there, and
the local AWS's status files when the console looks at one."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.utils import parse_timestamp

from event_stream.config import DEFAULT_SERVICE
from event_stream.tools.cli.cdk_cli import deploy_hint
from event_stream.tools.cli.target import CLIENT_CONFIG, Target
from event_stream.tools.local import launcher
from event_stream.tools.readers.deployed import DeployedStack, describe_stage


@dataclass
class ConsoleContext:
    """The AWS the console shows (the user's account, or a local AWS) and its clients."""

    target: Target
    service: str = DEFAULT_SERVICE
    local_state: Path | None = None  # the local AWS's state folder (its poller's status)
    _clients: dict[tuple[str, int], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session: Any = field(default_factory=lambda: _session_with_fast_timestamps())

    def client(self, service: str, config: Config = CLIENT_CONFIG) -> Any:
        """One boto3 client per service and config for the console's threads (clients are
        thread-safe; creating them from one session is not, hence the lock), sent where
        `Target.client` sends its own: the local AWS or AWS."""
        with self._lock:
            key = (service, id(config))
            if key not in self._clients:
                endpoint, session = self.target.endpoint, self._session
                self._clients[key] = (
                    launcher.client(endpoint, service, session=session, config=config)
                    if endpoint
                    else session.client(service, region_name=self.target.region, config=config)
                )
            return self._clients[key]

    def stack(self, stage: str) -> DeployedStack:
        """The stage's stack, or `UserError` saying how to deploy it."""
        return describe_stage(
            self.client("cloudformation"),
            stage,
            self.service,
            deploy_hint=deploy_hint(stage, endpoint=self.target.endpoint),
        )


def _session_with_fast_timestamps() -> Any:
    """A boto3 session whose clients read epoch-second timestamps (what the JSON protocols
    send, GetRecords' ApproximateArrivalTimestamp among them) with `datetime.fromtimestamp`:
    botocore's default parser spends half of a 10,000-record GetRecords answer's parsing
    on them. The same hook as the AWS CLI's `cli_timestamp_format` customization."""
    session = boto3.session.Session()
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=_timestamp)
    return session


def _timestamp(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed
