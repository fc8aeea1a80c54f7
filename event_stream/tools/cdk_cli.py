"""The pinned CDK CLI and the environment that keeps its runs quiet and offline."""

from __future__ import annotations

from pathlib import Path

# The checkout this module sits in (tests and bench run the pinned CLI from there).
ROOT = Path(__file__).resolve().parents[2]
# package.json pins 2.x: the 3.x CLI cannot read aws-cdk-lib 2.x cloud assemblies.
CDK = ROOT / "node_modules" / ".bin" / "cdk"
QUIET_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",  # jsii's Node 20 banner
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "NODE_NO_WARNINGS": "1",
}
