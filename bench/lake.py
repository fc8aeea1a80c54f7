"""The event lake on the local AWS: delivery throughput against a raw floor, and the lag from
a publish to its object in S3 on the dev stage's buffering. Run by bench/run.py."""

from __future__ import annotations

import gzip
import io
import json
import statistics
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from figures import Figure

from event_stream.lake import lake_prefixes
from event_stream.lambda_src import event_envelope, publisher
from event_stream.runtime import LAKE_RUNTIME_FILES, LAMBDA_SRC
from event_stream.tools.local import launcher as local_aws
from event_stream.tools.readers.deployed import bootstrap_bucket

BUCKET = bootstrap_bucket(local_aws.ACCOUNT, local_aws.REGION)
LAKE_BUCKET = "bench-lake"


class Lakes:
    """Streams with a lake (bucket, transformer, delivery stream) on a running local AWS."""

    def __init__(self, client) -> None:
        self.client, self.count = client, 0
        self._counted: dict[str, int] = {}
        self.kinesis, self.s3, self.firehose = client("kinesis"), client("s3"), client("firehose")
        for bucket in (BUCKET, LAKE_BUCKET):
            self.s3.create_bucket(Bucket=bucket)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            for name in LAKE_RUNTIME_FILES:
                archive.write(LAMBDA_SRC / name, name)
        self.s3.put_object(Bucket=BUCKET, Key="bench-lake.zip", Body=code.getvalue())
        role = client("iam").create_role(RoleName="bench-lake", AssumeRolePolicyDocument="{}")
        self.function_arn = client("lambda").create_function(
            FunctionName="bench-lake-transformer",
            Runtime="python3.14",
            Role=role["Role"]["Arn"],
            Handler="lake_transformer.handler",
            Code={"S3Bucket": BUCKET, "S3Key": "bench-lake.zip"},
            Timeout=60,
        )["FunctionArn"]

    def lake(self, interval: int) -> tuple[str, str]:
        """A stream and its delivery stream; the stream's name and the objects' prefix."""
        self.count += 1
        stream = f"bench-lake-{self.count}"
        self.kinesis.create_stream(StreamName=stream, ShardCount=1)
        arn = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        prefix, error_prefix = lake_prefixes(stream)
        self.firehose.create_delivery_stream(
            DeliveryStreamName=f"{stream}-lake",
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": arn,
                "RoleARN": "arn:aws:iam::123456789012:role/r",
            },
            ExtendedS3DestinationConfiguration={
                "BucketARN": f"arn:aws:s3:::{LAKE_BUCKET}",
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "Prefix": prefix,
                "ErrorOutputPrefix": error_prefix,
                "CompressionFormat": "GZIP",
                "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": 5},
                "ProcessingConfiguration": {
                    "Enabled": True,
                    "Processors": [
                        {
                            "Type": "Lambda",
                            "Parameters": [
                                {"ParameterName": "LambdaArn", "ParameterValue": self.function_arn}
                            ],
                        }
                    ],
                },
            },
        )
        return stream, f"{stream}/"

    def lines(self, prefix: str) -> int:
        count = 0
        for listed in self.s3.list_objects_v2(Bucket=LAKE_BUCKET, Prefix=prefix).get(
            "Contents", []
        ):
            body = self.s3.get_object(Bucket=LAKE_BUCKET, Key=listed["Key"])["Body"].read()
            count += gzip.decompress(body).count(b"\n")
        return count


def _put(kinesis: Any, stream: str, count: int) -> None:
    records = event_envelope.prepare_all(
        [{"type": "bench", "n": n} for n in range(count)], region=local_aws.REGION
    )
    assert publisher.Publisher(kinesis, stream).put_many(records)["FailedRecordCount"] == 0


def throughput(lakes: Lakes, count: int, runs: int) -> dict[str, float]:
    """Events/s from publishing to lake objects, against the floor of publishing the same
    events, reading them back with raw get_records and writing them gzipped with one
    put_object, in one process (no buffering, no transformer, no GetRecords pacing)."""
    ours, floor = [], []
    for _ in range(runs):
        stream, prefix = lakes.lake(interval=1)
        time.sleep(1.5)  # the local Firehose has found it
        started = time.perf_counter()
        _put(lakes.kinesis, stream, count)
        deadline = time.monotonic() + 300
        while lakes.lines(prefix) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        ours.append(count / (time.perf_counter() - started))
        floor_stream, _ = lakes.lake(interval=900)  # its lake stays idle: nothing flushes
        stream = floor_stream
        started = time.perf_counter()
        _put(lakes.kinesis, stream, count)
        iterator = lakes.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        data = []
        while len(data) < count:
            page = lakes.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            data += [r["Data"] + b"\n" for r in page["Records"]]
            iterator = page["NextShardIterator"]
        lakes.s3.put_object(
            Bucket=LAKE_BUCKET, Key=f"floor/{stream}.gz", Body=gzip.compress(b"".join(data))
        )
        floor.append(count / (time.perf_counter() - started))
    return {
        "delivered_per_s": statistics.median(ours),
        "floor_per_s": statistics.median(floor),
        "ratio": statistics.median(ours) / statistics.median(floor),
    }


def lag(lakes: Lakes, samples: int, interval: int) -> dict[str, float]:
    """Seconds from a PutRecord to its object in S3, with the dev stage's buffer interval."""
    stream, prefix = lakes.lake(interval=interval)
    time.sleep(1.5)
    delays = []
    for n in range(samples):
        time.sleep(0.3 * (n % 3))
        started = time.monotonic()
        _put(lakes.kinesis, stream, 1)
        while lakes.lines(prefix) < n + 1:
            time.sleep(0.05)
        delays.append(time.monotonic() - started)
    return {
        "interval_s": interval,
        "median_s": statistics.median(delays),
        "max_s": max(delays),
        "samples": samples,
    }


def measure(runs: int) -> dict[str, Any]:
    """Both figures, on a local AWS of their own (with its pollers)."""
    state = Path(tempfile.mkdtemp(prefix="bench-lake-")) / ".local-aws"
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        lakes = Lakes(lambda service: local_aws.client(server.endpoint, service))
        return {"throughput": throughput(lakes, 20_000, runs), "lag": lag(lakes, 5, interval=5)}
    finally:
        local_aws.stop(state_dir=state)


if __name__ == "__main__":
    print(json.dumps(measure(runs=1), indent=2))


def figures(r: dict[str, Any]) -> list[Figure]:
    """The lake's rows of the table, from `measure`'s results."""
    lt, ll = r["lake"]["throughput"], r["lake"]["lag"]
    return [
        Figure(
            "publish to lake objects, 20,000 events (local AWS)",
            f"{lt['delivered_per_s']:,.0f} ev/s",
            f"{lt['floor_per_s']:,.0f} ev/s (publish, get_records, one put_object)",
            f"{lt['ratio']:.2f}x",
            ">= 0.5x",
            lt["ratio"] >= 0.5,
        ),
        Figure(
            f"publish-to-lake lag, {ll['interval_s']} s buffer",
            f"median {ll['median_s']:.2f} s, max {ll['max_s']:.2f} s",
            f"{ll['interval_s']} s (the buffer interval)",
            "-",
            f"<= {ll['interval_s'] + 2} s",
            ll["max_s"] <= ll["interval_s"] + 2,
        ),
    ]
