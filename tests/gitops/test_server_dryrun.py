"""Server-side dry-run of the whole tree against a REAL kube-apiserver (tests/conftest.py's
kube_apiserver) with the CRDs of gitops/crds installed; skipped when the harness binaries are
not built (make tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shai.gitops import core

pytestmark = pytest.mark.kube


def test_whole_tree_passes_server_side_dry_run(kube_apiserver: Any, tree: Path, layout: core.Layout) -> None:
    findings = core.server_validate(tree, Path(kube_apiserver.kubeconfig), layout.crds, prepare=True)
    assert [str(f) for f in findings] == []


def test_three_gpu_hosts_tree_passes_server_side_dry_run(
    kube_apiserver: Any,
    tmp_path: Path,
    layout: core.Layout,
    gpu_trees: dict[int, tuple[dict, dict[str, bytes]]],
) -> None:
    """The per-host Services, EndpointSlices and egress rules of 3 GPU workstations (ADR 0310)
    are accepted by the real API server."""
    from gitops_sealed import add_sealed_secrets

    out = tmp_path / "tree3"
    core.write(gpu_trees[3][1], out)
    add_sealed_secrets(out)
    findings = core.server_validate(out, Path(kube_apiserver.kubeconfig), layout.crds, prepare=True)
    assert [str(f) for f in findings] == []


def test_broken_manifest_rejected_with_the_api_servers_message(
    kube_apiserver: Any, tree: Path, layout: core.Layout
) -> None:
    path = tree / "platform" / "litellm" / "litellm.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for d in docs:
        if d["kind"] == "Deployment":
            d["spec"]["template"]["spec"]["containers"][0]["name"] = "Not_A_DNS_Label"
    path.write_text("".join("---\n" + yaml.safe_dump(d) for d in docs))
    findings = core.server_validate(tree, Path(kube_apiserver.kubeconfig), layout.crds, prepare=True)
    assert findings, "the API server accepted an invalid container name"
    assert all(f.file == "platform/litellm/litellm.yaml" for f in findings)
    assert any("Invalid value" in f.message and "Not_A_DNS_Label" in f.message for f in findings)
