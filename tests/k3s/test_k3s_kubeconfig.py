"""Unit tests for the kubeconfig merge (module_utils/k3s_kubeconfig.py and the k3s_kubeconfig module)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.vectorweight.shai.plugins.module_utils import k3s_kubeconfig as kc
from ansible_collections.vectorweight.shai.plugins.modules import k3s_kubeconfig as mod

K3S_YAML: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {
            "name": "default",
            "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="},
        }
    ],
    "users": [
        {"name": "default", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}
    ],
    "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    "current-context": "default",
}

OTHER: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "work", "cluster": {"server": "https://work:6443"}}],
    "users": [{"name": "work", "user": {"token": "secret-work-token"}}],
    "contexts": [{"name": "work", "context": {"cluster": "work", "user": "work"}}],
    "current-context": "work",
}


def test_merge_into_nothing_renames_and_rewrites_server() -> None:
    out = kc.merge(None, K3S_YAML, "homelab", server="https://10.213.1.2:6443")
    assert [c["name"] for c in out["clusters"]] == ["homelab"]
    assert out["clusters"][0]["cluster"]["server"] == "https://10.213.1.2:6443"
    assert out["contexts"][0]["context"] == {"cluster": "homelab", "user": "homelab"}
    assert out["current-context"] == "homelab"
    # the input is not mutated
    assert K3S_YAML["clusters"][0]["name"] == "default"


def test_merge_keeps_other_contexts() -> None:
    out = kc.merge(OTHER, K3S_YAML, "homelab", server="https://h:6443", set_current=False)
    assert [c["name"] for c in out["contexts"]] == ["work", "homelab"]
    assert out["users"][0] == OTHER["users"][0]
    assert out["current-context"] == "work"


def test_merge_replaces_same_name_in_place() -> None:
    first = kc.merge(OTHER, K3S_YAML, "homelab", server="https://old:6443")
    first["contexts"].append({"name": "later", "context": {"cluster": "work", "user": "work"}})
    second = kc.merge(first, K3S_YAML, "homelab", server="https://new:6443")
    assert [c["name"] for c in second["clusters"]] == ["work", "homelab"]
    assert [c["name"] for c in second["contexts"]] == ["work", "homelab", "later"]
    assert second["clusters"][1]["cluster"]["server"] == "https://new:6443"


def test_merge_is_idempotent() -> None:
    once = kc.merge(OTHER, K3S_YAML, "homelab", server="https://h:6443")
    assert kc.merge(once, K3S_YAML, "homelab", server="https://h:6443") == once


@pytest.mark.parametrize(
    "bad",
    [
        "not a mapping",
        {**K3S_YAML, "clusters": []},
        {**K3S_YAML, "users": [{"name": "a"}, {"name": "b"}]},
        {**K3S_YAML, "clusters": [{"name": "default"}]},
    ],
)
def test_bad_k3s_kubeconfig(bad: Any) -> None:
    with pytest.raises(kc.KubeconfigError):
        kc.merge(None, bad, "homelab")


def test_remove_only_named_entries() -> None:
    merged = kc.merge(OTHER, K3S_YAML, "homelab")
    out = kc.remove(merged, "homelab")
    assert [c["name"] for c in out["contexts"]] == ["work"]
    assert out["current-context"] == ""
    assert kc.remove(OTHER, "absent") == OTHER


def test_redact_hides_secrets() -> None:
    red = kc.redact(kc.merge(OTHER, K3S_YAML, "homelab"))
    text = json.dumps(red)
    for secret in ("S0VZ", "Q0VSVA==", "secret-work-token", "Q0E="):
        assert secret not in text
    assert "<redacted sha256:" in text


def _run(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        mod.main()
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_module_writes_0600_and_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "kube" / "config"
    args = {
        "dest": str(dest),
        "content": yaml.safe_dump(K3S_YAML),
        "name": "lab",
        "server": "https://10.213.0.2:6443",
    }
    res = _run(args, capsys)
    assert res["changed"] is True
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    written = yaml.safe_load(dest.read_text())
    assert written["clusters"][0]["cluster"]["server"] == "https://10.213.0.2:6443"
    assert "S0VZ" not in json.dumps(res["diff"])
    res = _run(args, capsys)
    assert res["changed"] is False


def test_module_merges_and_fixes_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "config"
    dest.write_text(yaml.safe_dump(OTHER))
    os.chmod(dest, 0o644)
    args = {
        "dest": str(dest),
        "content": yaml.safe_dump(K3S_YAML),
        "name": "lab",
        "set_current_context": False,
    }
    res = _run(args, capsys)
    assert res["changed"] is True
    assert res["contexts"] == ["work", "lab"]
    written = yaml.safe_load(dest.read_text())
    assert written["current-context"] == "work"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    os.chmod(dest, 0o644)
    res = _run(args, capsys)
    assert res["changed"] is True  # mode drift alone is a change
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_module_check_mode_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "config"
    args = {
        "dest": str(dest),
        "content": yaml.safe_dump(K3S_YAML),
        "name": "lab",
        "_ansible_check_mode": True,
    }
    res = _run(args, capsys)
    assert res["changed"] is True
    assert not dest.exists()


def test_module_absent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "config"
    dest.write_text(yaml.safe_dump(kc.merge(OTHER, K3S_YAML, "lab")))
    res = _run({"dest": str(dest), "name": "lab", "state": "absent"}, capsys)
    assert res["changed"] is True
    assert res["contexts"] == ["work"]
    res = _run({"dest": str(dest), "name": "lab", "state": "absent"}, capsys)
    assert res["changed"] is False


def test_module_bad_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "config"
    dest.write_text("clusters: {not: [a list}\n")
    res = _run({"dest": str(dest), "content": yaml.safe_dump(K3S_YAML), "name": "lab"}, capsys)
    assert res["failed"] is True
    assert str(dest) in res["msg"]
    assert dest.read_text() == "clusters: {not: [a list}\n"
