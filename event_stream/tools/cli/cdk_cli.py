"""The CDK CLI of the app the user is in, and what to tell the user to run.

The tools never assume they sit in this repository: an installed copy runs in another
app's folder, where there is no Makefile and the CDK CLI is that app's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from event_stream.tools.local import launcher

# jsii's Node 20 banner, the CLI's telemetry and Node's warnings stay out of every run.
QUIET_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "NODE_NO_WARNINGS": "1",
}


def cdk_executable(app_dir: Path) -> Path:
    """The app's pinned CDK CLI (`npm ci` puts it in node_modules/.bin)."""
    return app_dir / "node_modules" / ".bin" / "cdk"


def deploy_hint(stage: str, *, endpoint: str | None, app_dir: Path | None = None) -> str:
    """The command that deploys `stage` from `app_dir` (default: the current folder) to
    `endpoint` (a local AWS; None: AWS).

    Inside this repository the Makefile's targets bootstrap and deploy in one step (with
    `PORT=` for a local AWS off the default port); in any other CDK app the CDK CLI's own
    commands are what exist, with the environment that points them at the local AWS.
    """
    app_dir = app_dir or Path.cwd()
    makefile = app_dir / "Makefile"
    target = "local-deploy" if endpoint else "deploy"
    if makefile.is_file() and re.search(rf"^{target}:", makefile.read_text(), re.MULTILINE):
        port = _chosen_port(endpoint)
        return f"make {target} STAGE={stage}" + (f" PORT={port}" if port else "")
    if endpoint:
        return (
            f'eval "$({local_command("env", endpoint=endpoint)})" && npx cdk bootstrap '
            f"aws://{launcher.ACCOUNT}/{launcher.REGION} && npx cdk deploy --context "
            f"stage={stage} --method=direct"
        )
    return f"npx cdk deploy --context stage={stage}"


def local_command(action: str, *, endpoint: str | None) -> str:
    """`python -m event_stream local ACTION`, naming the port of `endpoint` when it is not
    the default one."""
    port = _chosen_port(endpoint)
    return f"python -m event_stream local {action}" + (f" --port {port}" if port else "")


def _chosen_port(endpoint: str | None) -> int | None:
    """The port of `endpoint` when a hint must name it: set, and not the default one."""
    port = urlsplit(endpoint).port if endpoint else None
    return port if port != launcher.DEFAULT_PORT else None
