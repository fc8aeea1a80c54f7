"""Node.js functions in the local AWS's warm workers: each handler style the Lambda Node.js
runtime accepts, its context, environment, modules, errors, logs and timeout.

Each function is a zip built here and run with the machine's `node` through
`workers.Worker`, as the local AWS and `invoke --local` run a deployed function.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from event_stream.tools.lambda_model import workers
from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.workers import UnsupportedRuntime, Worker

pytestmark = pytest.mark.skipif(workers.node_major() is None, reason="no node on this machine")

COMMONJS = """
const counter = { calls: 0 };
exports.asyncHandler = async (event, context) => ({
  event,
  functionName: context.functionName,
  requestId: context.awsRequestId,
  arn: context.invokedFunctionArn,
  memory: context.memoryLimitInMB,
  logGroup: context.logGroupName,
  remaining: context.getRemainingTimeInMillis(),
  region: process.env.AWS_REGION,
  table: process.env.TABLE,
});
exports.promise = (event) => Promise.resolve({ doubled: event.n * 2 });
exports.callback = (event, context, callback) => setTimeout(() => callback(null, "called back"), 10);
exports.callbackError = (event, context, callback) => callback(new TypeError("bad input"));
exports.succeed = (event, context) => context.succeed({ via: "succeed" });
exports.fail = (event, context) => context.fail(new Error("via fail"));
exports.noAnswer = (event) => { console.log("ran"); };
exports.throws = async () => { throw new RangeError("out of range"); };
exports.count = async () => { counter.calls += 1; console.log("call", counter.calls); return counter.calls; };
exports.logs = async () => {
  console.debug("debug line"); console.info("info line"); console.warn("warn line");
  console.error("error line", { a: 1 }); process.stdout.write("raw stdout\\n");
  return null;
};
exports.hang = () => new Promise(() => {});
exports.crash = async () => { process.exit(3); };
"""

ESM = """
export const handler = async (event) => ({ kind: "esm", event });
"""


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def node_function(
    handler: str, *, files: dict[str, str] | None = None, timeout: int = 3, **settings
) -> DeployedFunction:
    return DeployedFunction(
        name="node-consumer",
        handler=handler,
        environment={"TABLE": "things"},
        log_group="/aws/lambda/node-consumer",
        log_level=settings.pop("log_level", "INFO"),
        timeout=timeout,
        code_zip=zipped(files or {"index.js": COMMONJS}),
        runtime=settings.pop("runtime", "nodejs20.x"),
        arn="arn:aws:lambda:us-east-1:123456789012:function:node-consumer",
        memory_size=256,
        log_format=settings.pop("log_format", "Text"),
    )


def run(function: DeployedFunction, event=None):
    worker = Worker(function, region="eu-west-1")
    try:
        return worker.invoke({} if event is None else event)
    finally:
        worker.stop()


def test_an_async_handler_gets_the_event_context_and_environment():
    answer = run(node_function("index.asyncHandler"), {"type": "t"}).answer
    assert answer["event"] == {"type": "t"}
    assert (answer["functionName"], answer["arn"], answer["memory"], answer["logGroup"]) == (
        "node-consumer",
        "arn:aws:lambda:us-east-1:123456789012:function:node-consumer",
        "256",
        "/aws/lambda/node-consumer",
    )
    assert answer["requestId"] and 0 < answer["remaining"] <= 3000
    assert (answer["region"], answer["table"]) == ("eu-west-1", "things")


@pytest.mark.parametrize(
    "handler,expected",
    [
        ("promise", {"doubled": 4}),
        ("callback", "called back"),
        ("succeed", {"via": "succeed"}),
        ("noAnswer", None),
    ],
)
def test_each_handler_style_answers(handler, expected):
    invocation = run(node_function(f"index.{handler}"), {"n": 2})
    assert (invocation.answer, invocation.error) == (expected, None)


@pytest.mark.parametrize(
    "handler,error_type,message",
    [
        ("throws", "RangeError", "out of range"),
        ("callbackError", "TypeError", "bad input"),
        ("fail", "Error", "via fail"),
    ],
)
def test_an_error_is_answered_in_lambdas_shape(handler, error_type, message):
    error = run(node_function(f"index.{handler}")).error
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)
    assert error["trace"][0].startswith(error_type)


def test_an_es_module_handler_runs():
    files = {"index.mjs": ESM}
    assert run(node_function("index.handler", files=files)).answer == {"kind": "esm", "event": {}}


def test_a_js_file_in_a_type_module_package_is_an_es_module():
    files = {"index.js": ESM, "package.json": json.dumps({"type": "module"})}
    assert run(node_function("index.handler", files=files)).answer["kind"] == "esm"


def test_a_handler_in_a_subfolder_and_node_modules_in_the_asset_resolve_as_in_lambda():
    files = {
        "src/app.js": "exports.go = async () => require('tiny-dep').shout('hi');",
        "node_modules/tiny-dep/package.json": json.dumps({"name": "tiny-dep", "main": "main.js"}),
        "node_modules/tiny-dep/main.js": "exports.shout = (s) => s.toUpperCase() + '!';",
    }
    assert run(node_function("src/app.go", files=files)).answer == "HI!"


@pytest.mark.parametrize(
    "handler,error_type",
    [("missing.handler", "Runtime.ImportModuleError"), ("index.nope", "Runtime.HandlerNotFound")],
)
def test_a_wrong_handler_setting_is_lambdas_init_error(handler, error_type):
    assert run(node_function(handler)).error["errorType"] == error_type


def test_text_logs_carry_time_request_id_and_level():
    invocation = run(node_function("index.logs"))
    fields = [line.split("\t") for line in invocation.log_lines if "\t" in line]
    # Text logs are not filtered by level (Lambda filters JSON logs only).
    assert [(f[2], f[3]) for f in fields] == [
        ("DEBUG", "debug line"),
        ("INFO", "info line"),
        ("WARN", "warn line"),
        ("ERROR", "error line { a: 1 }"),
    ]
    assert all(f[0].endswith("Z") and len(f[1]) == 36 for f in fields)
    assert "raw stdout" in invocation.log_lines


def test_json_logs_are_filtered_by_the_functions_log_level():
    invocation = run(node_function("index.logs", log_format="JSON", log_level="WARN"))
    entries = [json.loads(line) for line in invocation.log_lines if line.startswith("{")]
    assert [(e["level"], e["message"]) for e in entries] == [
        ("WARN", "warn line"),
        ("ERROR", "error line { a: 1 }"),
    ]
    assert all(e["requestId"] for e in entries)


def test_a_warm_worker_keeps_the_module_loaded_between_invocations():
    worker = Worker(node_function("index.count"), region="us-east-1")
    try:
        answers = [worker.invoke({}) for _ in range(3)]
    finally:
        worker.stop()
    assert [a.answer for a in answers] == [1, 2, 3]
    assert answers[1].log_lines[0].endswith("\tINFO\tcall 2")  # each its own lines


def test_a_hung_handler_times_out_like_lambda(monkeypatch):
    monkeypatch.setattr(workers, "INTERPRETER_START", 1)
    assert run(node_function("index.hang", timeout=1)).error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1 seconds",
    }


def test_a_process_that_exits_is_a_runtime_exit_error():
    assert run(node_function("index.crash")).error["errorType"] == "Runtime.ExitError"


@pytest.mark.parametrize("runtime", ["java21", "provided.al2023", "ruby3.3", "nodejs99.x"])
def test_a_runtime_the_local_aws_cannot_run_is_named_with_what_it_runs(runtime):
    with pytest.raises(UnsupportedRuntime, match=rf"cannot run runtime {runtime}; it runs python3"):
        Worker(node_function("index.handler", runtime=runtime), region="us-east-1")
