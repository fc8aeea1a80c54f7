"""The moto fixes the local AWS needs, one module per service, each fix naming the moto
5.2.5 behaviour it corrects. tests/functional/test_local_aws_fixes.py keeps a test and a
canary per fix, so a moto upgrade that changes the behaviour is seen at once.
"""

from __future__ import annotations

from event_stream.tools.local.moto_fixes import (
    awslambda,
    cloudformation,
    exports,
    kinesis,
    mappings,
    sns,
)
from event_stream.tools.local.moto_fixes.awslambda import serve_invocations
from event_stream.tools.local.moto_fixes.mappings import STATES as MAPPING_STATES

__all__ = ["FIXES", "MAPPING_STATES", "apply_fixes", "serve_invocations"]

# (owner, attribute, replacement): what apply_fixes sets, and what the tests patch in.
FIXES = (
    *cloudformation.FIXES,
    *exports.FIXES,
    *kinesis.FIXES,
    *awslambda.FIXES,
    *mappings.FIXES,
    *sns.FIXES,
)


def apply_fixes() -> None:
    """Patch moto in this process; idempotent."""
    for owner, attribute, replacement in FIXES:
        setattr(owner, attribute, replacement)
