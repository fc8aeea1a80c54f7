"""Consumers on the local AWS: what the event source poller delivers, beside its floors.

Run by bench/run.py (`make bench`). A consumer is created through the local Lambda API
(its code in the CDK bootstrap bucket, where a deploy puts it), so the poller runs it as it
runs a deployed StreamProcessor. The handler appends what it received to a file: the only
way to time a Lambda on this machine without touching its logs.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from figures import Figure

from event_stream.lambda_src import event_envelope, publisher
from event_stream.tools.lambda_model.kinesis_event import lambda_event
from event_stream.tools.local import launcher as local_aws
from event_stream.tools.readers.deployed import bootstrap_bucket

HANDLER = """
import base64, json, os, time

def handler(event, context):
    time.sleep(float(os.environ.get("WORK_SECONDS", "0")))  # a handler's I/O, if any
    records = event["Records"]
    last = json.loads(base64.b64decode(records[-1]["kinesis"]["data"]))
    with open(os.environ["RECEIVED"], "a") as out:
        out.write(json.dumps([len(records), time.time(), last["timestamp"]]) + "\\n")
    return {"batchItemFailures": []}
"""
BUCKET = bootstrap_bucket(local_aws.ACCOUNT, local_aws.REGION)


class Consumers:
    """Streams and consumers on a running local AWS."""

    def __init__(self, client) -> None:
        self.client = client
        self.kinesis = client("kinesis")
        self.lambda_ = client("lambda")
        s3 = client("s3")
        s3.create_bucket(Bucket=BUCKET)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("bench_consumer.py", HANDLER)
        s3.put_object(Bucket=BUCKET, Key="bench-consumer.zip", Body=code.getvalue())
        self.role = client("iam").create_role(
            RoleName="bench-consumer", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        self.count = 0

    def stream(self, shards: int = 1) -> tuple[str, str]:
        self.count += 1
        name = f"bench-consumers-{self.count}"
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        arn = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        return name, arn

    def consumer(
        self, stream_arn: str, received: Path, *, batch_size: int = 100, work: float = 0.0
    ) -> str:
        name = f"bench-consumer-{self.count}"
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.14",
            Role=self.role,
            Handler="bench_consumer.handler",
            Code={"S3Bucket": BUCKET, "S3Key": "bench-consumer.zip"},
            Timeout=30,
            Environment={"Variables": {"RECEIVED": str(received), "WORK_SECONDS": str(work)}},
        )
        return self.lambda_.create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=batch_size,
            MaximumBatchingWindowInSeconds=0,
        )["UUID"]

    def remove(self, stream: str, mapping: str | None) -> None:
        if mapping:
            self.lambda_.delete_event_source_mapping(UUID=mapping)
            self.lambda_.delete_function(FunctionName=f"bench-consumer-{self.count}")
        self.kinesis.delete_stream(StreamName=stream)


def received(path: Path) -> list[list[float]]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines()]
    except OSError:
        return []


def wait_for(condition, timeout: float = 120.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("the consumer did not receive everything in time")


def put_events(kinesis: Any, stream: str, count: int) -> None:
    put = publisher.Publisher(kinesis, stream)
    records = event_envelope.prepare_all(
        [{"type": "bench", "n": n} for n in range(count)], region=local_aws.REGION
    )
    assert put.put_many(records)["FailedRecordCount"] == 0


def delivery(consumers: Consumers, count: int, runs: int) -> dict[str, float]:
    """Events/s delivered to a no-op processor (batch size 100) against the floor of
    reading the same records with raw get_records in one process."""
    ours, floor = [], []
    for _ in range(runs):
        stream, arn = consumers.stream()
        put_events(consumers.kinesis, stream, count)
        started = time.perf_counter()
        iterator = consumers.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        read = 0
        while read < count:
            page = consumers.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            read += len(page["Records"])
            iterator = page["NextShardIterator"]
        floor.append(count / (time.perf_counter() - started))
        path = Path(tempfile.mkdtemp(prefix="bench-consumer-")) / "received.jsonl"
        created = time.time()
        mapping = consumers.consumer(arn, path)
        batches = wait_for(
            lambda path=path: sum(b[0] for b in received(path)) >= count and received(path)
        )
        # From the mapping's creation to the last batch: finding the mapping (up to the
        # poller's 1 s), starting the function and reading the shard all count.
        ours.append(count / (batches[-1][1] - created))
        consumers.remove(stream, mapping)
    ours_median, floor_median = statistics.median(ours), statistics.median(floor)
    return {
        "delivered_per_s": ours_median,
        "get_records_per_s": floor_median,
        "ratio": ours_median / floor_median,
    }


def shard_scaling(consumers: Consumers, count: int, runs: int) -> dict[str, float]:
    """Events/s delivered from a 4-shard stream against a 1-shard one (random partition
    keys), for a no-op handler and for one that spends 50 ms on I/O per batch."""

    def rate(shards: int, work: float) -> float:
        stream, arn = consumers.stream(shards)
        put_events(consumers.kinesis, stream, count)
        path = Path(tempfile.mkdtemp(prefix="bench-shards-")) / "received.jsonl"
        created = time.time()
        mapping = consumers.consumer(arn, path, work=work)
        batches = wait_for(
            lambda: sum(b[0] for b in received(path)) >= count and received(path), timeout=300
        )
        consumers.remove(stream, mapping)
        return count / (max(b[1] for b in batches) - created)

    figures = {}
    for label, work in (("noop", 0.0), ("io_50ms", 0.05)):
        one, four = [], []
        for _ in range(runs):
            one.append(rate(1, work))
            four.append(rate(4, work))
        one_median, four_median = statistics.median(one), statistics.median(four)
        figures[label] = {
            "one_shard_per_s": one_median,
            "four_shards_per_s": four_median,
            "ratio": four_median / one_median,
        }
    return figures


def latency(consumers: Consumers, samples: int) -> dict[str, float]:
    """Seconds from a PutRecord to the handler receiving it, batching window 0."""
    stream, arn = consumers.stream()
    path = Path(tempfile.mkdtemp(prefix="bench-latency-")) / "received.jsonl"
    mapping = consumers.consumer(arn, path, batch_size=1)
    put = publisher.Publisher(consumers.kinesis, stream)
    put.put_one(event_envelope.prepare({"type": "warm-up"}, region=local_aws.REGION))
    wait_for(lambda: received(path), timeout=30)
    seen = 1
    delays = []
    for n in range(samples):
        time.sleep(0.137 * (n % 7 + 1))  # publish at times unrelated to the poll period
        put.put_one(event_envelope.prepare({"type": "bench"}, region=local_aws.REGION))
        seen += 1
        batches = wait_for(
            lambda seen=seen: len(received(path)) >= seen and received(path), timeout=30
        )
        _, got, published_ms = batches[-1]
        delays.append(got - published_ms / 1000)
    consumers.remove(stream, mapping)
    delays.sort()
    return {
        "median_s": statistics.median(delays),
        "p95_s": delays[int(0.95 * (len(delays) - 1))],
        "samples": len(delays),
    }


def publishing(consumers: Consumers, count: int, runs: int) -> dict[str, float]:
    """Publishing throughput with a processor on the stream against without one."""

    def timed(with_consumer: bool) -> float:
        stream, arn = consumers.stream()
        mapping = None
        if with_consumer:
            path = Path(tempfile.mkdtemp(prefix="bench-publish-")) / "received.jsonl"
            mapping = consumers.consumer(arn, path)
            time.sleep(1.5)  # the poller has found it and is reading the stream
        started = time.perf_counter()
        put_events(consumers.kinesis, stream, count)
        rate = count / (time.perf_counter() - started)
        consumers.remove(stream, mapping)
        return rate

    with_consumer, without = [], []
    for _ in range(runs):
        with_consumer.append(timed(True))
        without.append(timed(False))
    ours, floor = statistics.median(with_consumer), statistics.median(without)
    return {"with_consumer_per_s": ours, "without_per_s": floor, "ratio": ours / floor}


def redrive(consumers: Consumers, endpoint: str, batches: int) -> dict[str, float]:
    """`dlq --redrive` of `batches` one-record dead-lettered batches, as a user runs it (its
    own process), against the floor of the same invocations made with boto3 in a loop."""
    stream, arn = consumers.stream()
    put_events(consumers.kinesis, stream, batches)
    records = consumers.kinesis.get_records(
        ShardIterator=consumers.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    )["Records"]
    sqs = consumers.client("sqs")
    queue = sqs.create_queue(QueueName=f"bench-redrive-{consumers.count}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    path = Path(tempfile.mkdtemp(prefix="bench-redrive-")) / "received.jsonl"
    mapping = consumers.consumer(arn, path, batch_size=1)
    function = f"bench-consumer-{consumers.count}"
    consumers.lambda_.update_event_source_mapping(
        UUID=mapping, Enabled=False, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    events = []
    for record in records:
        info = {
            "shardId": "shardId-000000000000",
            "startSequenceNumber": record["SequenceNumber"],
            "endSequenceNumber": record["SequenceNumber"],
            "batchSize": 1,
            "streamArn": arn,
        }
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"KinesisBatchInfo": info}))
        events.append(
            lambda_event(
                [record],
                shard_id=info["shardId"],
                stream_arn=arn,
                region=local_aws.REGION,
                role_arn=consumers.role,
            )
        )
    started = time.perf_counter()
    for event in events:
        consumers.lambda_.invoke(FunctionName=function, Payload=json.dumps(event))
    floor = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "event_stream", "dlq", "--function", function, "--redrive"],
        env={**os.environ, **local_aws.client_env(endpoint)},
        capture_output=True,
        check=True,
    )
    ours = time.perf_counter() - started
    consumers.remove(stream, mapping)
    return {"redrive_s": ours, "invoke_loop_s": floor, "ratio": ours / floor}


def measure(runs: int) -> dict[str, Any]:
    """All three figures, on a local AWS of their own (with its poller)."""
    state = Path(tempfile.mkdtemp(prefix="bench-consumers-")) / ".local-aws"
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:

        def client(service: str):
            return local_aws.client(server.endpoint, service)

        consumers = Consumers(client)
        return {
            "delivery": delivery(consumers, 20_000, runs),
            # Enough batches that steady state, not start-up, decides the ratio.
            "shards": shard_scaling(consumers, 20_000, runs),
            "latency": latency(consumers, 30),
            "publishing": publishing(consumers, 3000, runs),
            "redrive": redrive(consumers, server.endpoint, 100),
        }
    finally:
        local_aws.stop(state_dir=state)


def figures(r: dict[str, Any]) -> list[Figure]:
    """The consumers' rows of the table, from `measure`'s results."""
    cd, cl, cp, cr = (r["consumers"][k] for k in ("delivery", "latency", "publishing", "redrive"))
    noop, io = r["consumers"]["shards"]["noop"], r["consumers"]["shards"]["io_50ms"]
    return [
        Figure(
            "consumer delivery, batch 100 (local AWS)",
            f"{cd['delivered_per_s']:,.0f} ev/s",
            f"{cd['get_records_per_s']:,.0f} ev/s (raw get_records)",
            f"{cd['ratio']:.2f}x",
            ">= 0.5x",
            cd["ratio"] >= 0.5,
        ),
        Figure(
            "delivery, 4 shards vs 1, no-op handler",
            f"{noop['four_shards_per_s']:,.0f} ev/s",
            f"{noop['one_shard_per_s']:,.0f} ev/s (1 shard)",
            f"{noop['ratio']:.2f}x",
            ">= 2x or explained",
            noop["ratio"] >= 2,
        ),
        Figure(
            "delivery, 4 shards vs 1, 50 ms of I/O a batch",
            f"{io['four_shards_per_s']:,.0f} ev/s",
            f"{io['one_shard_per_s']:,.0f} ev/s (1 shard)",
            f"{io['ratio']:.2f}x",
            ">= 2x",
            io["ratio"] >= 2,
        ),
        Figure(
            "publish-to-handler latency, window 0",
            f"median {cl['median_s']:.2f} s, p95 {cl['p95_s']:.2f} s",
            "Lambda polls once a second",
            "-",
            "median < 1 s",
            cl["median_s"] < 1,
        ),
        Figure(
            "publishing with a processor deployed",
            f"{cp['with_consumer_per_s']:,.0f} ev/s",
            f"{cp['without_per_s']:,.0f} ev/s (none)",
            f"{cp['ratio']:.2f}x",
            ">= 0.9x",
            cp["ratio"] >= 0.9,
        ),
        Figure(
            "dlq --redrive, 100 one-record batches",
            f"{cr['redrive_s']:.1f} s",
            f"{cr['invoke_loop_s']:.1f} s (100 Invoke calls)",
            f"{cr['ratio']:.2f}x",
            "< 10 s",
            cr["redrive_s"] < 10,
        ),
    ]
