"""Where a mapping's discarded batches go, its on-failure destination (SQS, SNS or S3), with
the record Lambda writes ("Retain discarded batch records for a Kinesis Data Streams event
source"); and, for the Invoke API, where an asynchronous invocation's record goes.

An S3 destination gets one object per discarded batch, the record with the batch's
invocation payload beside it, under
`aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>` (the
same page; the key's form and the `payload` field as recorded on real AWS in LocalStack's
test_lambda_integration_kinesis.snapshot.json)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from event_stream.tools import arns
from event_stream.tools.lambda_model.wire import OnFailureRecord


class Destinations:
    """Sends on-failure records through the local AWS's own SQS and SNS."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self.client = client
        self._queue_urls: dict[str, str] = {}

    def send(
        self, arn: str, record: OnFailureRecord | Mapping[str, Any], *, object_key: str = ""
    ) -> None:
        """Deliver one record to the destination `arn` (an S3 bucket: as `object_key`)."""
        body = json.dumps(record)
        service = arns.service(arn)
        if service == "s3":
            if not object_key:
                raise ValueError(f"an S3 destination needs the object's key: {arn}")
            self.client("s3").put_object(
                Bucket=arns.resource_name(arn), Key=object_key, Body=body.encode()
            )
        elif service == "sqs":
            sqs = self.client("sqs")
            url = self._queue_urls.get(arn)
            if url is None:
                url = sqs.get_queue_url(QueueName=arns.resource_name(arn))["QueueUrl"]
                self._queue_urls[arn] = url
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=body)
        else:
            raise ValueError(f"unsupported on-failure destination {arn}")


def s3_object_key(mapping_uuid: str, shard_id: str, when: float) -> str:
    """Where Lambda writes a discarded batch's record in an S3 on-failure destination."""
    day = time.strftime("%Y/%m/%d", time.gmtime(when))
    moment = time.strftime("%Y-%m-%dT%H.%M.%S", time.gmtime(when))
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{day}/{moment}-{uuid.uuid4()}"
