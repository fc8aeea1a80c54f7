"""Every call a publisher makes finishes inside the function's timeout, with room to answer,
against an endpoint that accepts connections and never answers (a local socket).

The deployed code (the asset's files) runs in the local Lambda runner with the functions'
real timeouts from the construct; the runner reports Sandbox.Timedout if it overruns.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from event_stream.construct import PUBLISH_BATCH_TIMEOUT, PUBLISH_TIMEOUT
from event_stream.runtime import LAMBDA_SRC, RUNTIME_FILES
from event_stream.tools.lambda_model import workers
from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.invocation import Invocation


@pytest.fixture(scope="module")
def silent_endpoint():
    """http://127.0.0.1:PORT: accepts every connection, reads, never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


def deployed(handler: str, timeout: int, endpoint: str) -> DeployedFunction:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        for name in RUNTIME_FILES:
            archive.write(LAMBDA_SRC / name, name)
    return DeployedFunction(
        name=f"dead-endpoint-{handler.replace('.', '-').replace('_', '-')}",
        handler=handler,
        environment={
            "STREAM_NAME": "dead-s1",
            "FUNCTION_TIMEOUT_SECONDS": str(timeout),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        },
        log_group="/aws/lambda/dead",
        log_level="INFO",
        timeout=timeout,
        code_zip=code.getvalue(),
    )


def timed(function: DeployedFunction, event) -> tuple[Invocation, float]:
    """The invocation and how long the handler took, measured warm: the interpreter's start
    and the handler's imports are Lambda's init phase, not the invocation's timeout, and on
    a busy machine they alone can take a second."""
    worker = workers.Worker(function, region="us-east-1")
    try:
        # An event with no type fails validation before any call: imports done, no network.
        warm_up = worker.invoke([{}] if function.handler.endswith("batch") else {})
        assert warm_up.error and warm_up.error["errorType"] == "InvalidEvent", warm_up
        started = time.monotonic()
        invocation = worker.invoke(event)
        return invocation, time.monotonic() - started
    finally:
        worker.stop()


def test_every_call_ends_inside_the_functions_timeout(silent_endpoint):
    publish = deployed("handler.publish", int(PUBLISH_TIMEOUT.to_seconds()), silent_endpoint)
    batch = deployed(
        "handler.publish_batch", int(PUBLISH_BATCH_TIMEOUT.to_seconds()), silent_endpoint
    )
    with ThreadPoolExecutor(2) as pool:  # both at once: the slow one sets the test's time
        one = pool.submit(timed, publish, {"type": "t"})
        many = pool.submit(timed, batch, [{"type": "t", "n": n} for n in range(700)])
        (single, single_seconds), (answer, batch_seconds) = one.result(), many.result()

    # publish gives up with the client's timeout error, before Lambda would kill it.
    assert single.error["errorType"] == "ReadTimeoutError", single.error
    assert single_seconds < publish.timeout
    # publish_batch answers: every entry failed with its reason, none dropped.
    assert answer.error is None, answer.error
    assert answer.answer["FailedRecordCount"] == 700
    assert {r["ErrorCode"] for r in answer.answer["Records"]} <= {"ReadTimeoutError", "NotSent"}
    assert batch_seconds < batch.timeout
    assert any('"UnpublishedEvents": 700' in line for line in answer.log_lines)
