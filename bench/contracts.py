"""Event contracts: what checking a body costs, beside its floors, in one run.

- the generated validator against `jsonschema`'s validator for the same schema (a typical
  1 KB event; target: at least 10x faster) and against the envelope's own check (`build`:
  the contract check adds at most what the envelope check costs);
- `publish_batch` with the contracts shipped against without (in-process moto; >= 0.9x);
- the publishers' asset with ten contracts against without, zipped, and its cold start
  (`import handler` in a fresh interpreter; <= 1.05x).
Run by bench/run.py (`make bench`) inside its fake AWS environment.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import zipfile
from pathlib import Path
from typing import Any

from figures import Figure

from event_stream.contracts.compiler import write_package
from event_stream.contracts.files import Contract
from event_stream.lambda_src import event_envelope
from event_stream.runtime import CONTRACT_RUNTIME_FILES, LAMBDA_SRC, RUNTIME_FILES
from event_stream.tools.readers.contract_package import from_folder

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "orderId": {"type": "string", "minLength": 1, "maxLength": 64},
        "customer": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string", "maxLength": 200},
                "email": {"type": "string", "maxLength": 320},
                "tier": {"enum": ["basic", "silver", "gold"]},
            },
            "required": ["id", "name"],
            "additionalProperties": False,
        },
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "price": {"type": "number", "minimum": 0},
                },
                "required": ["sku", "quantity", "price"],
                "additionalProperties": False,
            },
        },
        "total": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "note": {"type": "string", "maxLength": 500},
    },
    "required": ["orderId", "customer", "lines", "total", "currency"],
    "additionalProperties": False,
}
EVENT: dict[str, Any] = {
    "type": "order-placed",
    "orderId": "o-2026-12-06-000123",
    "customer": {"id": "c-42", "name": "Ada Lovelace", "email": "ada@example.com", "tier": "gold"},
    "lines": [{"sku": f"sku-{n:04d}", "quantity": n + 1, "price": 9.99 + n} for n in range(6)],
    "total": 123.45,
    "currency": "EUR",
    "note": "Leave the parcel with the neighbour at number 12 if nobody answers the door. " * 5,
}


def ten_contracts() -> dict[str, list[Contract]]:
    """Ten event types shaped like a shop's (the order schema, and nine with a field renamed)."""
    contracts = {}
    for n in range(10):
        schema = copy.deepcopy(SCHEMA)
        if n:
            schema["properties"][f"field{n}"] = schema["properties"].pop("note")
        event_type = "order-placed" if n == 0 else f"shop-event-{n}"
        contracts[event_type] = [Contract(event_type, 1, Path(f"{event_type}/v1.json"), schema)]
    return contracts


def asset(folder: Path, contracts: dict[str, list[Contract]] | None) -> Path:
    """A publishers' asset as the synth assembles it, with or without contracts."""
    folder.mkdir(parents=True)
    for name in (*RUNTIME_FILES, *(CONTRACT_RUNTIME_FILES if contracts else ())):
        shutil.copy(LAMBDA_SRC / name, folder / name)
    if contracts:
        write_package(contracts, contracts, folder)
    return folder


