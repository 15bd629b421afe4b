"""`shai-models sync` against two real lab hosts over SSH (systemd-nspawn, `shai lab`).

The Hub TEST DOUBLE listens on the lab gateway address (inside the lab's private subnet), so
the hosts' `model_file` modules download from it exactly as they would from the Hub.
Set SHAI_MODELS_LAB_INVENTORY to reuse a lab that is already up (it is then left running).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hub_double import HubDouble
from typer.testing import CliRunner

from shai.models.cli import app

pytestmark = pytest.mark.lab
runner = CliRunner()
SHAI = str(Path(sys.executable).parent / "shai")


@pytest.fixture(scope="module")
def lab_inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reuse = os.environ.get("SHAI_MODELS_LAB_INVENTORY")
    if reuse:
        yield Path(reuse)
        return
    if os.geteuid() != 0 or shutil.which("systemd-nspawn") is None:
        pytest.skip("the lab needs root and systemd-nspawn")
    inv = tmp_path_factory.mktemp("lab-models") / "hosts.yml"
    up = [SHAI, "lab", "up", "--name", "models", "--host", "a:gpu_workstation", "--host", "b:gpu_workstation"]
    subprocess.run([*up, "--inventory", str(inv)], check=True)
    try:
        yield inv
    finally:
        subprocess.run([SHAI, "lab", "down", "--name", "models"], check=False)


def test_sync_two_lab_hosts_idempotent(lab_inventory: Path, repo_dir: Path, tmp_path: Path) -> None:
    inv = yaml.safe_load(lab_inventory.read_text())
    gateway = inv["all"]["vars"]["shai_lab_gateway"]
    assert gateway.startswith("10.213."), "network rule: the lab subnet only"
    with HubDouble(host=gateway) as hub:
        repo = hub.add_repo("coqui/XTTS-v2", repo_dir)
        up = tmp_path / "4x.pth"
        up.write_bytes(os.urandom(700_000))
        manifest = tmp_path / "models.yml"
        manifest.write_text(
            yaml.safe_dump(
                {
                    "shai_models": {
                        "hf_endpoint": hub.endpoint,
                        "targets": {
                            "gpu_workstation": {
                                "hosts": "gpu_workstation",
                                "root": "/srv/shai-models-test",
                                "files": [
                                    {
                                        "name": "xtts",
                                        "hf": {"repo": "coqui/XTTS-v2", "revision": repo.commit},
                                        "dest": "tts/xtts",
                                    },
                                    {
                                        "name": "up",
                                        "url": hub.add_static("4x.pth", up),
                                        "sha256": hashlib.sha256(up.read_bytes()).hexdigest(),
                                        "dest": "upscale_models",
                                    },
                                ],
                            }
                        },
                    }
                }
            )
        )
        base = ["-i", str(lab_inventory), "-m", str(manifest), "--json"]
        env = {"HF_TOKEN": ""}
        first = runner.invoke(app, ["sync", *base], env=env)
        assert first.exit_code == 0, first.output
        rep = json.loads(first.stdout[first.stdout.index("{") :])
        hosts = {i["host"] for i in rep["items"]}
        assert len(hosts) == 2, rep
        assert {i["status"] for i in rep["items"]} == {"changed"}
        per_host = len(repo.files) + 1
        assert len(rep["items"]) == 2 * per_host

        second = runner.invoke(app, ["sync", *base], env=env)
        assert second.exit_code == 0, second.output
        rep2 = json.loads(second.stdout[second.stdout.index("{") :])
        assert {i["status"] for i in rep2["items"]} == {"ok"}, "second sync must change nothing"
        assert sum(i["bytes_transferred"] for i in rep2["items"]) == 0

        verify = runner.invoke(app, ["verify", *base], env=env)
        assert verify.exit_code == 0, verify.output
