"""`contracts check [--folder F] [--mode M] [--against REF]`, `contracts validate FILE`,
`contracts docs [--stage S]` and `contracts types --python`: the app's event contracts
without a synth (`event_stream/contracts/`).

`check` runs what `cdk synth` runs: every file read and checked, every type's versions
compared under the mode; with `--against REF` (a git branch, tag or commit) also every
version REF holds must be unchanged here (a published contract is never edited: add a version).
`validate` checks a JSON Lines file of events (what `replay FILE` sends) against the newest
version of each type, with the validators the functions would run. `docs` writes an
AsyncAPI 3.0 document (YAML) of a stage's stream; `types` the TypedDicts handlers annotate
their events with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from event_stream.config import DEFAULT_STAGE
from event_stream.contracts import asyncapi, compatibility, compiler, files, python_types
from event_stream.contracts.settings import ContractSettings
from event_stream.lambda_src.event_contracts import Contracts, ContractViolation
from event_stream.lambda_src.event_envelope import RESERVED_FIELDS
from event_stream.tools.errors import UserError
from event_stream.tools.readers import contract_package
from event_stream.tools.readers.event_file import read_events


def register(commands: Any) -> None:
    """Add this command to the CLI's subcommands."""
    contracts = commands.add_parser("contracts", help="check the app's event contracts")
    actions = contracts.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="files and compatibility, as cdk synth checks them")
    check.add_argument("--mode", choices=compatibility.MODES, help="default: the app's")
    check.add_argument("--against", metavar="REF", help="a git ref whose versions must be kept")
    validate = actions.add_parser("validate", help="check a JSON Lines file of events")
    validate.add_argument("file", type=Path)
    docs = actions.add_parser("docs", help="an AsyncAPI 3.0 document of a stage's events")
    docs.add_argument("-s", "--stage", default=DEFAULT_STAGE, help=f"default {DEFAULT_STAGE}")
    types = actions.add_parser("types", help="typed Python for handlers (TypedDicts)")
    types.add_argument("--python", action="store_true", required=True, help="the language")
    for action in (docs, types):
        action.add_argument("--out", type=Path, help="write to FILE (default: print)")
    for action in (check, validate, docs, types):
        action.add_argument("--folder", type=Path, help="default: cdk.json's 'contracts' key")
    check.set_defaults(run=run_check, needs_target=False)
    validate.set_defaults(run=run_validate, needs_target=False)
    docs.set_defaults(run=run_docs, needs_target=False)
    types.set_defaults(run=run_types, needs_target=False)


def settings(args: argparse.Namespace) -> ContractSettings:
    """The app's settings (./cdk.json), the folder given on the command line winning."""
    try:
        found = ContractSettings.from_cdk_json(Path("cdk.json"))
    except files.ContractError as error:
        raise UserError(str(error)) from None
    folder = args.folder or found.folder
    if folder is None:
        raise UserError(
            "no contracts: give --folder, or set the 'contracts' context key in cdk.json"
        )
    return ContractSettings(folder, found.strict, getattr(args, "mode", None) or found.mode)


def load(folder: Path) -> dict[str, list[files.Contract]]:
    """Every contract in `folder`, read, checked and compiled once, or one line."""
    try:
        contracts = files.load(folder)
        compiler.check_compiles(contracts)
    except files.ContractError as error:
        raise UserError(str(error)) from None
    return contracts


def run_check(args: argparse.Namespace) -> None:
    """Print each breaking change, and exit 1 if there is any."""
    chosen = settings(args)
    assert chosen.folder is not None
    contracts = load(chosen.folder)
    problems = compatibility.check(contracts, chosen.mode)
    if args.against:
        problems += changed_since(args.against, chosen.folder, contracts)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    versions = sum(len(v) for v in contracts.values())
    print(f"ok: {len(contracts)} types, {versions} versions, {chosen.mode}")


def changed_since(ref: str, folder: Path, contracts: dict[str, list[files.Contract]]) -> list[str]:
    """A line per version `ref` holds that is gone or changed here."""
    root = Path(_git(["rev-parse", "--show-toplevel"], folder).strip())
    prefix = folder.resolve().relative_to(root.resolve()).as_posix()
    listed = _git(["ls-tree", "-r", "--name-only", ref, "--", prefix], root).splitlines()
    problems = []
    for name in listed:
        relative = Path(name).relative_to(prefix)
        if len(relative.parts) != 2 or not files.VERSION_FILE.match(relative.name):
            continue
        event_type, version = relative.parts[0], int(relative.name[1:-5])
        here = {c.version: c for c in contracts.get(event_type, [])}.get(version)
        if here is None:
            problems.append(f"{event_type} v{version}: in {ref}, gone here (keep every version)")
            continue
        before = json.loads(_git(["show", f"{ref}:{name}"], root))
        if before != here.schema:
            problems.append(
                f"{event_type} v{version}: changed since {ref} (a published version is not "
                f"edited: add v{len(contracts[event_type]) + 1}.json instead)"
            )
    return problems


def _git(arguments: list[str], folder: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise UserError(f"git {' '.join(arguments)}: {done.stderr.strip().splitlines()[-1]}")
    return done.stdout


def run_validate(args: argparse.Namespace) -> None:
    """Print `error: FILE:LINE: <type> v<N>: <path>: <message>` per violation; exit 1 if any."""
    chosen = settings(args)
    assert chosen.folder is not None
    contracts = load(chosen.folder)
    events = read_events(args.file)
    with tempfile.TemporaryDirectory(prefix="event-contracts-") as out:
        try:
            compiler.write_package(contracts, contracts, Path(out))
        except files.ContractError as error:
            raise UserError(str(error)) from None
        compiled = contract_package.from_folder(Path(out), strict=chosen.strict)
        violations = _violations(events, compiled)
    for violation in violations:
        print(f"error: {violation}", file=sys.stderr)
    if violations:
        sys.exit(1)
    print(f"ok: {len(events)} events")


def _violations(events: list[tuple[str, Any]], contracts: Contracts | None) -> list[str]:
    assert contracts is not None  # the package was just written
    found = []
    for where, event in events:
        event_type = event.get("type") if isinstance(event, dict) else None
        if not isinstance(event_type, str):
            found.append(f"{where}: not an event with a string 'type'")
            continue
        body = {k: v for k, v in event.items() if k not in RESERVED_FIELDS}
        try:
            contracts.check({"type": event_type, **body})
        except ContractViolation as violation:
            found.append(f"{where}: {violation}")
    return found


def run_docs(args: argparse.Namespace) -> None:
    """Print (or write) the stage's AsyncAPI 3.0 document, in YAML."""
    import yaml

    chosen = settings(args)
    assert chosen.folder is not None
    document = asyncapi.document(load(chosen.folder), stage=args.stage)
    _emit(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), args.out)


def run_types(args: argparse.Namespace) -> None:
    """Print (or write) the contracts' TypedDicts."""
    chosen = settings(args)
    assert chosen.folder is not None
    _emit(python_types.module(load(chosen.folder)), args.out)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)
