"""The Lambda code as the CDK side sees it: where its files are and what ships.

`lambda_src/` is the package `event_stream.lambda_src` (package data of the library). Only
its stdlib modules are imported here, for the names they own (metric names, the filter's
environment variable): a synth never imports boto3. Nothing here touches `sys.path`: a
consumer app's own `handler.py` stays its own.
"""

from __future__ import annotations

from pathlib import Path

from event_stream.lambda_src import event_consumer, event_envelope, metrics

LAMBDA_SRC = Path(event_envelope.__file__).resolve().parent
# Exactly what ships in the publishers' asset.
RUNTIME_FILES = ("handler.py", "event_envelope.py", "metrics.py", "publisher.py")
# What ships beside the user's code in every StreamProcessor's asset.
CONSUMER_RUNTIME_FILES = ("event_consumer.py", "event_envelope.py", "metrics.py")
# What ships beside those when the app has event contracts (and the generated validators).
CONTRACT_RUNTIME_FILES = ("event_contracts.py",)
# The event lake's Firehose transformer.
LAKE_RUNTIME_FILES = ("lake_transformer.py", "event_envelope.py", "metrics.py")

__all__ = [
    "CONSUMER_RUNTIME_FILES",
    "CONTRACT_RUNTIME_FILES",
    "LAKE_RUNTIME_FILES",
    "LAMBDA_SRC",
    "RUNTIME_FILES",
    "event_consumer",
    "event_envelope",
    "metrics",
]
