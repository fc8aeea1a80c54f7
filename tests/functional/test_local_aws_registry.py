"""Finding the local AWS from any folder: the per-user record of running ones, which one a
command means, and a port another folder's local AWS holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from event_stream.tools.local import launcher, registry


@pytest.fixture(autouse=True)
def record(tmp_path, monkeypatch):
    """An empty per-user record; every recorded process counts as answering."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(launcher, "_answers", lambda port: True)
    monkeypatch.chdir(tmp_path)  # no .local-aws/ here
    return tmp_path


def recorded(port: int, folder: str, pid: int | None = None) -> registry.Entry:
    entry = registry.Entry(pid or os.getpid(), port, Path(f"/work/{folder}/.local-aws"))
    registry.add(entry)
    return entry


def a_finished_process() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_only_local_aws_running_is_found_from_any_folder():
    recorded(4850, "app")
    found = launcher.find()
    assert found is not None and (found.port, found.state_dir) == (
        4850,
        Path("/work/app/.local-aws"),
    )


def test_aws_endpoint_url_chooses_among_several(monkeypatch):
    recorded(4566, "one")
    recorded(4850, "two")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4850")
    found = launcher.find()
    assert found is not None and found.state_dir == Path("/work/two/.local-aws")


def test_a_port_given_chooses_over_aws_endpoint_url(monkeypatch):
    recorded(4566, "one")
    recorded(4850, "two")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    found = launcher.find(port=4850)
    assert found is not None and found.state_dir == Path("/work/two/.local-aws")


def test_several_running_and_none_chosen_is_one_line_naming_them():
    recorded(4566, "one")
    recorded(4850, "two")
    with pytest.raises(launcher.LocalAwsError, match=r"^several local AWSes are running") as e:
        launcher.find()
    assert "4566 (started in /work/one)" in str(e.value)
    assert "AWS_ENDPOINT_URL=http://localhost:PORT" in str(e.value)


def test_an_endpoint_that_is_not_a_local_aws_finds_none(monkeypatch):
    recorded(4566, "one")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://kinesis.example.com")
    assert launcher.find() is None


def test_the_record_of_a_process_that_is_gone_is_ignored_and_removed():
    recorded(4566, "gone", pid=a_finished_process())
    assert launcher.find() is None
    assert list(registry.record_dir().glob("*.json")) == []


def test_local_up_on_a_port_another_folder_holds_names_that_folder_and_process():
    holder = recorded(4850, "other")
    with pytest.raises(launcher.LocalAwsError) as error:
        launcher.start(4850)
    assert str(error.value).startswith(
        f"a local AWS already runs on port 4850 (pid {holder.pid}, started in /work/other)"
    )
