"""The one model of an event source mapping: its settings as the Lambda API answers them
(`CreateEventSourceMapping` / `ListEventSourceMappings`), with Lambda's defaults for what the
answer leaves out ("Lambda parameters for Amazon Kinesis Data Streams event source
mappings"). The local AWS runs it, `dlq` finds a consumer's queue in it, and replay batches
and filters as it says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from event_stream.tools import arns
from event_stream.tools.lambda_model.event_filter import patterns_of

DEFAULT_BATCH_SIZE = 100  # Kinesis


@dataclass(frozen=True)
class EventSourceMapping:
    """A mapping's settings; `-1` means "no limit", as the API writes it."""

    uuid: str
    function_arn: str
    stream_arn: str
    state: str = field(default="Enabled", compare=False)  # a new state is no new setting
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    starting_timestamp: datetime | None = None
    bisect: bool = False
    report_item_failures: bool = False
    max_retries: int = -1
    max_record_age: int = -1
    destination: str | None = None  # the on-failure destination's ARN
    filter_patterns: tuple[str, ...] = ()
    parallelization_factor: int = 1
    tumbling_window: int = 0  # seconds; 0: no windows

    @classmethod
    def from_api(cls, mapping: dict[str, Any]) -> EventSourceMapping:
        """The model of one mapping of a Lambda API answer."""
        on_failure = (mapping.get("DestinationConfig") or {}).get("OnFailure") or {}
        return cls(
            uuid=mapping["UUID"],
            function_arn=mapping["FunctionArn"],
            stream_arn=mapping["EventSourceArn"],
            state=mapping.get("State") or "Enabled",
            batch_size=int(mapping.get("BatchSize") or DEFAULT_BATCH_SIZE),
            batching_window=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=mapping.get("StartingPosition") or "TRIM_HORIZON",
            starting_timestamp=mapping.get("StartingPositionTimestamp"),
            bisect=bool(mapping.get("BisectBatchOnFunctionError")),
            report_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            max_retries=int(mapping.get("MaximumRetryAttempts", -1)),
            max_record_age=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            destination=on_failure.get("Destination") or None,
            filter_patterns=tuple(
                f["Pattern"] for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])
            ),
            parallelization_factor=int(mapping.get("ParallelizationFactor") or 1),
            tumbling_window=int(mapping.get("TumblingWindowInSeconds") or 0),
        )

    @property
    def is_kinesis(self) -> bool:
        return self.stream_arn.startswith("arn:") and arns.service(self.stream_arn) == "kinesis"

    @property
    def function_name(self) -> str:
        return arns.function_name(self.function_arn)

    @property
    def stream_name(self) -> str:
        return arns.stream_name(self.stream_arn)

    @property
    def patterns(self) -> list[dict[str, Any]]:
        """The filter patterns, parsed (none: every record passes)."""
        return patterns_of({"Filters": [{"Pattern": p} for p in self.filter_patterns]})
