"""`shai-models sync/diff/verify/prune` end to end through the real ansible-playbook and the
collection's modules, against a local-connection host and the Hub TEST DOUBLE."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import yaml
from hub_double import HubDouble
from typer.testing import CliRunner

from shai.models.cli import app

runner = CliRunner()


def _setup(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    repo = hub.add_repo("coqui/XTTS-v2", repo_dir)
    up = tmp_path / "upscaler.pth"
    up.write_bytes(b"\x01" * 300_000)
    url = hub.add_static("4x.pth", up)
    root = tmp_path / "host-root"
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "gpu_workstation": {
                            "hosts": {
                                "box": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable,
                                    "ansible_become": False,
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    manifest = tmp_path / "models.yml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "shai_models": {
                    "hf_endpoint": hub.endpoint,
                    "targets": {
                        "gpu_workstation": {
                            "hosts": "gpu_workstation",
                            "root": str(root),
                            "files": [
                                {
                                    "name": "xtts",
                                    "hf": {
                                        "repo": "coqui/XTTS-v2",
                                        "revision": repo.commit,
                                        "exclude": ["*.json"],
                                    },
                                    "dest": "tts/xtts",
                                },
                                {
                                    "name": "up",
                                    "url": url,
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
    return inv, manifest, root


def _json(res: object) -> dict[str, object]:
    out = res.stdout  # type: ignore[attr-defined]
    return json.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def test_sync_diff_verify_prune(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    inv, manifest, root = _setup(hub, repo_dir, tmp_path)
    base = ["-i", str(inv), "-m", str(manifest), "--json"]

    before = runner.invoke(app, ["diff", *base])
    assert before.exit_code == 1, before.output
    assert not root.exists(), "diff (check mode) must not create anything"
    pred = _json(before)
    assert pred["changed"] and {i["status"] for i in pred["items"]} == {"would-change"}  # type: ignore[index]

    first = runner.invoke(app, ["sync", *base])
    assert first.exit_code == 0, first.output
    items = _json(first)["items"]
    names = sorted(i["name"] for i in items)  # type: ignore[index]
    assert names == ["up:4x.pth", "xtts:model.safetensors", "xtts:speakers.pth", "xtts:vocab.txt"]
    assert all(i["status"] == "changed" for i in items)  # type: ignore[index]
    assert (root / "tts/xtts/model.safetensors").read_bytes() == (repo_dir / "model.safetensors").read_bytes()
    assert (root / "tts/xtts/sub/vocab.txt").exists()

    second = runner.invoke(app, ["sync", *base])
    assert second.exit_code == 0
    assert all(i["status"] == "ok" for i in _json(second)["items"])  # type: ignore[index, union-attr]
    assert runner.invoke(app, ["diff", *base]).exit_code == 0

    # a file changed on disk: verify (sha256 on the host) reports it, sync repairs it
    (root / "tts/xtts/speakers.pth").write_bytes(b"tampered")
    bad = runner.invoke(app, ["verify", *base])
    assert bad.exit_code == 1
    assert [i["name"] for i in _json(bad)["items"] if i["status"] != "ok"] == ["xtts:speakers.pth"]  # type: ignore[index, union-attr]
    assert runner.invoke(app, ["sync", *base]).exit_code == 0
    assert runner.invoke(app, ["verify", *base]).exit_code == 0

    # prune: a file the manifest does not list goes (after confirmation); listed files stay
    (root / "upscale_models/old.pth").write_bytes(b"old")
    no = runner.invoke(app, ["prune", "-i", str(inv), "-m", str(manifest)], input="n\n")
    assert no.exit_code == 1 and (root / "upscale_models/old.pth").exists()
    yes = runner.invoke(app, ["prune", "-i", str(inv), "-m", str(manifest), "--yes"])
    assert yes.exit_code == 0, yes.output
    assert not (root / "upscale_models/old.pth").exists()
    assert (root / "upscale_models/4x.pth").exists()
