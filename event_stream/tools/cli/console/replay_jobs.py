"""The replay page: a window of the stage's history into one consumer function, the dry
run's counts first, then the replay itself in the background with its progress. The
window is read, planned and sent by `readers/history.py` and `actions/replay.py`, as
`replay --from-lake` does."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from event_stream.tools.actions import replay
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.invoke import lambda_invoker
from event_stream.tools.cli.lake import lake_bucket
from event_stream.tools.cli.target import INVOKE_CONFIG
from event_stream.tools.errors import UserError
from event_stream.tools.readers import history
from event_stream.tools.readers.deployed import mapping_on, output


@dataclass
class ReplayJob:
    """One replay started from the page, and how far it got."""

    id: str
    stage: str
    function: str
    total: int
    started: float = field(default_factory=time.time)
    sent: int = 0
    finished: bool = False
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "function": self.function,
            "total": self.total,
            "sent": self.sent,
            "finished": self.finished,
            "outcomes": self.outcomes,
            "error": self.error or None,
        }


class ReplayJobs:
    """The replays this console started (kept while it runs)."""

    def __init__(self) -> None:
        self._jobs: dict[str, ReplayJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, job_id: str) -> ReplayJob | None:
        return self._jobs.get(job_id)

    def of_stage(self, stage: str) -> list[ReplayJob]:
        return [job for job in self._jobs.values() if job.stage == stage]

    def start(
        self,
        context: ConsoleContext,
        stage: str,
        function: str,
        window: history.Window,
        *,
        allow_gaps: bool,
    ) -> ReplayJob:
        """Plan the replay (refusing a window with a gap unless `allow_gaps`) and send it
        in a background thread."""
        mapping, found, planned = _plan(context, stage, function, window)
        if found.gaps and not allow_gaps:
            raise UserError(f"{found.gaps[0].describe()}; replay them anyway with allow_gaps")
        with self._lock:
            job = ReplayJob(
                str(next(self._ids)), stage, function, sum(len(r) for r in planned.values())
            )
            self._jobs[job.id] = job
        role = context.client("lambda").get_function_configuration(FunctionName=function)["Role"]
        invoke = lambda_invoker(context.client("lambda", INVOKE_CONFIG), function)

        def run() -> None:
            try:
                outcomes = replay.replay(
                    planned,
                    mapping,
                    invoke,
                    region=context.target.region,
                    role_arn=role,
                    progress=lambda done: setattr(job, "sent", job.sent + done),
                )
                job.outcomes = [
                    {
                        "shardId": o.shard_id,
                        "sent": o.sent,
                        "stoppedAt": o.stopped_at,
                        "reason": o.reason or None,
                    }
                    for o in outcomes
                ]
            except Exception as error:  # shown on the page: the job must not die unseen
                job.error = str(error)
            job.finished = True

        threading.Thread(target=run, name=f"replay-{job.id}", daemon=True).start()
        return job


def dry_run(
    context: ConsoleContext, stage: str, function: str, window: history.Window
) -> dict[str, Any]:
    """What the replay would send, as `replay --from-lake --dry-run` prints it."""
    _, found, planned = _plan(context, stage, function, window)
    return {"function": function, **replay.dry_run(planned, found)}


def _plan(
    context: ConsoleContext, stage: str, function: str, window: history.Window
) -> tuple[Any, history.History, replay.Planned]:
    if not function:
        raise UserError("function: choose the one consumer to replay to")
    stack = context.stack(stage)
    stream_arn = output(stack, "streamArn")
    mapping = mapping_on(context.client("lambda"), function, stream_arn)
    found = history.read_history(
        context.client("s3"),
        context.client("kinesis"),
        lake_bucket(stack),
        output(stack, "streamName"),
        window,
    )
    return mapping, found, replay.plan(found.lines, mapping)
