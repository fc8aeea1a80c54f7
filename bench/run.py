"""Benchmarks: what users of this project pay, each figure beside its floor.

Prints a table and writes bench/results.json. Every figure is a median over repeated runs,
measured side by side with its floor in the same run (interleaved where it matters), so
the ratios hold on a noisy machine even when the absolute numbers do not.

    make bench            # or: .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import console
import consumers  # bench/consumers.py, lake.py, ...: the script's folder is on sys.path
import contracts
import lake
import soak
import workers
from figures import Figure, missed, table

from event_stream.lambda_src import event_envelope, publisher
from event_stream.runtime import LAMBDA_SRC
from event_stream.tools.cli.cdk_cli import QUIET_ENV, cdk_executable
from event_stream.tools.local import launcher as local_aws

# The checkout this script sits in: the app it synthesizes and the CDK CLI it pins.
ROOT = Path(__file__).resolve().parent.parent
CDK = cdk_executable(ROOT)

# Set for the run only (by `main`, through `fake_aws`), never at import.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
RESULTS = Path(__file__).resolve().parent / "results.json"

EVENT = {"type": "thing-created", "thing": {"id": str(uuid.uuid4()), "name": "Thing One"}}


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def interleaved(runs: int, *measures) -> list[float]:
    """Median of each measure, run in turn so drift hits all of them alike."""
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for i, measure in enumerate(measures):
            samples[i].append(measure())
    return [statistics.median(s) for s in samples]


# 1. + 5. synth, then the asset it produced


def synth_times(runs: int) -> tuple[float, float, float, float, Path]:
    """`cdk synth` of the app, of the app without its lake, of a bare one-stream app, and of
    that plus one function."""
    out = Path(tempfile.mkdtemp(prefix="bench-synth-"))

    def synth(app_args: list[str], outdir: Path, extra_env: dict[str, str]):
        env = {**os.environ, **QUIET_ENV, **extra_env}

        def run() -> float:
            started = time.perf_counter()
            subprocess.run(
                [str(CDK), "synth", "--quiet", *app_args, "--output", str(outdir)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            return time.perf_counter() - started

        return run

    bare = [f"--app={sys.executable} bench/bare_app.py"]
    app_time, no_lake_time, bare_time, function_time = interleaved(
        runs,
        synth([], out / "app", {}),
        synth(["--context", "lake=false"], out / "no-lake", {}),
        synth(bare, out / "bare", {}),
        synth(bare, out / "bare-fn", {"BARE_FUNCTION": "1"}),
    )
    return app_time, no_lake_time, bare_time, function_time, out / "app"


def zipped(files: list[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.write(path, path.name)
    return len(buffer.getvalue())


def asset_sizes(assembly: Path) -> dict:
    template = json.loads(next(assembly.glob("cncb-event-stream-*.template.json")).read_text())
    # The publishers' one asset (the lake's transformer and CDK's providers have their own).
    (key,) = {
        r["Properties"]["Code"]["S3Key"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and str(r["Properties"].get("Handler", "")).startswith("handler.publish")
    }
    asset = assembly / f"asset.{key.removesuffix('.zip')}"
    files = sorted(p for p in asset.iterdir() if p.is_file())
    floor = [asset / "handler.py", asset / "event_envelope.py"]
    return {"files": [p.name for p in files], "zipped": zipped(files), "floor": zipped(floor)}


def synth_and_asset_figures(r: dict) -> list[Figure]:
    a, s = r["asset"], r["synth"]
    return [
        Figure(
            "Lambda asset, zipped",
            f"{a['zipped']:,} B ({len(a['files'])} files)",
            f"{a['floor']:,} B (handler + envelope)",
            f"{a['zipped'] / a['floor']:.2f}x",
            "<= 8 KB",
            a["zipped"] <= 8192,
        ),
        Figure(
            "cdk synth, the app without its lake",
            f"{s['no_lake_s']:.2f} s",
            f"{s['bare_s']:.2f} s (one stream)",
            f"{s['no_lake_ratio']:.2f}x",
            "<= 1.15x",
            s["no_lake_ratio"] <= 1.15,
        ),
        Figure(
            "cdk synth, the app (stream, publishers, lake)",
            f"{s['app_s']:.2f} s",
            f"{s['bare_s']:.2f} s (one stream)",
            f"{s['ratio']:.2f}x",
        ),
        Figure(
            "cdk synth vs stream + one function",
            f"{s['app_s']:.2f} s",
            f"{s['bare_function_s']:.2f} s",
            f"{s['ratio_to_bare_function']:.2f}x",
        ),
    ]


# 2. cold start


COLD_HANDLER = "import time; t=time.perf_counter(); import handler; print(time.perf_counter()-t)"
COLD_FLOOR = (
    "import time; t=time.perf_counter(); import boto3; boto3.client('kinesis'); "
    "print(time.perf_counter()-t)"
)


def cold_start(runs: int) -> tuple[float, float]:
    env = {**os.environ, "STREAM_NAME": "bench-s1", "PYTHONDONTWRITEBYTECODE": "1"}

    def fresh(code: str):
        def run() -> float:
            result = subprocess.run(
                [sys.executable, "-c", code],
                cwd=LAMBDA_SRC,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            return float(result.stdout)

        return run

    for _ in range(2):  # warm the OS file cache for both
        fresh(COLD_HANDLER)(), fresh(COLD_FLOOR)()
    return tuple(interleaved(runs, fresh(COLD_HANDLER), fresh(COLD_FLOOR)))


def cold_start_figures(r: dict) -> list[Figure]:
    c = r["cold_start"]
    return [
        Figure(
            "cold start: import handler",
            f"{c['handler_s'] * 1000:.0f} ms",
            f"{c['floor_s'] * 1000:.0f} ms (boto3 + client)",
            f"{c['ratio']:.3f}x",
            "<= 1.05x",
            c["ratio"] <= 1.05,
        )
    ]


# 3. envelope cost


def envelope_cost(number: int) -> tuple[float, float]:
    def ours() -> None:
        event_envelope.prepare(EVENT, region="us-east-1")

    def floor() -> None:
        json.dumps(
            {
                "id": str(uuid.uuid1()),
                "partitionKey": str(uuid.uuid4()),
                "timestamp": 0,
                "tags": {"region": "us-east-1"},
                **EVENT,
            },
            separators=(",", ":"),
        ).encode()

    timers = [
        lambda: min(timeit.repeat(ours, number=number, repeat=3)) / number,
        lambda: min(timeit.repeat(floor, number=number, repeat=3)) / number,
    ]
    return tuple(interleaved(5, *timers))


def envelope_figures(r: dict) -> list[Figure]:
    e = r["envelope"]
    return [
        Figure(
            "envelope: build+validate+encode",
            f"{e['per_event_us']:.1f} us",
            f"{e['floor_us']:.1f} us (2 uuids + dumps)",
            f"{e['ratio']:.2f}x",
            "<= 1.5x",
            e["ratio"] <= 1.5,
        )
    ]


# 4. throughput and 6. shard spread


def throughput(client_factory, singles: int, batched: int, runs: int) -> dict:
    """Events/s: `publish` one at a time, `publish_batch` (envelope included), and, on the
    same prepared records, the publisher against raw boto3 put_records.

    Each timed run starts on a fresh, empty stream: moto slows down as a stream fills, which
    would otherwise favour whichever measure runs first.
    """
    import importlib

    os.environ["STREAM_NAME"] = "bench-throughput"
    client = client_factory()

    def fresh_stream() -> None:
        if "bench-throughput" in client.list_streams()["StreamNames"]:
            client.delete_stream(StreamName="bench-throughput")
        client.create_stream(StreamName="bench-throughput", ShardCount=1)

    from event_stream.lambda_src import handler

    handler = importlib.reload(handler)  # a client for this endpoint
    events = [dict(EVENT, n=i) for i in range(batched)]
    put = publisher.Publisher(client, "bench-throughput")

    def one_at_a_time() -> float:
        fresh_stream()
        started = time.perf_counter()
        for event in events[:singles]:
            handler.publish(event, None)
        return singles / (time.perf_counter() - started)

    def publish_batch() -> float:
        fresh_stream()
        started = time.perf_counter()
        answer = handler.publish_batch(events, None)
        assert answer["FailedRecordCount"] == 0
        return batched / (time.perf_counter() - started)

    # The same prepared records for the publisher and raw boto3: envelope cost is figure 3.
    prepared = event_envelope.prepare_all(events, region="us-east-1")

    def publisher_batches() -> float:
        fresh_stream()
        started = time.perf_counter()
        answer = put.put_many(prepared)
        assert answer["FailedRecordCount"] == 0
        return batched / (time.perf_counter() - started)

    chunks = [
        [{"Data": prepared[i].data, "PartitionKey": prepared[i].partition_key} for i in chunk]
        for chunk in publisher.chunked(range(len(prepared)), prepared)
    ]

    def raw_put_records() -> float:
        fresh_stream()
        started = time.perf_counter()
        for chunk in chunks:
            client.put_records(StreamName="bench-throughput", Records=chunk)
        return batched / (time.perf_counter() - started)

    single, batch, ours, raw = interleaved(
        runs, one_at_a_time, publish_batch, publisher_batches, raw_put_records
    )
    client.delete_stream(StreamName="bench-throughput")
    return {
        "single_per_s": single,
        "batch_per_s": batch,
        "publisher_per_s": ours,
        "raw_per_s": raw,
        "publisher_over_raw": ours / raw,
        "batch_over_single": batch / single,
    }


def shard_spread(client, count: int) -> dict:
    client.create_stream(StreamName="bench-spread", ShardCount=4)
    put = publisher.Publisher(client, "bench-spread")
    shards = {}
    for label, key in (("generated", None), ("one_key", "hot-entity")):
        events = [{"type": "t", **({"partitionKey": key} if key else {})} for _ in range(count)]
        answer = put.put_many(event_envelope.prepare_all(events, region="us-east-1"))
        counts = Counter(r["ShardId"] for r in answer["Records"])
        per_shard = [counts.get(f"shardId-{i:012d}", 0) for i in range(4)]
        shards[label] = {
            "per_shard": per_shard,
            "max_over_min": max(per_shard) / min(per_shard) if min(per_shard) else float("inf"),
        }
    client.delete_stream(StreamName="bench-spread")
    return shards


def throughput_figures(r: dict) -> list[Figure]:
    rows = []
    for key, where in (("throughput_moto", "moto"), ("throughput_moto_server", "moto_server")):
        m = r[key]
        rows.append(
            Figure(
                f"publisher vs raw put_records, {where}",
                f"{m['publisher_per_s']:,.0f} ev/s",
                f"{m['raw_per_s']:,.0f} ev/s",
                f"{m['publisher_over_raw']:.2f}x",
                ">= 0.9x",
                m["publisher_over_raw"] >= 0.9,
            )
        )
        rows.append(
            Figure(
                f"publish_batch vs publish one at a time, {where}",
                f"{m['batch_per_s']:,.0f} ev/s",
                f"{m['single_per_s']:,.0f} ev/s",
                f"{m['batch_over_single']:.1f}x",
            )
        )
    return rows


def shard_spread_figures(r: dict) -> list[Figure]:
    sp = r["shard_spread"]
    return [
        Figure(
            "shard spread, generated keys (4 shards)",
            str(sp["generated"]["per_shard"]),
            "1.0",
            f"{sp['generated']['max_over_min']:.3f}",
            "<= 1.1",
            sp["generated"]["max_over_min"] <= 1.1,
        ),
        Figure(
            "shard spread, one fixed key",
            str(sp["one_key"]["per_shard"]),
            "1.0",
            "all on one shard",
        ),
    ]


# Every figure of the table, in its order: each section's declarations, beside its measure.
SECTIONS = (
    synth_and_asset_figures,
    cold_start_figures,
    envelope_figures,
    throughput_figures,
    shard_spread_figures,
    contracts.figures,
    consumers.figures,
    soak.figures,
    lake.figures,
    workers.figures,
    console.figures,
)


def all_figures(results: dict) -> list[Figure]:
    return [f for section in SECTIONS for f in section(results)]


@contextmanager
def fake_aws() -> Iterator[None]:
    """Test credentials for the run, no endpoint; the caller's environment comes back."""
    saved = dict(os.environ)
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--stored",
        action="store_true",
        help=f"measure nothing: print the table of {RESULTS.name} as last written",
    )
    parser.add_argument("--check", action="store_true", help="exit 1, naming each target missed")
    args = parser.parse_args()
    if args.stored:
        results = json.loads(RESULTS.read_text())
    else:
        with fake_aws():
            results = measure(runs=3 if args.quick else 7, quick=args.quick)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    figures = all_figures(results)
    print(table(figures, results["machine"]))
    misses = missed(figures)
    if args.check and misses:
        print("\n".join(misses), file=sys.stderr)
        sys.exit(1)


