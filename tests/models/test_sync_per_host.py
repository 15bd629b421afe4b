"""`shai-models sync` pulls into EACH host's own Ollama (ADR 0310): the manifest's ollama_url is
templated on every host of the target's group, the way inventories/*/models.yml write the
gpu_workstation target (`http://{{ ansible_host | default(inventory_hostname) }}:11434`).

Without an Ollama: both hosts point at a closed loopback port, so each host's failure names the
URL it was given. With the real Ollama (built by tools/build.sh): each host's own Ollama, on its
own loopback address, receives the model from the Ollama registry TEST DOUBLE.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from ollama_registry_double import OllamaRegistryDouble
from ollama_serve import ollama_with_tiny_model
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


def _ollama_binary() -> Path:
    try:
        from shai.tools import binary

        return Path(binary("ollama"))
    except Exception as exc:
        if os.environ.get("SHAI_REQUIRE_PEERS"):
            raise
        pytest.skip(f"ollama binary not built: {exc}")


@contextmanager
def _empty_ollama(exe: Path, work: Path, address: str, port: int) -> Iterator[str]:
    """A real `ollama serve` with no model, listening on address:port only (like OLLAMA_HOST on
    a GPU workstation's LAN address)."""
    work.mkdir(parents=True)
    env = dict(
        os.environ, OLLAMA_HOST=f"{address}:{port}", OLLAMA_MODELS=str(work / "models"), HOME=str(work)
    )
    url = f"http://{address}:{port}"
    with (work / "serve.log").open("wb") as log:
        proc = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(url + "/api/version", timeout=1).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError((work / "serve.log").read_text()[-2000:]) from None
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _tags(url: str) -> list[str]:
    with urllib.request.urlopen(url + "/api/tags", timeout=5) as res:
        return sorted(m["name"] for m in json.load(res)["models"])


def test_each_gpu_host_pulls_into_its_own_real_ollama(tmp_path: Path) -> None:
    """Two GPU workstations, each a REAL Ollama on its own loopback address (same port): one
    sync puts the model into both, each through its own URL; the second sync changes nothing."""
    exe = _ollama_binary()
    port = _closed_port()
    with (
        ollama_with_tiny_model(exe, _mkdir(tmp_path / "source"), _closed_port()) as (_url, models, _env),
        OllamaRegistryDouble(models) as reg,
        _empty_ollama(exe, tmp_path / "a", "127.0.0.2", port) as url_a,
        _empty_ollama(exe, tmp_path / "b", "127.0.0.3", port) as url_b,
    ):
        local = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_become": False,
        }
        hosts = {
            "gpu-a": {**local, "ansible_host": "127.0.0.2"},
            "gpu-b": {**local, "ansible_host": "127.0.0.3"},
        }
        inv = tmp_path / "hosts.yml"
        inv.write_text(yaml.safe_dump({"all": {"children": {"gpu_workstation": {"hosts": hosts}}}}))
        target = {
            "hosts": "gpu_workstation",
            "ollama_url": "http://{{ ansible_host | default(inventory_hostname) }}:" + str(port),
            "ollama_registry": reg.host,
            "ollama_insecure": True,
            "ollama": ["shai-tiny:latest"],
        }
        manifest = tmp_path / "models.yml"
        manifest.write_text(yaml.safe_dump({"shai_models": {"targets": {"gpu_workstation": target}}}))
        base = ["-i", str(inv), "-m", str(manifest), "--json"]
        pulled = f"{reg.host}/library/shai-tiny:latest"
        assert _tags(url_a) == [] and _tags(url_b) == []
        first = runner.invoke(app, ["sync", *base])
        assert first.exit_code == 0, first.output
        items = json.loads(first.stdout[first.stdout.index("{") :])["items"]
        assert {(i["host"], i["name"], i["status"]) for i in items if i["kind"] == "ollama"} == {
            ("gpu-a", pulled, "changed"),
            ("gpu-b", pulled, "changed"),
        }
        assert _tags(url_a) == [pulled] and _tags(url_b) == [pulled]
        second = runner.invoke(app, ["sync", *base])
        assert second.exit_code == 0, second.output
        again = json.loads(second.stdout[second.stdout.index("{") :])["items"]
        assert {i["status"] for i in again} == {"ok"}
