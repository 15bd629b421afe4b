"""The scenario's published artifacts: stable git fixture commits pinned by the lab inventory,
the ComfyUI TEST DOUBLE's /system_stats, and the Ollama release-layout packaging."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from . import fixtures
from .conftest import HERE, ROOT

LAB_VARS = ROOT / "inventories/lab/group_vars/gpu_workstation/gpu_workstation.yml"


def test_lab_inventory_pins_the_published_commits(tmp_path: Path) -> None:
    published = fixtures.publish_comfyui(tmp_path)
    again = fixtures.publish_comfyui(tmp_path)
    assert published == again
    pins = yaml.safe_load(LAB_VARS.read_text())
    assert pins["comfyui_version"] == published["comfyui"]["commit"], "update the lab inventory pin"
    assert pins["comfyui_custom_nodes"][0]["version"] == published["custom_node"]["commit"]
    # Served by a static HTTP server, git needs the dumb-protocol index.
    assert (tmp_path / fixtures.COMFYUI_REPO / "info" / "refs").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_comfyui_double_answers_system_stats(tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "output"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "comfyui_double" / "main.py"), "--listen", "127.0.0.1",
         "--port", str(port), "--cpu", "--output-directory", str(out), "--some-future-flag"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/system_stats", timeout=2) as resp:
                    stats = json.load(resp)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the ComfyUI TEST DOUBLE did not answer")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert stats["shai_test_double"] is True
    assert "--cpu" in stats["system"]["argv"]
    assert stats["writable"]["output"] is True
    assert stats["devices"][0]["type"] == "cpu"


def test_ollama_release_layout(tmp_path: Path) -> None:
    binary = tmp_path / "ollama"
    binary.write_bytes(b"#!/bin/sh\necho 'ollama version is 0.17.4'\n")
    binary.chmod(0o755)
    first = fixtures.package_ollama(binary, mirror=tmp_path / "mirror")
    second = fixtures.package_ollama(binary, mirror=tmp_path / "mirror")
    assert first == second
    dest = tmp_path / "mirror" / "ollama" / fixtures.OLLAMA_VERSION
    archive = dest / fixtures.OLLAMA_ARCHIVE
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == first["sha256"]
    assert (dest / "sha256sum.txt").read_text() == f"{first['sha256']}  ./{fixtures.OLLAMA_ARCHIVE}\n"
    listing = subprocess.run(
        ["tar", "--zstd", "-tvf", str(archive)], capture_output=True, text=True, check=True
    )
    names = [line.split()[-1] for line in listing.stdout.splitlines()]
    assert "bin/ollama" in names and "lib/ollama/" in names
