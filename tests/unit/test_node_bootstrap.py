"""The Node.js bootstrap's side of the worker protocol, driven directly with `node`: one
answer line per request line, in order, each with its own log lines and request id."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from event_stream.tools.lambda_model import workers

pytestmark = pytest.mark.skipif(workers.node_major() is None, reason="no node on this machine")

HANDLER = """
exports.handler = async (event, context) => {
  console.log("got", event.n);
  if (event.n === 2) throw new Error("two");
  return { n: event.n, id: context.awsRequestId };
};
"""


def converse(tmp_path: Path, *requests: dict) -> list[dict]:
    (tmp_path / "index.js").write_text(HANDLER)
    lines = "".join(json.dumps(r) + "\n" for r in requests) + "\n"  # a blank line is skipped
    result = subprocess.run(
        [shutil.which("node"), str(workers.NODE_BOOTSTRAP), "index.handler", "fn", "arn:fn"],
        input=lines,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"LAMBDA_TASK_ROOT": str(tmp_path)},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_each_request_gets_one_answer_in_order(tmp_path):
    answers = converse(tmp_path, *({"event": {"n": n}, "requestId": f"r{n}"} for n in (1, 3)))
    assert [a["result"] for a in answers] == [{"n": 1, "id": "r1"}, {"n": 3, "id": "r3"}]


def test_each_answer_carries_its_own_log_lines_with_its_request_id(tmp_path):
    answers = converse(tmp_path, *({"event": {"n": n}, "requestId": f"r{n}"} for n in (1, 3)))
    assert [[line.split("\t")[1:] for line in a["logs"]] for a in answers] == [
        [["r1", "INFO", "got 1"]],
        [["r3", "INFO", "got 3"]],
    ]


def test_an_error_answers_lambdas_shape_and_the_next_request_still_runs(tmp_path):
    answers = converse(
        tmp_path, {"event": {"n": 2}, "requestId": "r2"}, {"event": {"n": 4}, "requestId": "r4"}
    )
    assert {k: answers[0][k] for k in ("errorType", "errorMessage")} == {
        "errorType": "Error",
        "errorMessage": "two",
    }
    assert any("Invoke Error" in line for line in answers[0]["logs"])
    assert answers[1]["result"] == {"n": 4, "id": "r4"}
