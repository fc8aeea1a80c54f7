"""The event console on the local AWS: a stage with 100,000 records on its stream; how long
its records page takes to open and an event takes to be found by id (the newest one, so
every record is read), each beside its floor measured in the same run: one GetRecords page,
and the whole stream read by the shard reader. Run by bench/run.py, or alone:

    .venv/bin/python bench/console.py    # measures, merges into bench/results.json
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from figures import Figure

from event_stream.lambda_src import event_envelope
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.console.server import ConsoleServer
from event_stream.tools.cli.target import Target
from event_stream.tools.local import launcher as local_aws
from event_stream.tools.readers.shard_reader import read_stream

RECORDS = 100_000
STAGE = "bench"
STREAM = f"{STAGE}-cncb-event-stream-s1"
TEMPLATE = {
    "Resources": {
        "Stream": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"Name": STREAM, "ShardCount": 1},  # the default stage's one shard
        }
    },
    "Outputs": {
        "streamName": {"Value": {"Ref": "Stream"}},
        "streamArn": {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}},
    },
}


def _fill(kinesis: Any) -> str:
    """Put RECORDS envelopes (about 300 bytes each) on the stream; the newest one's id."""
    last = ""
    for first in range(0, RECORDS, 500):
        batch = [
            event_envelope.prepare(
                {"type": "thing-created", "thing": {"n": n, "name": "x" * 120}},
                region=local_aws.REGION,
                max_record_bytes=event_envelope.DEFAULT_MAX_RECORD_BYTES,
            )
            for n in range(first, min(first + 500, RECORDS))
        ]
        kinesis.put_records(
            StreamName=STREAM,
            Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in batch],
        )
        last = batch[-1].envelope["id"]
    return last


def _timed_get(url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as answer:
        body = answer.read()
    return time.perf_counter() - started, body


def measure(runs: int) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp()) / ".local-aws"
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        client = lambda service: local_aws.client(server.endpoint, service)  # noqa: E731
        client("cloudformation").create_stack(
            StackName=f"cncb-event-stream-{STAGE}", TemplateBody=json.dumps(TEMPLATE)
        )
        kinesis = client("kinesis")
        started = time.perf_counter()
        newest = _fill(kinesis)
        fill_s = time.perf_counter() - started
        console = ConsoleServer(ConsoleContext(Target(server.endpoint, local_aws.REGION))).start()
        base = console.url.rstrip("/")
        page_s, floor_page_s, find_s, floor_scan_s = [], [], [], []
        for _ in range(runs):  # interleaved: each figure beside its floor
            seconds, body = _timed_get(f"{base}/stages/{STAGE}/records")
            assert b'<tr class="record"' in body
            page_s.append(seconds)
            started = time.perf_counter()
            iterator = kinesis.get_shard_iterator(
                StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            kinesis.get_records(ShardIterator=iterator, Limit=50)
            floor_page_s.append(time.perf_counter() - started)
            seconds, body = _timed_get(f"{base}/stages/{STAGE}/records?id={newest}")
            assert newest.encode() in body
            find_s.append(seconds)
            started = time.perf_counter()
            scanned = sum(1 for _ in read_stream(kinesis, STREAM, sleep=time.sleep))
            floor_scan_s.append(time.perf_counter() - started)
            assert scanned == RECORDS
        console.stop()
        return {
            "records": RECORDS,
            "fill_s": fill_s,
            "records_page_s": statistics.median(page_s),
            "get_records_page_s": statistics.median(floor_page_s),
            "find_by_id_s": statistics.median(find_s),
            "read_whole_stream_s": statistics.median(floor_scan_s),
        }
    finally:
        local_aws.stop(state_dir=state)


def figures(r: dict[str, Any]) -> list[Figure]:
    """The console's rows of the table."""
    if "console" not in r:
        return []
    c = r["console"]
    return [
        Figure(
            f"console: records page of a stage with {c['records']:,} records",
            f"{c['records_page_s']:.3f} s",
            f"{c['get_records_page_s']:.3f} s (one GetRecords of 50)",
            f"{c['records_page_s'] / c['get_records_page_s']:.1f}x",
            "< 1 s",
            c["records_page_s"] < 1,
        ),
        Figure(
            f"console: an event found by id among {c['records']:,} (the newest: all read)",
            f"{c['find_by_id_s']:.2f} s",
            f"{c['read_whole_stream_s']:.2f} s (the shard reader, whole stream)",
            f"{c['find_by_id_s'] / c['read_whole_stream_s']:.2f}x",
            "< 2 s",
            c["find_by_id_s"] < 2,
        ),
    ]


if __name__ == "__main__":
    results_file = Path(__file__).resolve().parent / "results.json"
    measured = measure(runs=int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    results = json.loads(results_file.read_text())
    results["console"] = {**measured, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    for figure in figures(results):
        print(figure)
