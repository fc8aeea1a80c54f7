"""Errors a user can cause: exit status 1 and one clear line, no traceback."""

from __future__ import annotations

import os
import socket

import pytest

from event_stream.tools.local import launcher as local_aws


def one_line(result):
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_local_aws_not_running(cloud):
    port = local_aws.free_port()
    env = {**cloud.env, **local_aws.client_env(local_aws.endpoint_url(port))}
    line = one_line(cloud.cli("info", "--stage", "dev", env=env))
    assert f"cannot reach http://localhost:{port}" in line
    assert line.endswith(f"(python -m event_stream local up --port {port})")


def test_stage_never_deployed(cloud):
    line = one_line(cloud.cli("invoke", "--stage", "never-deployed", "--data", '{"type":"t"}'))
    assert "stage 'never-deployed' is not deployed" in line
    # The hint fits where the user is: this repository, the local AWS on its port.
    assert line.endswith(
        f"(deploy it with: make local-deploy STAGE=never-deployed PORT={cloud.server.port})"
    )


@pytest.mark.parametrize("data", ["{bad", "", "[1,"])
def test_malformed_data(cloud, data):
    assert "--data is not valid JSON" in one_line(
        cloud.cli("invoke", "--stage", "dev", "--data", data)
    )


def test_invalid_stage_name(cloud):
    assert "invalid stage 'a_b'" in one_line(cloud.cli("tail", "--stage", "a_b"))


def test_port_in_use(cloud, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**cloud.env}
        result = cloud.cli("local", "up", "--port", str(port), env=env)
    assert f"port {port} is in use" in one_line(result)


def test_no_credentials_and_no_local_aws(cloud, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        XDG_STATE_HOME=str(tmp_path / "no-local-aws"),  # the other tests' are recorded
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    if local_aws.status() is not None:
        pytest.skip("a local AWS is running from .local-aws/; it would be used")
    line = one_line(cloud.cli("info", "--stage", "dev", env=env))
    assert "no AWS credentials configured and no local AWS running" in line


def test_local_up_on_a_port_another_folders_local_aws_holds_names_it(cloud, tmp_path):
    line = one_line(cloud.cli("local", "up", "--port", str(cloud.server.port), cwd=tmp_path))
    assert f"a local AWS already runs on port {cloud.server.port}" in line
    assert f"pid {cloud.server.pid}, started in {cloud.state_dir.parent}" in line
