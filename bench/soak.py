"""The soak of issue #27, as a user's load test runs it: a 4-shard stream on the local AWS, a
consumer with StreamProcessor's mapping settings whose handler writes each event to
DynamoDB and fails at random on 2 % of its calls, 10,000 events over 100 partition keys.

Measured beside its floor, in one run: the same DynamoDB writes made in a plain loop on the
same local AWS. Also the no-op 4-shard delivery beside raw get_records over the 4 shards.
Run by bench/run.py (`make bench`), or alone: `python bench/soak.py [--runs N] [--profile]`;
`--profile` runs the local AWS under `server_profile.py` and prints where its CPU went.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import statistics
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from figures import Figure

from event_stream.lambda_src import event_envelope, publisher
from event_stream.runtime import CONSUMER_RUNTIME_FILES, LAMBDA_SRC
from event_stream.tools.local import launcher as local_aws
from event_stream.tools.readers.deployed import bootstrap_bucket

SHARDS, EVENTS, KEYS, FAILURE_RATE = 4, 10_000, 100, 0.02
NOOP_EVENTS = 40_000  # enough batches (100 a shard) that the steady state is measured
BUCKET = bootstrap_bucket(local_aws.ACCOUNT, local_aws.REGION)
HANDLER = """
import json, os, random, time

import boto3
from event_consumer import process

dynamodb = boto3.client("dynamodb")
TABLE = os.environ["TABLE"]
FAILURE_RATE = float(os.environ["FAILURE_RATE"])


def write(event):
    global handled
    if random.random() < FAILURE_RATE:
        raise TimeoutError("the write timed out")  # a transient fault: the next call works
    if TABLE != "-":
        dynamodb.put_item(
            TableName=TABLE,
            Item={"id": {"S": event["id"]}, "key": {"S": event["partitionKey"]},
                  "n": {"N": str(event["n"])}},
        )
    handled += 1


def handler(event, context):
    global handled
    handled = 0
    try:
        return process(event, write, context=context)
    finally:
        with open(os.environ["RECEIVED"], "a") as out:
            out.write(json.dumps([handled, time.time()]) + "\\n")
"""


class Soak:
    """A stream, a DynamoDB table, a dead-letter queue and a consumer on a local AWS."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.kinesis = self.client("kinesis")
        self.lambda_ = self.client("lambda")
        self.dynamodb = self.client("dynamodb")
        self.sqs = self.client("sqs")
        s3 = self.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("soak_consumer.py", HANDLER)
            for name in CONSUMER_RUNTIME_FILES:
                archive.write(LAMBDA_SRC / name, name)
        s3.put_object(Bucket=BUCKET, Key="soak-consumer.zip", Body=code.getvalue())
        self.role = self.client("iam").create_role(
            RoleName="soak-consumer", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        self.runs = 0

    def client(self, service: str) -> Any:
        return local_aws.client(self.endpoint, service)

    def table(self) -> str:
        name = f"soak-{self.runs}"
        self.dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    def stream(self, events: int = EVENTS) -> tuple[str, str]:
        self.runs += 1
        name = f"soak-{self.runs}"
        self.kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
        arn = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        records = event_envelope.prepare_all(
            [{"type": "soak", "n": n, "partitionKey": f"key-{n % KEYS}"} for n in range(events)],
            region=local_aws.REGION,
        )
        put = publisher.Publisher(self.kinesis, name)
        assert put.put_many(records)["FailedRecordCount"] == 0
        return name, arn

    def consume(
        self, stream_arn: str, table: str, failure_rate: float, events: int = EVENTS
    ) -> dict[str, float]:
        """Events/s from the mapping's creation to the last event handled, events/s from the
        first batch handled to the last (the steady state), the seconds to the first batch,
        and the records dead-lettered."""
        name = f"soak-consumer-{self.runs}"
        received = Path(tempfile.mkdtemp(prefix="soak-")) / "received.jsonl"
        queue = self.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.14",
            Role=self.role,
            Handler="soak_consumer.handler",
            Code={"S3Bucket": BUCKET, "S3Key": "soak-consumer.zip"},
            Timeout=30,
            LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
            Environment={
                "Variables": {
                    "RECEIVED": str(received),
                    "TABLE": table,
                    "FAILURE_RATE": str(failure_rate),
                }
            },
        )
        started = time.time()
        # StreamProcessor's mapping settings (event_stream/processor_config.py).
        mapping = self.lambda_.create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=100,
            MaximumBatchingWindowInSeconds=0,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            MaximumRetryAttempts=5,
            MaximumRecordAgeInSeconds=6 * 3600,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )["UUID"]
        deadline = time.monotonic() + 900
        lines: list[list[float]] = []
        done = dead = 0
        while time.monotonic() < deadline:
            lines = _lines(received)
            done = sum(int(line[0]) for line in lines)
            dead = _dead_lettered(self.sqs, queue)
            if done + dead >= events:
                break
            time.sleep(0.2)
        else:
            raise TimeoutError(f"the soak did not finish: {done} handled, {dead} dead-lettered")
        self.lambda_.delete_event_source_mapping(UUID=mapping)
        first, last = lines[0], max(line[1] for line in lines)
        return {
            "per_s": events / (last - started),
            "steady_per_s": (events - first[0]) / (last - first[1]),
            "first_batch_s": first[1] - started,
            "dead_lettered": dead,
        }

    def plain_loop(self, table: str) -> float:
        """Events/s of the same writes made one after another by one client."""
        started = time.perf_counter()
        for n in range(EVENTS):
            self.dynamodb.put_item(
                TableName=table,
                Item={
                    "id": {"S": f"loop-{n}"},
                    "key": {"S": f"key-{n % KEYS}"},
                    "n": {"N": str(n)},
                },
            )
        return EVENTS / (time.perf_counter() - started)

    def raw_reads(self, stream: str, events: int) -> float:
        """Events/s of get_records over every shard, one after another, no handler."""
        started = time.perf_counter()
        read = 0
        for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                read += len(page["Records"])
                if not page["Records"]:
                    break
                iterator = page["NextShardIterator"]
        assert read == events, read
        return events / (time.perf_counter() - started)


