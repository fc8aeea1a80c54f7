"""dlq: failed batches read back from the stream, and redriven, under in-process moto.

The queue holds Lambda's on-failure record in its documented shape
(tests/fixtures/on-failure-record.json); the events come back from the stream.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from event_stream.tools import cli
from event_stream.tools.cli.target import Target
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.invocation import Invocation
from event_stream.tools.readers import dead_letters
from tests.conftest import load_fixture

STREAM = "john-cncb-event-stream-s1"
FUNCTION = "orders-john-listener"
QUEUE = f"{FUNCTION}-dlq"
FILTER = {"Filters": [{"Pattern": json.dumps({"data": {"type": ["thing-created"]}})}]}


def envelope(n: int, event_type: str = "thing-created", **fields) -> bytes:
    body = {"id": f"id-{n}", "type": event_type, "timestamp": n, "partitionKey": "k", "tags": {}}
    return json.dumps({**body, **fields}).encode()


class Cloud:
    """A stage's stream with records, a consumer function, its mapping and its queue."""

    def __init__(self):
        self.kinesis = boto3.client("kinesis", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.lambda_ = boto3.client("lambda", region_name="us-east-1")
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        self.arn = self.kinesis.describe_stream_summary(StreamName=STREAM)[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.sequences = [
            self.kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=data)[
                "SequenceNumber"
            ]
            for data in (
                envelope(0),
                envelope(1),
                envelope(2, "thing-updated"),  # filtered out: never in a batch
                envelope(3, poison=True),
                envelope(4),
            )
        ]
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="consumer", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
        self.lambda_.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.14",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
        )
        # Created after the records: moto would try to run the function (Docker) per record.
        self.lambda_.create_event_source_mapping(
            FunctionName=FUNCTION,
            EventSourceArn=self.arn,
            StartingPosition="TRIM_HORIZON",
            FilterCriteria=FILTER,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )

    def fail_batch(self, first: int, last: int, size: int, shard: str = "shardId-000000000000"):
        """Put Lambda's on-failure record of the batch `first..last` in the queue."""
        record = load_fixture("on-failure-record.json")
        record["KinesisBatchInfo"].update(
            shardId=shard,
            startSequenceNumber=self.sequences[first],
            endSequenceNumber=self.sequences[last],
            batchSize=size,
            streamArn=self.arn,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def visible(self) -> int:
        return int(
            self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )


@pytest.fixture
def cloud(aws_credentials):
    with mock_aws():
        yield Cloud()


def batches(cloud):
    consumer = dead_letters.consumer_of(cloud.lambda_, cloud.sqs, FUNCTION)
    messages = dead_letters.receive_all(cloud.sqs, consumer.queue_url)
    return [dead_letters.failed_batch(cloud.kinesis, consumer, m) for m in messages]


def test_the_queue_is_found_through_the_functions_mapping(cloud):
    consumer = dead_letters.consumer_of(cloud.lambda_, cloud.sqs, FUNCTION)
    assert (consumer.queue_url, consumer.mapping.stream_arn) == (cloud.queue_url, cloud.arn)


def test_a_failed_batch_comes_back_with_exactly_its_events(cloud):
    cloud.fail_batch(1, 4, size=3)
    (batch,) = batches(cloud)
    summary = batch.summary()
    assert [e["id"] for e in summary["events"]] == ["id-1", "id-3", "id-4"]  # id-2 filtered
    assert (summary["condition"], summary["shardId"], summary["lost"]) == (
        "RetryAttemptsExhausted",
        "shardId-000000000000",
        0,
    )


def test_records_gone_from_the_stream_and_kept_in_no_lake_are_reported_lost(cloud):
    cloud.fail_batch(0, 1, size=2, shard="shardId-000000000009")
    (batch,) = batches(cloud)
    assert (batch.records, batch.missing) == ([], 2)


def test_a_message_that_is_not_an_on_failure_record_is_one_clear_error(cloud):
    cloud.sqs.send_message(QueueUrl=cloud.queue_url, MessageBody="hello")
    with pytest.raises(UserError, match="is not a Lambda on-failure record for Kinesis"):
        batches(cloud)


def test_a_function_without_such_a_mapping_is_one_clear_error(cloud):
    # AWS answers ResourceNotFoundException ("there is no function nope"); moto, no mappings.
    with pytest.raises(UserError, match=r"^(there is no function nope|nope has no Kinesis)"):
        dead_letters.consumer_of(cloud.lambda_, cloud.sqs, "nope")


def run_cli(cloud, monkeypatch, *args, runner=None):
    monkeypatch.setattr(cli, "resolve_target", lambda: Target(endpoint=None, region="us-east-1"))
    if runner:
        monkeypatch.setattr(cli.dlq, "function_invoker", lambda target, name, here: runner)
    return cli.main(["dlq", "--function", FUNCTION, *args])


def test_listing_prints_each_batch_and_leaves_the_queue_as_it_was(cloud, monkeypatch, capsys):
    cloud.fail_batch(0, 1, size=2)
    cloud.fail_batch(3, 4, size=2)
    assert run_cli(cloud, monkeypatch) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(e["id"] for b in printed for e in b["events"]) == ["id-0", "id-1", "id-3", "id-4"]
    assert cloud.visible() == 2  # released, not deleted


def test_redrive_delivers_lambdas_event_shape_and_deletes_only_what_succeeded(
    cloud, monkeypatch, capsys
):
    cloud.fail_batch(0, 1, size=2)
    cloud.fail_batch(3, 4, size=2)
    delivered = []

    def runner(event):
        delivered.append(event)
        envelopes = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        poison = [r for r, e in zip(event["Records"], envelopes, strict=True) if e.get("poison")]
        if poison:
            failure = {"itemIdentifier": poison[0]["kinesis"]["sequenceNumber"]}
            return Invocation({"batchItemFailures": [failure]})
        return Invocation({"batchItemFailures": []})

    assert run_cli(cloud, monkeypatch, "--redrive", runner=runner) == 1
    results = {json.loads(line)["redriven"] for line in capsys.readouterr().out.splitlines()}
    assert results == {True, False}
    assert cloud.queued() == 1 and cloud.visible() == 1  # the failed batch stays, visible
    record = delivered[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis" and record["eventSourceARN"] == cloud.arn
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert record["invokeIdentityArn"].endswith(":role/consumer")


def test_redrive_after_the_fix_empties_the_queue(cloud, monkeypatch):
    cloud.fail_batch(3, 4, size=2)
    assert run_cli(cloud, monkeypatch, "--redrive", runner=lambda event: Invocation({})) == 0
    assert cloud.queued() == 0


def test_a_function_error_keeps_the_batch(cloud, monkeypatch, capsys):
    cloud.fail_batch(0, 1, size=2)
    error = {"errorType": "RuntimeError", "errorMessage": "still broken"}
    assert (
        run_cli(cloud, monkeypatch, "--redrive", runner=lambda event: Invocation(None, error)) == 1
    )
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["result"] == "RuntimeError: still broken"
    assert cloud.queued() == 1


def test_an_empty_queue_says_so(cloud, monkeypatch, capsys):
    assert run_cli(cloud, monkeypatch) == 0
    assert "no failed batches" in capsys.readouterr().err


GONE_SHARD = "shardId-000000000009"  # a shard the stream no longer has: only the lake does


def keep_in_lake(cloud, monkeypatch, *ns: int) -> None:
    """The stage's lake holds envelopes `ns` of GONE_SHARD, as the lake writes them."""
    import gzip
    from datetime import UTC, datetime

    from event_stream.tools.readers import lake_reader

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    arrived = datetime.fromisoformat(
        load_fixture("on-failure-record.json")["KinesisBatchInfo"][
            "approximateArrivalOfFirstRecord"
        ]
    ).timestamp()
    lines = [
        {
            "event": json.loads(envelope(n)),
            "kinesis": {
                "shardId": GONE_SHARD,
                "sequenceNumber": cloud.sequences[n],
                "partitionKey": "k",
                "approximateArrivalTimestamp": arrived,
            },
        }
        for n in ns
    ]
    body = gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode())
    hour = datetime.fromtimestamp(arrived, UTC).strftime("%Y/%m/%d/%H")
    s3.put_object(Bucket="lake", Key=f"{STREAM}/{hour}/lake-1.gz", Body=body)
    monkeypatch.setattr(lake_reader, "lake_of_stream", lambda cloudformation, arn: "lake")


def test_records_the_stream_has_forgotten_come_back_from_the_lake(cloud, monkeypatch, capsys):
    keep_in_lake(cloud, monkeypatch, 0, 1)
    cloud.fail_batch(0, 1, size=2, shard=GONE_SHARD)
    assert run_cli(cloud, monkeypatch) == 0
    (summary,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["id"] for e in summary["events"]] == ["id-0", "id-1"]
    assert (summary["fromLake"], summary["lost"]) == (2, 0)


def test_a_batch_only_the_lake_keeps_is_redriven(cloud, monkeypatch):
    keep_in_lake(cloud, monkeypatch, 0, 1)
    cloud.fail_batch(0, 1, size=2, shard=GONE_SHARD)
    delivered = []
    assert (
        run_cli(
            cloud, monkeypatch, "--redrive", runner=lambda e: delivered.append(e) or Invocation({})
        )
        == 0
    )
    assert len(delivered[0]["Records"]) == 2 and cloud.queued() == 0


def test_a_record_in_neither_place_is_named_lost_and_the_batch_is_not_redriven_short(
    cloud, monkeypatch, capsys
):
    keep_in_lake(cloud, monkeypatch, 0)
    cloud.fail_batch(0, 1, size=2, shard=GONE_SHARD)
    delivered = []
    assert (
        run_cli(
            cloud, monkeypatch, "--redrive", runner=lambda e: delivered.append(e) or Invocation({})
        )
        == 1
    )
    out, err = capsys.readouterr()
    assert "LOST: 1 of 2 records" in err and GONE_SHARD in err
    assert json.loads(out)["result"].startswith("LOST: 1 of the batch's 2 records")
    assert delivered == [] and cloud.queued() == 1
