"""Nothing is lost in a cluster rebuild (issue 14, class 9): the disaster-recovery proof.

1. The whole catalog (every supplied value filled in) is sealed into a GitOps tree; a real
   control plane gets the vault's key (``shai-secrets restore``), the real sealed-secrets
   controller starts, the SealedSecrets *from the tree* are applied, and every Secret's data
   digest is recorded.
2. Key rotation offline: ``keygen --force`` (a new active key) + ``reencrypt``; the tree before
   the rotation is kept.
3. The control plane is destroyed, etcd data included. A fresh one (new PKI, empty etcd) gets
   the keys from the vault (``restore``), a fresh controller starts, the pre-rotation tree is
   applied: every Secret comes back byte-identical. Then the post-rotation tree: every
   SealedSecret is opened again (status Synced for its new generation) and every Secret is
   still byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from controller_run import controller
from typer.testing import CliRunner

from shai.secrets import lifecycle
from shai.secrets.catalog import load_catalog
from shai.secrets.cli import app

REPO = Path(__file__).resolve().parents[2]
CRD = REPO / "gitops" / "crds" / "bitnami.com_sealedsecrets.yaml"
CONTROLLER_NS = "kube-system"
pytestmark = pytest.mark.kube


def _start(name: str, workdir: Path) -> Any:
    from shai import tools
    from shai.kube.harness import required_binaries, start_control_plane

    try:
        required_binaries(controller_manager=False)
    except tools.ToolNotFoundError as exc:
        if os.environ.get("SHAI_REQUIRE_PEERS"):
            pytest.fail(f"SHAI_REQUIRE_PEERS is set but {exc}", pytrace=False)
        pytest.skip(str(exc))
    return start_control_plane(name, workdir, controller_manager=False)


def _cli(ws: Any, *args: str) -> Any:
    res = CliRunner().invoke(app, list(args), env=ws.env())
    assert res.exit_code == 0, res.output
    return res


def _fill_supplied(ws: Any) -> None:
    """Every supplied value present, so the whole catalog is sealed."""
    vault = lifecycle.open_vault(ws.vault, ws.password_file, must_exist=True)
    for entry in load_catalog(ws.catalog).entries.values():
        for key, spec in entry.keys.items():
            if spec.generator == "supplied" and spec.vault_var:
                vault.data[spec.vault_var] = f"test-{entry.id}-{key}-" + "x7Kq" * 4  # shai-scan: allow
    vault.save()


def _prepare(cp: Any) -> None:
    """Fresh cluster: the CRD, the namespaces of the catalog."""
    cp.apply(CRD)
    cp.kubectl("wait", "--for=condition=Established", "crd/sealedsecrets.bitnami.com", "--timeout=60s")
    for ns in sorted({e.namespace for e in load_catalog(REPO / "secrets" / "catalog.yml").entries.values()}):
        cp.create_namespace(ns)


def _restore(ws: Any, cp: Any) -> None:
    _cli(ws, "restore", "--kubeconfig", str(cp.kubeconfig), "--controller-namespace", CONTROLLER_NS)


def _expected(tree: Path) -> set[str]:
    """namespace/name of every SealedSecret in the tree."""
    metas = [yaml.safe_load(p.read_text())["metadata"] for p in lifecycle.sealed_files(tree)]
    return {f"{m['namespace']}/{m['name']}" for m in metas}


def _wait_opened(cp: Any, tree: Path, log: Path, timeout: float = 90.0) -> dict[str, str]:
    """Wait until the controller reports every SealedSecret of ``tree`` Synced for its current
    generation; returns namespace/name -> digest of the Secret's type + data."""
    want = _expected(tree)
    deadline = time.monotonic() + timeout
    pending = set(want)
    while pending and time.monotonic() < deadline:
        items = json.loads(cp.kubectl("get", "sealedsecrets", "-A", "-o", "json").stdout)["items"]
        for item in items:
            key = f"{item['metadata']['namespace']}/{item['metadata']['name']}"
            status = item.get("status") or {}
            synced = any(
                c.get("type") == "Synced" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            if (
                key in pending
                and synced
                and status.get("observedGeneration") == item["metadata"]["generation"]
            ):
                pending.discard(key)
        if pending:
            time.sleep(0.3)
    assert not pending, f"not opened: {sorted(pending)}\n" + log.read_text(errors="replace")[-3000:]
    digests: dict[str, str] = {}
    secrets = json.loads(cp.kubectl("get", "secrets", "-A", "-o", "json").stdout)["items"]
    for s in secrets:
        key = f"{s['metadata']['namespace']}/{s['metadata']['name']}"
        if key in want:
            blob = json.dumps({"type": s.get("type"), "data": s.get("data") or {}}, sort_keys=True)
            digests[key] = hashlib.sha256(blob.encode()).hexdigest()
    assert set(digests) == set(want)
    return digests


def test_rebuild_restores_every_secret(workspace: Any, peer: Any, tmp_path: Path) -> None:
    binary = peer("controller")
    ws = workspace
    _cli(ws, "keygen", "--bits", "2048")
    _cli(ws, "generate")
    _fill_supplied(ws)
    _cli(ws, "seal")
    catalog = load_catalog(ws.catalog)
    assert len(lifecycle.sealed_files(ws.gitops)) == len(catalog.entries)  # the whole catalog
    before_rotation = tmp_path / "tree-before-rotation"
    shutil.copytree(ws.gitops, before_rotation)

    # 1. the cluster as it runs: key from the vault, real controller, SealedSecrets from the tree
    cp1_dir = tmp_path / "cp1"
    cp1 = _start("rebuild-1", cp1_dir)
    try:
        _prepare(cp1)
        _restore(ws, cp1)
        with controller(cp1, binary, CONTROLLER_NS, tmp_path / "controller-1.log") as ctl:
            vault = lifecycle.open_vault(ws.vault, ws.password_file, must_exist=True)
            assert sealing.cert_fingerprint(
                sealing.load_certificate(ctl.cert_pem)
            ) == sealing.cert_fingerprint(
                sealing.load_certificate(lifecycle.active_certificate(vault))
            )  # it adopted the vault's key, it did not make its own
            cp1.apply(ws.gitops / "secrets")
            recorded = _wait_opened(cp1, ws.gitops, ctl.log)
        # the Secrets hold the vault's values
        got = json.loads(
            cp1.kubectl("get", "secret", "redis-credentials", "-n", "ai-services", "-o", "json").stdout
        )
        assert (
            base64.b64decode(got["data"]["redis-password"]).decode()
            == vault.secrets()["redis"]["redis-password"]
        )
    finally:
        cp1.stop()
    # 2. destroyed, etcd data included
    shutil.rmtree(cp1_dir, ignore_errors=True)
    assert not (cp1_dir / "etcd").exists()

    # key rotation offline: a new active key, every SealedSecret re-sealed against it
    _cli(ws, "keygen", "--force", "--bits", "2048")
    res = _cli(ws, "reencrypt")
    assert f"{len(catalog.entries)} file(s) re-sealed" in res.output
    after_rotation = ws.gitops

    # 3. a fresh control plane: keys from the vault, fresh controller, the trees from git
    cp2 = _start("rebuild-2", tmp_path / "cp2")
    try:
        _prepare(cp2)
        assert json.loads(cp2.kubectl("get", "secrets", "-A", "-o", "json").stdout)["items"] == []
        _restore(ws, cp2)
        with controller(cp2, binary, CONTROLLER_NS, tmp_path / "controller-2.log") as ctl:
            cp2.apply(before_rotation / "secrets")
            assert _wait_opened(cp2, before_rotation, ctl.log) == recorded  # old key: byte-identical
            cp2.apply(after_rotation / "secrets")
            assert _wait_opened(cp2, after_rotation, ctl.log) == recorded  # new key: byte-identical
    finally:
        cp2.stop()
