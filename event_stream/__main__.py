"""`python -m event_stream` and the `event-stream` command: the developer CLI, which comes
with the `local` extra. Without it, one line says what to install."""

from __future__ import annotations

import sys

TOOL_PACKAGES = ("boto3", "botocore", "moto", "tqdm")


def run(argv: list[str] | None = None) -> int:
    """The CLI's exit status, or 1 with one line when the developer tools are missing."""
    try:
        from event_stream.tools.cli import main
    except ModuleNotFoundError as missing:
        package = (missing.name or "").split(".")[0]
        if package not in TOOL_PACKAGES:
            raise
        print(
            f"error: the developer tools need the 'local' extra (no module named {package!r}): "
            'pip install "cncb-event-stream[local]"',
            file=sys.stderr,
        )
        return 1
    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
