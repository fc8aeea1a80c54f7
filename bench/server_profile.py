"""The local AWS's server, with a CPU profile of itself: `python bench/soak.py --profile`.

Two views, written on SIGUSR2 to `profile.txt` in the state folder: the CPU each kind of
request took (thread CPU time around moto's WSGI app: every request runs in a thread of its
own, too short-lived for a sampler), and the CPU of the long-lived threads (the pollers and
mapping workers), sampled every 2 ms of process CPU and charged to the innermost frame of
this project's code, or of the library when none is ours.
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from moto.moto_server import werkzeug_app

from event_stream.tools.local import server

requests: Counter[str] = Counter()
request_cpu: Counter[str] = Counter()
thread_cpu: Counter[str] = Counter()
_last: dict[int, float] = {}
_app_call = werkzeug_app.DomainDispatcherApplication.__call__


def counted(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
    started = time.thread_time()
    try:
        return _app_call(self, environ, start_response)
    finally:
        kind = environ.get("HTTP_X_AMZ_TARGET") or (
            f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')[:40]}"
        )
        requests[kind] += 1
        request_cpu[kind] += time.thread_time() - started


def sample(signum: int, frame: Any) -> None:
    for thread, top in sys._current_frames().items():
        try:
            cpu = time.clock_gettime(time.pthread_getcpuclockid(thread))
        except OSError:
            continue
        spent, _last[thread] = cpu - _last.get(thread, cpu), cpu
        if spent > 0:
            thread_cpu[_charged_to(top)] += spent


def _charged_to(frame: Any) -> str:
    first = None
    while frame is not None:
        name = f"{frame.f_code.co_filename.rsplit('/', 2)[-2:]}:{frame.f_code.co_name}"
        first = first or name
        if "/event_stream/" in frame.f_code.co_filename and "server_profile" not in name:
            return f"{frame.f_code.co_filename.split('/event_stream/')[-1]}:{frame.f_code.co_name}"
        frame = frame.f_back
    return first or "?"


def write(state_dir: Path) -> None:
    lines = ["CPU s  calls  request"]
    top = request_cpu.most_common(15)
    lines += [f"{cpu:6.2f} {requests[kind]:6d}  {kind}" for kind, cpu in top]
    lines += ["", "CPU s  long-lived threads, by the innermost frame of ours"]
    lines += [f"{cpu:6.2f}  {where}" for where, cpu in thread_cpu.most_common(20)]
    (state_dir / "profile.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    state_dir = Path(sys.argv[sys.argv.index("--state-dir") + 1])
    werkzeug_app.DomainDispatcherApplication.__call__ = counted
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, 0.002, 0.002)
    signal.signal(signal.SIGUSR2, lambda signum, frame: write(state_dir))
    server.main()


if __name__ == "__main__":
    main()
