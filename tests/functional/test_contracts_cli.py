"""`event-stream contracts check` and `contracts validate`: the CLI's logic on contract
folders and event files, with a real git repository for `--against`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from event_stream.tools.cli import main
from tests.conftest import FIXTURES

CONTRACTS = FIXTURES / "contracts"


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An app folder whose cdk.json names its contracts folder, as the current folder."""
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"contracts": "contracts"}}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))


def test_check_reads_the_folder_from_cdk_json(app, capsys):
    assert main(["contracts", "check"]) == 0
    assert capsys.readouterr().out == "ok: 2 types, 3 versions, BACKWARD\n"


def test_check_names_each_breaking_change_and_exits_1(app, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["contracts", "check", "--mode", "FORWARD"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        'error: thing-created v1 -> v2 breaks FORWARD: adds field "parts" to a closed schema\n'
    )


def test_check_names_a_bad_file_in_one_line(app, capsys):
    (app / "contracts/thing-deleted/v2.json").write_text("{")
    assert main(["contracts", "check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "thing-deleted/v2.json:1: not JSON" in err


def test_check_without_contracts_says_how_to_name_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["contracts", "check"]) == 1
    assert "give --folder, or set the 'contracts' context key" in capsys.readouterr().err


def git(app: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments],
        cwd=app,
        check=True,
        capture_output=True,
    )


def test_check_against_a_ref_refuses_an_edited_published_version(app, capsys):
    git(app, "init", "-q")
    git(app, "add", ".")
    git(app, "commit", "-qm", "published")
    schema = json.loads((app / "contracts/thing-deleted/v1.json").read_text())
    schema["properties"]["reason"]["enum"].append("moved")
    write(app / "contracts/thing-deleted/v1.json", schema)
    with pytest.raises(SystemExit):
        main(["contracts", "check", "--against", "HEAD"])
    assert capsys.readouterr().err == (
        "error: thing-deleted v1: changed since HEAD (a published version is not edited: add "
        "v2.json instead)\n"
    )


def test_check_against_a_ref_accepts_a_new_compatible_version(app, capsys):
    git(app, "init", "-q")
    git(app, "add", ".")
    git(app, "commit", "-qm", "published")
    schema = json.loads((app / "contracts/thing-deleted/v1.json").read_text())
    schema["properties"]["reason"]["enum"].append("moved")
    write(app / "contracts/thing-deleted/v2.json", schema)
    assert main(["contracts", "check", "--against", "HEAD"]) == 0
    assert capsys.readouterr().out == "ok: 2 types, 4 versions, BACKWARD\n"


def test_validate_names_every_violation_with_file_and_line(app, capsys):
    events = app / "events.jsonl"
    events.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {"type": "thing-created", "name": "ok"},
                {"type": "thing-created", "name": 5},
                {"type": "thing-deleted", "reason": "lost", "id": "kept out of the body"},
                {"type": "thing-moved"},
            ]
        )
    )
    with pytest.raises(SystemExit):
        main(["contracts", "validate", str(events)])
    assert capsys.readouterr().err.splitlines() == [
        f"error: {events}:2: thing-created v2: /name: must be string",
        f"error: {events}:3: thing-deleted v1: /reason: must be one of ['expired', 'requested']",
    ]


def test_validate_a_clean_file(app, capsys):
    events = app / "events.jsonl"
    events.write_text(json.dumps({"type": "thing-created", "name": "ok"}) + "\n")
    assert main(["contracts", "validate", str(events)]) == 0
    assert capsys.readouterr().out == "ok: 1 events\n"


def test_docs_prints_the_stages_asyncapi_document_in_yaml(app, capsys):
    import yaml

    assert main(["contracts", "docs", "--stage", "john"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["asyncapi"] == "3.0.0"
    assert printed["channels"]["events"]["address"] == "john-cncb-event-stream-s1"


def test_types_writes_a_module_of_typed_dicts(app, capsys):
    out = app / "event_types.py"
    assert main(["contracts", "types", "--python", "--out", str(out)]) == 0
    assert "class ThingCreatedV2(TypedDict):" in out.read_text()
    assert capsys.readouterr().err == f"wrote {out}\n"
