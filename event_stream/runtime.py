"""The one place that makes the Lambda code in lambda_src/ importable on the developer side.

Inside Lambda those files are top-level modules (`import event_envelope`); the CLI, the
CDK side and the benchmarks import them the same way through this module, so the Lambda
code never needs to know about the package around it.
"""

from __future__ import annotations

import sys
from pathlib import Path

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
# Exactly what ships in the Lambda asset.
RUNTIME_FILES = ("handler.py", "event_envelope.py", "publisher.py")

if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

import event_envelope  # noqa: E402
import publisher  # noqa: E402

__all__ = ["LAMBDA_SRC", "RUNTIME_FILES", "event_envelope", "publisher"]
