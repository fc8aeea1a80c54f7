"""One figure of the benchmark: what this project measured, its floor, and its target.

Each measurement declares its figures beside itself (a `figures(results)` function next to
the code that measured them); `table` and `missed` are made from those declarations only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A row of the table: `met` is None for a figure shown for context, without a target."""

    name: str
    ours: str
    floor: str
    ratio: str = "-"
    target: str = "-"
    met: bool | None = None


def table(figures: Iterable[Figure], machine: dict) -> str:
    """The Markdown table the README quotes."""
    header = ("figure", "this project", "floor", "ratio", "target", "met")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append("| " + " | ".join((f.name, f.ours, f.floor, f.ratio, f.target, met)) + " |")
    lines.append("")
    lines.append(
        f"Measured {machine['when']} on {machine['cpus']} CPUs, Python {machine['python']}, "
        f"{machine['platform']}."
    )
    return "\n".join(lines)


def missed(figures: Iterable[Figure]) -> list[str]:
    """One line per figure whose target was missed."""
    return [
        f"missed: {f.name}: {f.ours}"
        + (f", {f.ratio}" if f.ratio != "-" else "")
        + f" (target {f.target})"
        for f in figures
        if f.met is False
    ]
