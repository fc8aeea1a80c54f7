"""Warm invocation overhead of the local AWS's workers: a Node.js worker against a Python
one, each answering the same no-op Kinesis batch of 100 records. Run by bench/run.py."""

from __future__ import annotations

import io
import statistics
import time
import zipfile

from figures import Figure

from event_stream.tools.lambda_model.function import DeployedFunction
from event_stream.tools.lambda_model.kinesis_event import lambda_event
from event_stream.tools.lambda_model.workers import Worker

PYTHON = ("handler.py", "def handler(event, context):\n    return {'batchItemFailures': []}\n")
NODE = ("index.js", "exports.handler = async () => ({ batchItemFailures: [] });\n")


def _function(runtime: str, source: tuple[str, str], handler: str) -> DeployedFunction:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(*source)
    return DeployedFunction(
        name=f"bench-{runtime}",
        handler=handler,
        environment={},
        log_group=f"/aws/lambda/bench-{runtime}",
        log_level="INFO",
        timeout=30,
        code_zip=code.getvalue(),
        runtime=runtime,
        log_format="JSON",
    )


def _batch() -> dict:
    records = [
        {
            "PartitionKey": f"k{n}",
            "SequenceNumber": str(n),
            "Data": b'{"id":"x","type":"bench","timestamp":1,"partitionKey":"k","tags":{}}',
            "ApproximateArrivalTimestamp": 1764300000.0,
        }
        for n in range(100)
    ]
    return lambda_event(
        records,
        shard_id="shardId-000000000000",
        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/bench",
        region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/bench",
    )


def measure(invocations: int) -> dict[str, float]:
    """Median seconds per warm invocation of each worker, interleaved in one run."""
    event = _batch()
    workers = {
        "python": Worker(_function("python3.14", PYTHON, "handler.handler"), region="us-east-1"),
        "node": Worker(_function("nodejs20.x", NODE, "index.handler"), region="us-east-1"),
    }
    samples: dict[str, list[float]] = {name: [] for name in workers}
    try:
        for worker in workers.values():
            worker.invoke(event)  # the init phase, not measured
        for _ in range(invocations):
            for name, worker in workers.items():
                started = time.perf_counter()
                worker.invoke(event)
                samples[name].append(time.perf_counter() - started)
    finally:
        for worker in workers.values():
            worker.stop()
    python, node = (statistics.median(samples[n]) for n in ("python", "node"))
    return {"python_ms": python * 1000, "node_ms": node * 1000, "ratio": node / python}


def figures(r: dict) -> list[Figure]:
    """The workers' row of the table, from `measure`'s results."""
    w = r["workers"]
    return [
        Figure(
            "warm invocation, 100 records: Node.js worker",
            f"{w['node_ms']:.2f} ms",
            f"{w['python_ms']:.2f} ms (Python worker)",
            f"{w['ratio']:.2f}x",
            "<= 1.5x",
            w["ratio"] <= 1.5,
        )
    ]