def measure(runs: int, quick: bool) -> dict:
    """Every measurement, in one run (the ratios are side by side within it)."""
    import boto3
    from moto import mock_aws

    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
    }
    print("synthesizing (app and bare app, interleaved) ...", file=sys.stderr)
    app_s, no_lake_s, bare_s, function_s, assembly = synth_times(max(3, runs // 2))
    results["synth"] = {
        "app_s": app_s,
        "no_lake_s": no_lake_s,
        "bare_s": bare_s,
        "bare_function_s": function_s,
        "ratio": app_s / bare_s,
        "no_lake_ratio": no_lake_s / bare_s,
        "ratio_to_bare_function": app_s / function_s,
    }
    results["asset"] = asset_sizes(assembly)
    print("cold starts ...", file=sys.stderr)
    handler_s, floor_s = cold_start(runs * 3)
    results["cold_start"] = {
        "handler_s": handler_s,
        "floor_s": floor_s,
        "ratio": handler_s / floor_s,
    }
    print("envelope ...", file=sys.stderr)
    ours, floor = envelope_cost(20_000)
    results["envelope"] = {
        "per_event_us": ours * 1e6,
        "floor_us": floor * 1e6,
        "ratio": ours / floor,
    }

    print("throughput on in-process moto ...", file=sys.stderr)
    with mock_aws():
        results["throughput_moto"] = throughput(
            lambda: boto3.client("kinesis"), singles=300, batched=5000, runs=runs
        )
        results["shard_spread"] = shard_spread(boto3.client("kinesis"), 10_000)
    print("throughput on moto_server ...", file=sys.stderr)
    state = Path(tempfile.mkdtemp(prefix="bench-local-aws-"))
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        results["throughput_moto_server"] = throughput(
            lambda: boto3.client("kinesis"), singles=300, batched=5000, runs=runs
        )
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        local_aws.stop(state_dir=state)

    print("event contracts (validators, publish_batch, asset, cold start) ...", file=sys.stderr)
    results["contracts"] = contracts.measure(runs=runs)
    print(
        "consumers on the local AWS (delivery, shards, latency, publishing beside one) ...",
        file=sys.stderr,
    )
    results["consumers"] = consumers.measure(runs=1 if quick else 3)
    print("the soak: 4 shards, DynamoDB writes, 2 % transient faults ...", file=sys.stderr)
    results["soak"] = soak.measure(runs=1 if quick else 3)
    print("the event lake on the local AWS (throughput, lag) ...", file=sys.stderr)
    results["lake"] = lake.measure(runs=1 if quick else 3)
    print("warm workers: Node.js against Python ...", file=sys.stderr)
    results["workers"] = workers.measure(invocations=50 if quick else 200)
    print("the event console: a stage with 100,000 records ...", file=sys.stderr)
    results["console"] = console.measure(runs=1 if quick else 3)
    return results


if __name__ == "__main__":
    main()
