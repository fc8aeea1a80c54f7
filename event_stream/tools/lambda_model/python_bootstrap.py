"""An execution environment for one Lambda function: the Python runtime's part, here.

Started by `runner.Worker` as a child process with LAMBDA_TASK_ROOT set to the
unpacked deployment zip: `python bootstrap.py MODULE.FUNCTION [FUNCTION_NAME]` (the
name only tells `ps` whose worker it is). Each line on stdin is one invocation,
`{"event": ..., "requestId": ...}`; each answer is one line on stdout, `{"result": ...}`
or `{"errorType": ..., "errorMessage": ...}`, with `"logs"`: the lines the invocation
wrote, in Lambda's JSON log format (prints included, as Lambda captures stdout). The
handler module is imported once and stays loaded between invocations, as a warm Lambda
environment keeps it. Stdlib only: it must not import the project, only the deployed code.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class LambdaJsonFormatter(logging.Formatter):
    """The fields of Lambda's JSON application logs, extras included."""

    request_id = ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
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


class Captured:
    """Where an invocation's output goes: log records and printed lines, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:  # sys.stdout for the handler's prints
        *complete, self._partial = (self._partial + text).split("\n")
        self.lines += [line for line in complete if line.strip()]
        return len(text)

    def flush(self) -> None:
        pass

    def take(self) -> list[str]:
        if self._partial.strip():
            self.lines.append(self._partial)
        taken, self.lines, self._partial = self.lines, [], ""
        return taken


class Context:
    """The parts of the Lambda context object handlers use."""

    def __init__(self, function_name: str, timeout: int, request_id: str) -> None:
        self.function_name = function_name
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load(module_name: str, function_name: str) -> tuple[Any, dict[str, Any]]:
    """The handler, or the error the Python runtime answers when it cannot be loaded."""
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        message = f"Unable to import module '{module_name}': {error}"
        return None, {"errorMessage": message, "errorType": "Runtime.ImportModuleError"}
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return None, {"errorMessage": message, "errorType": "Runtime.HandlerNotFound"}
    return handler, {}


def main() -> None:
    # The deployed code, not this script's folder, is what `import handler` must find.
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    requests, answers = sys.stdin, sys.stdout
    captured = Captured()
    formatter = LambdaJsonFormatter()
    log_handler = logging.StreamHandler(captured)
    log_handler.setFormatter(formatter)
    logging.basicConfig(
        handlers=[log_handler], level=os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO")
    )
    sys.stdout = captured  # the handler's prints (EMF metrics) are log lines, as in Lambda
    module_name, _, function_name = sys.argv[1].rpartition(".")
    timeout = int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    handler = None
    for line in requests:
        request = json.loads(line)
        formatter.request_id = request["requestId"]
        answer: dict[str, Any]
        if handler is None:  # the init phase, paid by the first invocation
            handler, answer = _load(module_name, function_name)
        if handler is not None:
            try:
                context = Context(
                    os.environ.get("AWS_LAMBDA_FUNCTION_NAME", module_name),
                    timeout,
                    request["requestId"],
                )
                answer = {"result": handler(request["event"], context)}
            except Exception as error:  # the runtime reports any exception the same way
                logging.getLogger().error("invocation failed", exc_info=True)
                answer = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "requestId": request["requestId"],
                    # The handler's frames, as the Python runtime lists them.
                    "stackTrace": traceback.format_list(
                        traceback.extract_tb(error.__traceback__)[1:]
                    ),
                }
        answer["logs"] = captured.take()
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
