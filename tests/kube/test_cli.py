"""`shai lab kube up|status|down` against the real binaries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shai import tools
from shai.kube.cli import app, state_dir

pytestmark = pytest.mark.kube


def test_invalid_name_is_rejected() -> None:
    res = CliRunner().invoke(app, ["status", "--name", "Bad Name"])
    assert res.exit_code != 0
    assert "invalid name" in res.output


def test_up_status_down(peer: Callable[[str], Path]) -> None:
    for name in ("etcd", "kube-apiserver", "kube-controller-manager"):
        peer(name)
    name = f"pytest-{uuid.uuid4().hex[:6]}"
    runner = CliRunner()
    try:
        up = runner.invoke(app, ["up", "--name", name, "--no-controller-manager"])
        assert up.exit_code == 0, up.output
        kubeconfig = Path(up.stdout.strip().splitlines()[-1])
        assert kubeconfig == state_dir(name) / "kubeconfig"
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        assert server.startswith("https://127.0.0.1:")
        again = runner.invoke(app, ["up", "--name", name])
        assert again.exit_code == 0 and "already running" in again.output
        st = runner.invoke(app, ["status", "--name", name])
        assert st.exit_code == 0, st.output
        assert "kube-apiserver" in st.output and "running" in st.output
    finally:
        down = runner.invoke(app, ["down", "--name", name])
    assert down.exit_code == 0, down.output
    assert not state_dir(name).exists()
    assert runner.invoke(app, ["status", "--name", name]).exit_code == 1
    assert tools.cache_dir() in state_dir(name).parents
