"""The models manifest schema (module_utils/models_manifest.py) and the checked-in manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import models_manifest as mm

from shai.models import manifest as mf

REPO = Path(__file__).resolve().parents[2]
C40 = "a" * 40
S64 = "b" * 64


def _m(**targets: object) -> dict[str, object]:
    return {"shai_models": {"targets": targets}}


def test_valid_manifest_is_normalised() -> None:
    out = mm.validate(
        _m(
            gpu={
                "hosts": "gpu_workstation",
                "root": "/srv/models",
                "ollama": ["llama3.1:8b", {"name": "mistral"}],
                "files": [
                    {"name": "a", "url": "https://x.example/a.bin", "sha256": S64, "dest": "x"},
                    {
                        "name": "b",
                        "hf": {"repo": "org/m", "revision": C40, "include": "*.pth"},
                        "dest": "/abs",
                    },
                ],
            }
        )
    )
    t = out["targets"]["gpu"]
    assert [o["name"] for o in t["ollama"]] == ["llama3.1:8b", "mistral:latest"]
    assert t["files"][1]["hf"]["include"] == ["*.pth"]
    assert mm.file_dest_dir(t, t["files"][0]) == "/srv/models/x"


def test_errors_name_every_bad_entry() -> None:
    with pytest.raises(mm.ManifestError) as err:
        mm.validate(
            _m(
                comfyui={
                    "hosts": "gpu_workstation",
                    "files": [
                        {"name": "nohash", "url": "https://x/a", "dest": "/d"},
                        {"name": "unpinned", "hf": {"repo": "org/m", "revision": "main"}, "dest": "/d"},
                        {"name": "both", "url": "https://x/a", "hf": {}, "dest": "/d"},
                        {"name": "rel", "url": "https://x/a", "sha256": S64, "dest": "relative"},
                        {"name": "nohash", "url": "https://x/b", "sha256": "XYZ", "dest": "/d", "extra": 1},
                    ],
                    "ollama": ["Bad Name!"],
                },
                cpu={"ollama": []},
            )
        )
    text = str(err.value)
    for needle in (
        "targets.comfyui.files[0] (nohash): sha256 is required",
        "targets.comfyui.files[1] (unpinned): hf.revision must be a pinned 40-hex commit",
        "targets.comfyui.files[2] (both): exactly one of url or hf",
        "targets.comfyui.files[3] (rel): dest 'relative' is relative but the target has no root",
        "targets.comfyui.files[4] (nohash): unknown key 'extra'",
        "targets.comfyui.files[4] (nohash): sha256 must be 64",
        "targets.comfyui.ollama[0] (Bad Name!): name must be an Ollama model name",
        "targets.cpu: hosts (an inventory group or host) is required",
    ):
        assert needle in text, needle
    assert len(err.value.errors) >= 8


def test_unpinned_allowed_on_request() -> None:
    data = _m(
        t={"hosts": "h", "files": [{"name": "u", "hf": {"repo": "o/m", "revision": "main"}, "dest": "/d"}]}
    )
    assert mm.validate(data, allow_unpinned=True)["targets"]["t"]["files"][0]["hf"]["revision"] == "main"


def test_homelab_manifest_parses_offline() -> None:
    path = REPO / "inventories/homelab/models.yml"
    with pytest.raises(mm.ManifestError, match="pinned 40-hex"):
        mf.load(path)
    m = mf.load(path, allow_unpinned=True)
    assert {"gpu_workstation", "comfyui", "cpu_ollama"} <= set(m["targets"])
    inv = yaml.safe_load((REPO / "inventories/homelab/hosts.yml").read_text())
    groups = set(inv["all"]["children"]) | set(inv["all"]["children"]["k3s_cluster"]["children"])
    for t in m["targets"].values():
        assert t["hosts"] in groups


def test_lab_manifest_matches_the_tiny_gguf(tmp_path: Path) -> None:
    import hashlib
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_gguf import write_tiny_gguf

    m = mf.load(REPO / "inventories/lab/models.yml")
    entry = m["targets"]["gpu_workstation"]["files"][0]
    got = hashlib.sha256(write_tiny_gguf(tmp_path / "t.gguf").read_bytes()).hexdigest()
    assert entry["sha256"] == got


def test_cli_list_json_and_target_filter() -> None:
    import json

    from typer.testing import CliRunner

    from shai.models.cli import app

    runner = CliRunner()
    inv = str(REPO / "inventories/homelab/hosts.yml")
    res = runner.invoke(app, ["--allow-unpinned", "list", "-i", inv, "--target", "cpu_ollama", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {r["target"] for r in rows} == {"cpu_ollama"} and {r["kind"] for r in rows} == {"ollama"}
    bad = runner.invoke(app, ["--allow-unpinned", "list", "-i", inv, "--target", "nope"])
    assert bad.exit_code == 1 and "unknown target(s) nope" in bad.output
    strict = runner.invoke(app, ["list", "-i", inv])
    assert strict.exit_code == 1
    assert "(sdxl-base): hf.revision must be a pinned" in strict.output.replace("\n", " ")
