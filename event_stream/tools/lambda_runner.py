"""Run one Lambda handler in this process, as the Lambda Python runtime would.

Started by local_invoke as a child process with LAMBDA_TASK_ROOT set to the unpacked
deployment zip: `python lambda_runner.py MODULE.FUNCTION`, the event on stdin. Logs go to stderr as
Lambda's JSON log format writes them; the last line on stdout is one JSON object:
`{"result": ...}` or `{"errorType": ..., "errorMessage": ...}`. Stdlib only: it must not
import the project, only the deployed code.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import uuid

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class LambdaJsonFormatter(logging.Formatter):
    """The fields of Lambda's JSON application logs, extras included."""

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": self.request_id,
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info and record.exc_info[0]:
            entry["errorType"] = record.exc_info[0].__name__
            entry["errorMessage"] = str(record.exc_info[1])
            entry["stackTrace"] = self.formatException(record.exc_info).splitlines()
        return json.dumps(entry, default=str)


class Context:
    """The parts of the Lambda context object the handlers use."""

    def __init__(self, function_name: str, timeout: int, request_id: str) -> None:
        self.function_name = function_name
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    # The deployed code, not this script's folder, is what `import handler` must find.
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    request_id = str(uuid.uuid4())
    log_handler = logging.StreamHandler(sys.stderr)
    log_handler.setFormatter(LambdaJsonFormatter(request_id))
    logging.basicConfig(
        handlers=[log_handler], level=os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO")
    )
    module_name, _, function_name = sys.argv[1].rpartition(".")
    event = json.load(sys.stdin)
    context = Context(
        os.environ.get("AWS_LAMBDA_FUNCTION_NAME", module_name),
        int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")),
        request_id,
    )
    # The handler's own prints (EMF metrics) go to the log like any Lambda stdout.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        answer = {"result": handler(event, context)}
    except Exception as error:  # the runtime reports any exception the same way
        logging.getLogger().error("invocation failed", exc_info=True)
        answer = {"errorType": type(error).__name__, "errorMessage": str(error)}
    sys.stdout = real_stdout
    print(json.dumps(answer, default=str), flush=True)


if __name__ == "__main__":
    main()
