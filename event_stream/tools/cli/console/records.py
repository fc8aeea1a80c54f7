"""A stream's records page: one shard paged through from a position (the trim horizon, the
latest, a sequence number or a time), decoded envelopes filtered by type, partition key,
tag, id or text; and an event found by id across every shard of the stage.

Everything goes through the shard reader's cursor (`readers/shard_reader.py`), within a
shard's 5 GetRecords calls a second; a page reads only as far as it needs (a filtered page
at most `SCAN_READS` GetRecords calls), so opening a page never reads the whole stream.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from event_stream.lambda_src import event_envelope
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.kinesis_event import iso_time
from event_stream.tools.lambda_model.wire import KinesisRecord
from event_stream.tools.readers.deployed import output
from event_stream.tools.readers.shard_reader import (
    PAGE_LIMIT,
    READ_INTERVAL,
    ShardCursor,
    list_shards,
)

PAGE_SIZE = 50  # rows a page shows
# GetRecords calls a filtered page may make: one second of a shard's reads (5).
SCAN_READS = round(1 / READ_INTERVAL)
FIND_TIMEOUT = 30.0  # seconds a search by id may take before it says how far it got
STARTS = "trim-horizon, latest, at-sequence:<n>, after-sequence:<n> or at-time:<ISO time>"


@dataclass(frozen=True)
class RecordQuery:
    """The records page's query parameters (its URL is part of the contract)."""

    shard: str | None = None
    start: str = "trim-horizon"  # `from`
    type: str | None = None
    key: str | None = None
    tag: tuple[str, str] | None = None
    id: str | None = None
    q: str | None = None

    @classmethod
    def parse(cls, args: dict[str, str]) -> RecordQuery:
        """From the URL's query parameters; a malformed one is `UserError`."""
        tag = None
        if args.get("tag"):
            name, sep, value = args["tag"].partition(":")
            if not sep or not name:
                raise UserError(f"tag {args['tag']!r}: must be NAME:VALUE, e.g. region:us-east-1")
            tag = (name, value)
        query = cls(
            shard=args.get("shard") or None,
            start=args.get("from") or "trim-horizon",
            type=args.get("type") or None,
            key=args.get("key") or None,
            tag=tag,
            id=args.get("id") or None,
            q=args.get("q") or None,
        )
        query.iterator_start()  # refuse a bad `from` before any call
        return query

    @property
    def filtered(self) -> bool:
        return any((self.type, self.key, self.tag, self.id, self.q))

    def iterator_start(self) -> dict[str, Any]:
        """GetShardIterator's arguments for `from`."""
        kind, _, value = self.start.partition(":")
        if self.start == "trim-horizon":
            return {"ShardIteratorType": "TRIM_HORIZON"}
        if self.start == "latest":
            return {"ShardIteratorType": "LATEST"}
        if kind in ("at-sequence", "after-sequence") and value.isdigit():
            position = "AT" if kind == "at-sequence" else "AFTER"
            return {
                "ShardIteratorType": f"{position}_SEQUENCE_NUMBER",
                "StartingSequenceNumber": value,
            }
        if kind == "at-time" and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                moment = None
            if moment is not None:
                return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": moment}
        raise UserError(f"from {self.start!r}: must be {STARTS}")

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether a decoded record passes every filter given."""
        event = row["event"]
        if self.id and event.get("id") != self.id:
            return False
        if self.type and event.get("type") != self.type:
            return False
        if self.key and row["partitionKey"] != self.key:
            return False
        if self.tag and (event.get("tags") or {}).get(self.tag[0]) != self.tag[1]:
            return False
        return not self.q or self.q.lower() in row["text"].lower()


def row_of(shard_id: str, record: KinesisRecord) -> dict[str, Any]:
    """A record as the page shows it: where, when, the decoded envelope, and the raw record."""
    data = record["Data"]
    try:
        event: dict[str, Any] = event_envelope.decode(data)
    except ValueError:
        event = {}
    arrived = record["ApproximateArrivalTimestamp"]
    return {
        "shardId": shard_id,
        "sequenceNumber": record["SequenceNumber"],
        "arrival": iso_time(arrived.timestamp()),
        "partitionKey": record["PartitionKey"],
        "event": event,
        "text": data.decode("utf-8", "replace"),
        "raw": {
            "SequenceNumber": record["SequenceNumber"],
            "PartitionKey": record["PartitionKey"],
            "ApproximateArrivalTimestamp": iso_time(arrived.timestamp()),
            "Data": base64.b64encode(data).decode(),
        },
    }


@dataclass
class _Scan:
    rows: list[dict[str, Any]] = field(default_factory=list)
    scanned: int = 0
    last: str | None = None  # the last sequence number read
    caught_up: bool = False


def records(context: ConsoleContext, stage: str, query: RecordQuery) -> dict[str, Any]:
    """One page of a shard's records (or, for `id` without `shard`, the event found across
    the stage's shards)."""
    stream_name = output(context.stack(stage), "streamName")
    kinesis = context.client("kinesis")
    shards = [shard["ShardId"] for shard in list_shards(kinesis, stream_name)]
    page: dict[str, Any] = {
        "stage": stage,
        "stream": stream_name,
        "shards": shards,
        "from": query.start,
        "filters": {
            "type": query.type,
            "key": query.key,
            "tag": ":".join(query.tag) if query.tag else None,
            "id": query.id,
            "q": query.q,
        },
    }
    if query.id and not query.shard:
        found, scanned, complete = find_by_id(kinesis, stream_name, shards, query)
        return {
            **page,
            "shard": None,
            "records": found,
            "scanned": scanned,
            "searchComplete": complete,
            "next": None,
        }
    shard = query.shard or (shards[0] if shards else None)
    if shard is None or shard not in shards:
        raise UserError(f"shard {shard!r}: the stream {stream_name} has {', '.join(shards)}")
    scan = _page(ShardCursor(kinesis, stream_name, shard, query.iterator_start()), query)
    more = not scan.caught_up or len(scan.rows) == PAGE_SIZE
    return {
        **page,
        "shard": shard,
        "records": scan.rows,
        "scanned": scan.scanned,
        "caughtUp": scan.caught_up,
        # Where the next page starts: just after the last record this one read.
        "next": f"after-sequence:{scan.last}" if scan.last and more else None,
    }


