"""`shai-models sync` pulls into EACH host's own Ollama (ADR 0310): the manifest's ollama_url is
templated on every host of the target's group, the way inventories/*/models.yml write the
gpu_workstation target (`http://{{ ansible_host | default(inventory_hostname) }}:11434`).

No Ollama runs here: both hosts point at a closed loopback port, so each host's failure names
the URL it was given — proof of which address each host asked, nothing more is claimed.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from shai.models.cli import app

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_each_gpu_host_syncs_its_own_ollama(tmp_path: Path) -> None:
    port = _closed_port()
    local = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
    }
    hosts = {"gpu-a": {**local, "ansible_host": "127.0.0.2"}, "gpu-b": {**local, "ansible_host": "127.0.0.3"}}
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump({"all": {"children": {"gpu_workstation": {"hosts": hosts}}}}))
    manifest = tmp_path / "models.yml"
    target = {
        "hosts": "gpu_workstation",
        "ollama_url": "http://{{ ansible_host | default(inventory_hostname) }}:" + str(port),
        "ollama": ["llama3.1:8b"],
    }
    manifest.write_text(yaml.safe_dump({"shai_models": {"targets": {"gpu_workstation": target}}}))
    res = runner.invoke(app, ["sync", "-i", str(inv), "-m", str(manifest), "--json"])
    assert res.exit_code == 1, res.output
    items = json.loads(res.stdout[res.stdout.index("{") :])["items"]
    asked = {i["host"]: i["detail"] for i in items if i["kind"] == "ollama"}
    assert sorted(asked) == ["gpu-a", "gpu-b"], items
    assert f"cannot reach Ollama at http://127.0.0.2:{port}" in asked["gpu-a"]
    assert f"cannot reach Ollama at http://127.0.0.3:{port}" in asked["gpu-b"]
