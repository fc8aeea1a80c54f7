"""The Node.js example consumer's handler (examples/node_consumer/handler/index.js), run by
the machine's node on the Lambda events of the fixtures: no record its (absent) filter lets
through makes it throw."""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

import pytest

from tests.conftest import ROOT, load_fixture

HANDLER = ROOT / "examples" / "node_consumer" / "handler" / "index.js"
# Calls the handler once with the event on stdin; prints its log lines, then its answer.
RUN = (
    "const {handler} = require(process.argv[1]);"
    "handler(JSON.parse(require('fs').readFileSync(0, 'utf8')))"
    ".then((answer) => console.log('ANSWER ' + JSON.stringify(answer)))"
)


def run_handler(event: dict[str, Any]) -> tuple[Any, list[str]]:
    """The handler's answer and log lines, or the test fails with node's error."""
    done = subprocess.run(
        ["node", "-e", RUN, str(HANDLER)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    *logs, answer = done.stdout.splitlines()
    return json.loads(answer.removeprefix("ANSWER ")), logs


@pytest.fixture(scope="module")
def unreadable():
    return run_handler(load_fixture("kinesis-unreadable.json"))


def test_records_that_are_not_envelopes_leave_the_batch_successful(unreadable):
    answer, _ = unreadable
    assert answer == {"batchItemFailures": []}


def test_an_event_without_timestamp_is_logged_with_an_unknown_age(unreadable):
    _, logs = unreadable
    # The fixture's third record is {"type": "thing-created"}: no id, no timestamp.
    assert 'event {"type":"thing-created","age":"unknown"}' in logs


def test_a_record_that_is_not_json_is_skipped_naming_its_sequence_number(unreadable):
    _, logs = unreadable
    sequence = load_fixture("kinesis-unreadable.json")["Records"][1]["kinesis"]["sequenceNumber"]
    assert f"skipped a record that is not a JSON object {sequence}" in logs


def test_thing_created_events_are_counted():
    batch = load_fixture("kinesis-batch.json")
    types = [
        json.loads(base64.b64decode(record["kinesis"]["data"]))["type"]
        for record in batch["Records"]
    ]
    answer, logs = run_handler(batch)
    assert answer == {"batchItemFailures": []}
    assert logs[-1] == f"thing-created so far {types.count('thing-created')}"
