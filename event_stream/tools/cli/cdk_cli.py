"""The CDK CLI of the app the user is in, and what to tell the user to run.

The tools never assume they sit in this repository: an installed copy runs in another
app's folder, where there is no Makefile and the CDK CLI is that app's own.
"""

from __future__ import annotations

import re
from pathlib import Path

# jsii's Node 20 banner, the CLI's telemetry and Node's warnings stay out of every run.
QUIET_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "NODE_NO_WARNINGS": "1",
}


def cdk_executable(app_dir: Path) -> Path:
    """The app's pinned CDK CLI (`npm ci` puts it in node_modules/.bin)."""
    return app_dir / "node_modules" / ".bin" / "cdk"


def deploy_hint(stage: str, *, local: bool, app_dir: Path | None = None) -> str:
    """The command that deploys `stage` from `app_dir` (default: the current folder).

    Inside this repository the Makefile's targets bootstrap and deploy in one step; in any
    other CDK app the CDK CLI's own command is what exists.
    """
    app_dir = app_dir or Path.cwd()
    makefile = app_dir / "Makefile"
    target = "local-deploy" if local else "deploy"
    if makefile.is_file() and re.search(rf"^{target}:", makefile.read_text(), re.MULTILINE):
        return f"make {target} STAGE={stage}"
    if local:
        return f"npx cdk deploy --context stage={stage} --method=direct (with AWS_ENDPOINT_URL set)"
    return f"npx cdk deploy --context stage={stage}"