def zipped(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


COLD = "import time; t=time.perf_counter(); import handler; print(time.perf_counter()-t)"


def cold_start(folder: Path) -> float:
    env = {**os.environ, "STREAM_NAME": "bench-s1", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", COLD],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout)


def measure(runs: int) -> dict[str, Any]:
    """Every contracts figure, in one run."""
    import jsonschema
    from moto import mock_aws

    out = Path(tempfile.mkdtemp(prefix="bench-contracts-"))
    with_contracts = asset(out / "with", ten_contracts())
    without = asset(out / "without", None)

    contracts = from_folder(with_contracts, strict=False)
    assert contracts is not None
    envelope = event_envelope.build(EVENT, region="us-east-1")
    contracts.check(envelope)  # imported before timing
    reference = jsonschema.Draft202012Validator(SCHEMA)
    body = {k: v for k, v in envelope.items() if k not in event_envelope.RESERVED_FIELDS}
    number = 20_000
    ours = min(timeit.repeat(lambda: contracts.check(envelope), number=number, repeat=5)) / number
    floor = min(timeit.repeat(lambda: reference.validate(body), number=number // 20, repeat=5)) / (
        number // 20
    )
    envelope_check = (
        min(
            timeit.repeat(
                lambda: event_envelope.build(EVENT, region="us-east-1"), number=number, repeat=5
            )
        )
        / number
    )

    from event_stream.lambda_src import handler

    events = [dict(EVENT, orderId=f"o-{n}") for n in range(2000)]
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with mock_aws():
        import boto3

        kinesis = boto3.client("kinesis", region_name="us-east-1")
        os.environ["STREAM_NAME"] = "bench-contracts"
        publisher = importlib.reload(handler)  # a client inside moto
        # The same module, its contract check switched on and off (as shipped or not).
        checks = [("on", contracts.check), ("off", None)]
        # moto warms up over the first batches: one untimed round first, then the order
        # alternates, so neither side always runs on the colder moto.
        for run in range(-1, max(runs, 7)):
            for label, check in checks if run % 2 else checks[::-1]:
                if "bench-contracts" in kinesis.list_streams()["StreamNames"]:
                    kinesis.delete_stream(StreamName="bench-contracts")
                kinesis.create_stream(StreamName="bench-contracts", ShardCount=1)
                publisher._check = check
                started = time.perf_counter()
                assert publisher.publish_batch(events, None)["FailedRecordCount"] == 0
                if run >= 0:
                    rates[label].append(len(events) / (time.perf_counter() - started))
    colds: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(2):
        cold_start(with_contracts), cold_start(without)
    for _ in range(runs * 3):
        colds["with"].append(cold_start(with_contracts))
        colds["without"].append(cold_start(without))
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    cold_with, cold_without = statistics.median(colds["with"]), statistics.median(colds["without"])
    return {
        "event_bytes": len(event_envelope.encode(envelope)),
        "validator_us": ours * 1e6,
        "jsonschema_us": floor * 1e6,
        "speedup": floor / ours,
        "envelope_check_us": envelope_check * 1e6,
        "over_envelope": ours / envelope_check,
        "publish_batch_on_per_s": on,
        "publish_batch_off_per_s": off,
        "publish_batch_ratio": on / off,
        "asset_with_ten_bytes": zipped(with_contracts),
        "asset_without_bytes": zipped(without),
        "cold_with_s": cold_with,
        "cold_without_s": cold_without,
        "cold_ratio": cold_with / cold_without,
    }


def figures(r: dict[str, Any]) -> list[Figure]:
    """The contracts' rows of the table."""
    c = r["contracts"]
    return [
        Figure(
            f"contract check, a {c['event_bytes']:,} B event",
            f"{c['validator_us']:.1f} us (generated validator)",
            f"{c['jsonschema_us']:.1f} us (jsonschema)",
            f"{c['speedup']:.0f}x faster",
            ">= 10x faster",
            c["speedup"] >= 10,
        ),
        Figure(
            "contract check vs the envelope's own check",
            f"{c['validator_us']:.1f} us",
            f"{c['envelope_check_us']:.1f} us (build + validate the envelope)",
            f"{c['over_envelope']:.2f}x",
            "<= 1x",
            c["over_envelope"] <= 1,
        ),
        Figure(
            "publish_batch with contracts, moto",
            f"{c['publish_batch_on_per_s']:,.0f} ev/s",
            f"{c['publish_batch_off_per_s']:,.0f} ev/s (without)",
            f"{c['publish_batch_ratio']:.2f}x",
            ">= 0.9x",
            c["publish_batch_ratio"] >= 0.9,
        ),
        Figure(
            "publishers' asset with ten contracts, zipped",
            f"{c['asset_with_ten_bytes']:,} B",
            f"{c['asset_without_bytes']:,} B (no contracts)",
            f"{c['asset_with_ten_bytes'] / c['asset_without_bytes']:.2f}x",
        ),
        Figure(
            "cold start with ten contracts",
            f"{c['cold_with_s'] * 1000:.0f} ms",
            f"{c['cold_without_s'] * 1000:.0f} ms (no contracts)",
            f"{c['cold_ratio']:.3f}x",
            "<= 1.05x",
            c["cold_ratio"] <= 1.05,
        ),
    ]


if __name__ == "__main__":
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    print(json.dumps(measure(runs=3), indent=1))