def _page(cursor: ShardCursor, query: RecordQuery) -> _Scan:
    """Read from the cursor until the page is full, the shard is caught up, or (filtered)
    `SCAN_READS` calls were made."""
    scan = _Scan()
    for _ in range(SCAN_READS if query.filtered else 1):
        wait = cursor.next_read(busy=True) - cursor.clock()
        if wait > 0:
            time.sleep(wait)
        limit = PAGE_LIMIT if query.filtered else PAGE_SIZE
        page = cursor.read(limit)
        for record in page:
            scan.scanned += 1
            scan.last = record["SequenceNumber"]
            row = row_of(cursor.shard_id, record)
            if query.matches(row):
                scan.rows.append(row)
                if len(scan.rows) == PAGE_SIZE:
                    return scan
        # A short page with nothing behind it reached the shard's newest record.
        if cursor.caught_up or cursor.closed or (len(page) < limit and not cursor.behind_millis):
            scan.caught_up = True
            return scan
    return scan


def find_by_id(
    kinesis: Any, stream_name: str, shards: list[str], query: RecordQuery
) -> tuple[list[dict[str, Any]], int, bool]:
    """The records whose envelope has `query.id`, searched on every shard at once, each from
    `from`: `(rows, records scanned, whether every shard was searched to its end)`. Ids are
    unique by contract, so the search stops at the first match; a record's bytes are only
    decoded when they hold the id."""
    assert query.id is not None
    needle = json.dumps(query.id)[1:-1].encode()
    found: list[dict[str, Any]] = []
    stop = threading.Event()
    deadline = time.monotonic() + FIND_TIMEOUT
    counts: dict[str, int] = {}

    def search(shard_id: str) -> bool:
        cursor = ShardCursor(kinesis, stream_name, shard_id, query.iterator_start())
        counts[shard_id] = 0
        while not stop.is_set() and time.monotonic() < deadline:
            wait = cursor.next_read(busy=True) - cursor.clock()
            if wait > 0:
                time.sleep(wait)
            for record in cursor.read(PAGE_LIMIT):
                counts[shard_id] += 1
                if needle in record["Data"]:
                    row = row_of(shard_id, record)
                    if query.matches(row):
                        found.append(row)
                        stop.set()
                        return True
            if cursor.caught_up or cursor.closed:
                return True
        return stop.is_set()

    with ThreadPoolExecutor(max(1, len(shards))) as pool:
        complete = all(list(pool.map(search, shards)))
    return found[:1], sum(counts.values()), complete
