"""The gitlab-mirror-sync CronJob as the homelab tree renders it: the program in its ConfigMap is
the file in the repository byte for byte, its config is one the program accepts, the pod is
locked down, and the network allows exactly DNS, GitLab's webservice and 443 out.
(That a Job created from the CronJob gets its Pod admitted is proven by tests/kube/test_apply_tree.py,
which creates a Job from every CronJob of the tree on a real control plane.)"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from shai.gitops import core

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "gitops/templates/platform/gitlab-mirror-sync/gitlab_mirror_sync.py"


@pytest.fixture(scope="module")
def docs() -> dict[tuple[str, str], dict[str, Any]]:
    layout = core.Layout.default(ROOT)
    values = core.load_values(layout, core.inventory_vars(ROOT / "inventories" / "homelab"))
    files = core.render(layout, values)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in (
        "platform/gitlab-mirror-sync/gitlab-mirror-sync.yaml",
        "platform/network-policies/gitlab.yaml",
    ):
        for doc in yaml.safe_load_all(files[path]):
            if doc:
                out[(doc["kind"], doc["metadata"]["name"])] = doc
    app = yaml.safe_load(files["apps/gitlab-mirror-sync.yaml"])
    out[("Application", "gitlab-mirror-sync")] = app
    return out


def _program() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gitlab_mirror_sync", PROGRAM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_configmap_carries_the_program_and_a_valid_config(
    docs: dict[tuple[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    data = docs[("ConfigMap", "gitlab-mirror-sync")]["data"]
    assert data["gitlab_mirror_sync.py"] == PROGRAM.read_text()
    (tmp_path / "config.json").write_text(data["config.json"])
    cfg = _program().load_config(tmp_path / "config.json")
    assert [(s.github, s.kind, s.gitlab_group) for s in cfg.sources] == [
        ("tzervas", "user", "github-tzervas"),
        ("vector-weight-technologies", "org", "github-vector-weight-technologies"),
    ]
    assert cfg.gitlab_url.endswith(".gitlab.svc.cluster.local:8181")


def test_cronjob_shape(docs: dict[tuple[str, str], dict[str, Any]]) -> None:
    cron = docs[("CronJob", "gitlab-mirror-sync")]
    assert cron["metadata"]["namespace"] == "gitlab"
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and spec["suspend"] is False
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int) and pod["securityContext"]["runAsUser"] > 0
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert ":" in container["image"] and not container["image"].endswith(":latest")
    assert set(container["resources"]) == {"requests", "limits"}
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs["GITLAB_TOKEN"] == {"name": "gitlab-mirror-tokens", "key": "GITLAB_TOKEN", "optional": True}
    assert refs["GITHUB_TOKEN"]["optional"] is True
    app = docs[("Application", "gitlab-mirror-sync")]
    gitlab_app_wave = app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    assert gitlab_app_wave == "4"  # GitLab's wave


def test_network_exactly_dns_gitlab_and_https(docs: dict[tuple[str, str], dict[str, Any]]) -> None:
    own = docs[("NetworkPolicy", "gitlab-mirror-sync")]["spec"]
    assert own["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "gitlab-mirror-sync"}}
    assert [p["ports"] for p in own["egress"]] == [
        [{"protocol": "TCP", "port": 8181}],
        [{"protocol": "TCP", "port": 443}],
    ]
    excepted = [ipaddress.ip_network(c) for c in own["egress"][1]["to"][0]["ipBlock"]["except"]]
    assert not any(n.is_global for n in excepted) and len(excepted) >= 5  # every private range stays out
    # Every namespace-wide allow but DNS leaves the mirror pod out.
    for (kind, name), doc in docs.items():
        if kind != "NetworkPolicy" or name in ("gitlab-mirror-sync", "default-deny", "allow-dns"):
            continue
        sel = doc["spec"]["podSelector"]
        assert sel.get("matchExpressions") == [
            {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["gitlab-mirror-sync"]}
        ], f"NetworkPolicy {name} selects the mirror pod"


def test_no_sources_renders_a_suspended_cronjob() -> None:
    layout = core.Layout.default(ROOT)
    inv = core.inventory_vars(ROOT / "inventories" / "homelab")
    inv["gitops_gitlab_mirror"] = {"sources": []}
    files = core.render(layout, core.load_values(layout, inv))
    docs = [d for d in yaml.safe_load_all(files["platform/gitlab-mirror-sync/gitlab-mirror-sync.yaml"]) if d]
    cron = next(d for d in docs if d["kind"] == "CronJob")
    assert cron["spec"]["suspend"] is True
    config = json.loads(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.json"])
    assert config["sources"] == []
