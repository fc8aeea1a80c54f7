"""Where a mapping's discarded batches go, its on-failure destination, SQS or SNS, with the
record Lambda writes ("Retain discarded batch records for a Kinesis Data Streams event
source"); and, for the Invoke API, where an asynchronous invocation's record goes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from event_stream.tools import arns
from event_stream.tools.lambda_model.wire import OnFailureRecord


class Destinations:
    """Sends on-failure records through the local AWS's own SQS and SNS."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self.client = client
        self._queue_urls: dict[str, str] = {}

    def send(self, arn: str, record: OnFailureRecord | Mapping[str, Any]) -> None:
        """Deliver one record to the destination `arn`."""
        body = json.dumps(record)
        service = arns.service(arn)
        if service == "sqs":
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