def _lines(path: Path) -> list[list[float]]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines()]
    except OSError:
        return []


def _dead_lettered(sqs: Any, queue: str) -> int:
    """Records named by the on-failure messages in the queue (peeked, not consumed)."""
    count = int(
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    if not count:
        return 0
    total = 0
    for message in sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", []):
        total += json.loads(message["Body"])["KinesisBatchInfo"]["batchSize"]
    return total


def measure(runs: int, *, server_module: str | None = None) -> dict[str, Any]:
    """The soak beside the plain loop, and no-op delivery beside raw reads, each `runs`
    times interleaved, on a local AWS of their own (run as `server_module` if given)."""
    state = Path(tempfile.mkdtemp(prefix="bench-soak-")) / ".local-aws"
    if server_module:  # found by `python -m` in this folder
        local_aws.SERVER_MODULE = server_module
        os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent)
    server = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        soak = Soak(server.endpoint)
        soaks, loops, noops, reads = [], [], [], []
        for _ in range(runs):
            stream, arn = soak.stream()
            table = soak.table()
            loops.append(soak.plain_loop(table))
            soaks.append(soak.consume(arn, table, FAILURE_RATE))
            stream, arn = soak.stream(NOOP_EVENTS)
            reads.append(soak.raw_reads(stream, NOOP_EVENTS))
            noops.append(soak.consume(arn, "-", 0.0, NOOP_EVENTS))
        if server_module:
            os.kill(server.pid, signal.SIGUSR2)  # the profile, written to the state folder
            time.sleep(1)
            print((state / "profile.txt").read_text())
        ours = statistics.median(r["per_s"] for r in soaks)
        steady = statistics.median(r["steady_per_s"] for r in noops)
        return {
            "soak": {
                "events": EVENTS,
                "shards": SHARDS,
                "failure_rate": FAILURE_RATE,
                "per_s": ours,
                "plain_loop_per_s": statistics.median(loops),
                "ratio": ours / statistics.median(loops),
                "dead_lettered": max(r["dead_lettered"] for r in soaks),
            },
            "noop_four_shards": {
                "events": NOOP_EVENTS,
                "per_s": statistics.median(r["per_s"] for r in noops),
                "steady_per_s": steady,
                "first_batch_s": statistics.median(r["first_batch_s"] for r in noops),
                "get_records_per_s": statistics.median(reads),
                "ratio": steady / statistics.median(reads),
            },
        }
    finally:
        local_aws.stop(state_dir=state)


def figures(r: dict[str, Any]) -> list[Figure]:
    """The soak's rows of the table."""
    soak, noop = r["soak"]["soak"], r["soak"]["noop_four_shards"]
    return [
        Figure(
            "soak: 10,000 events, 4 shards, DynamoDB writes, 2 % transient faults",
            f"{soak['per_s']:,.0f} ev/s, {soak['dead_lettered']} dead-lettered",
            f"{soak['plain_loop_per_s']:,.0f} ev/s (the writes in a plain loop)",
            f"{soak['ratio']:.2f}x",
            ">= 0.8x, none dead-lettered",
            soak["ratio"] >= 0.8 and soak["dead_lettered"] == 0,
        ),
        Figure(
            "delivery, 4 shards, no-op handler, steady state",
            f"{noop['steady_per_s']:,.0f} ev/s (first batch after {noop['first_batch_s']:.1f} s)",
            f"{noop['get_records_per_s']:,.0f} ev/s (raw get_records, 4 shards)",
            f"{noop['ratio']:.2f}x",
            ">= 0.5x",
            noop["ratio"] >= 0.5,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="print where the local AWS's CPU went"
    )
    args = parser.parse_args()
    results = measure(args.runs, server_module="server_profile" if args.profile else None)
    print(json.dumps(results, indent=1))
