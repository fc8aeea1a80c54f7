"""The stages page and a stage's page: its stream (shards, retention, write rate, records
kept), its lake and the consumers attached to the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from event_stream.tools import arns
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.readers.deployed import output
from event_stream.tools.readers.shard_reader import list_shards

# Stacks that exist (CloudFormation keeps deleted ones listed for 90 days).
LIVE_STATUSES = [
    "CREATE_IN_PROGRESS",
    "CREATE_COMPLETE",
    "ROLLBACK_COMPLETE",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
]
RATE_MINUTES = 15  # the write rate shown: per minute, over the last quarter hour


def stages(context: ConsoleContext) -> dict[str, Any]:
    """Every stage of the service deployed here: the stacks named `<service>-<stage>`."""
    prefix = f"{context.service}-"
    found = []
    pages = context.client("cloudformation").get_paginator("list_stacks")
    for page in pages.paginate(StackStatusFilter=LIVE_STATUSES):
        for stack in page["StackSummaries"]:
            name = stack["StackName"]
            if name.startswith(prefix) and "ParentId" not in stack:
                found.append(
                    {"stage": name[len(prefix) :], "stack": name, "status": stack["StackStatus"]}
                )
    return {
        "service": context.service,
        "where": context.target.endpoint or f"AWS ({context.target.region})",
        "stages": sorted(found, key=lambda s: s["stage"]),
    }


def stage(context: ConsoleContext, name: str) -> dict[str, Any]:
    """A stage's stream, lake and consumers."""
    stack = context.stack(name)
    stream_name = output(stack, "streamName")
    kinesis = context.client("kinesis")
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    retention = int(summary["RetentionPeriodHours"])
    shards = list_shards(kinesis, stream_name)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rate = _incoming(context, stream_name, now - timedelta(minutes=RATE_MINUTES), now, 60)
    since = now - timedelta(hours=retention)
    kept = _incoming(context, stream_name, since, now, _period(retention))
    return {
        "stage": name,
        "stack": stack.name,
        "status": stack.status,
        "stream": {
            "name": stream_name,
            "arn": summary["StreamARN"],
            "status": summary["StreamStatus"],
            "mode": summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"),
            "retentionHours": retention,
            "openShards": summary["OpenShardCount"],
            "shards": [
                {
                    "shardId": shard["ShardId"],
                    "open": "EndingSequenceNumber" not in shard["SequenceNumberRange"],
                    "parents": [
                        p
                        for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                        if p
                    ],
                }
                for shard in shards
            ],
            # What CloudWatch counted (IncomingRecords, as Kinesis publishes it each minute).
            "recordsWithinRetention": int(sum(count for _, count in kept)),
            "writesPerMinute": [{"minute": t, "records": int(c)} for t, c in rate],
        },
        "lake": _lake(stack.outputs),
        "consumers": consumers_of_stream(context, summary["StreamARN"]),
        "outputs": stack.outputs,
    }


def _period(retention_hours: int) -> int:
    """A period that keeps GetMetricStatistics within its 1,440 data points."""
    return 3600 if retention_hours <= 1440 else 86400


def _incoming(
    context: ConsoleContext, stream_name: str, start: datetime, end: datetime, period: int
) -> list[tuple[str, float]]:
    """IncomingRecords per period, oldest first, every period present (0 where none)."""
    answer = context.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Kinesis",
        MetricName="IncomingRecords",
        Dimensions=[{"Name": "StreamName", "Value": stream_name}],
        StartTime=start,
        EndTime=end + timedelta(seconds=period),
        Period=period,
        Statistics=["Sum"],
    )
    sums: dict[datetime, float] = {}
    for point in answer["Datapoints"]:
        moment = point["Timestamp"].astimezone(UTC).replace(second=0, microsecond=0)
        sums[moment] = sums.get(moment, 0.0) + point["Sum"]
    if period != 60:
        return [(t.isoformat(), c) for t, c in sorted(sums.items())]
    minutes = []
    moment = start
    while moment <= end:
        minutes.append((f"{moment:%H:%M}", sums.get(moment, 0.0)))
        moment += timedelta(minutes=1)
    return minutes


def _lake(outputs: dict[str, str]) -> dict[str, str] | None:
    if "lakeBucketName" not in outputs:
        return None
    return {
        "bucket": outputs["lakeBucketName"],
        "deliveryStream": outputs.get("lakeDeliveryStreamName", ""),
    }


def consumers_of_stream(context: ConsoleContext, stream_arn: str) -> list[dict[str, Any]]:
    """The event source mappings reading the stream, one line each."""
    pages = context.client("lambda").get_paginator("list_event_source_mappings")
    found = []
    for page in pages.paginate(EventSourceArn=stream_arn):
        for mapping in page["EventSourceMappings"]:
            found.append(
                {
                    "function": arns.function_name(mapping["FunctionArn"]),
                    "uuid": mapping["UUID"],
                    "state": mapping.get("State", ""),
                    "batchSize": mapping.get("BatchSize"),
                    "lastProcessingResult": mapping.get("LastProcessingResult", ""),
                }
            )
    return sorted(found, key=lambda m: m["function"])
