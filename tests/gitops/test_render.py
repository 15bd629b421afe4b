"""Render: golden files, determinism, and the architecture document's numbers in the output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from gitops_helpers import GOLDEN, INVENTORY, REPO

from shai.gitops import core

# The v0.3.0 sync waves of /work/shared/spec/platform-architecture.md.
ARCH_WAVES = {
    "sealed-secrets": -2,
    "linkerd-crds": -1,
    "cert-manager": -1,
    "longhorn": -1,
    "vpa": -1,
    "traefik": 0,
    "coredns-custom": 0,
    "resource-quotas": 0,
    "linkerd-control-plane": 1,
    "linkerd-viz": 1,
    "kyverno": 1,
    "prometheus": 2,
    "alertmanager": 2,
    "gitlab": 4,
    "ollama": 5,
    "ollama-gpu": 5,
    "litellm": 5,
    "open-webui": 6,
    "n8n": 6,
    "searxng": 6,
    "mcp-servers": 6,
    "arc-controller": 7,
    "arc-runners-amd64": 7,
    "arc-runners-gpu": 7,
    "arc-runners-arm64": 7,
    "arc-runners-org": 7,
    "gitlab-runners": 7,
}


_PARSED: dict[int, list[tuple[str, dict]]] = {}


def _docs(files: dict[str, bytes], prefix: str = "") -> list[tuple[str, dict]]:
    if id(files) not in _PARSED:
        parsed = []
        for path, data in sorted(files.items()):
            if path.endswith(".yaml"):
                parsed.extend((path, d) for d in yaml.load_all(data, Loader=yaml.CSafeLoader) if d)
        _PARSED[id(files)] = parsed
    return [(p, d) for p, d in _PARSED[id(files)] if p.startswith(prefix)]


def _find(files: dict[str, bytes], kind: str, name: str, namespace: str | None = None) -> dict:
    for _path, doc in _docs(files):
        meta = doc.get("metadata", {})
        if (
            doc.get("kind") == kind
            and meta.get("name") == name
            and (namespace is None or meta.get("namespace") == namespace)
        ):
            return doc
    raise AssertionError(f"{kind} {namespace}/{name} not rendered")


def test_golden(rendered: dict[str, bytes]) -> None:
    """The rendered test tree equals tests/gitops/golden byte for byte (SHAI_UPDATE_GOLDEN=1 rewrites it)."""
    if os.environ.get("SHAI_UPDATE_GOLDEN") == "1":
        core.write(rendered, GOLDEN)
    golden = core.read(GOLDEN)
    assert sorted(golden) == sorted(rendered), "file set differs: SHAI_UPDATE_GOLDEN=1 pytest tests/gitops"
    for path in rendered:
        assert golden[path] == rendered[path], f"{path} differs from the golden file"


def test_render_is_deterministic(layout: core.Layout) -> None:
    inv = core.inventory_vars(INVENTORY)
    first = core.render(layout, core.load_values(layout, inv))
    reordered = dict(reversed(list(inv.items())))
    second = core.render(layout, core.load_values(layout, reordered))
    assert first == second


def test_write_is_idempotent(tmp_path: Path, rendered: dict[str, bytes]) -> None:
    assert core.write(rendered, tmp_path / "t")
    assert core.write(rendered, tmp_path / "t") == []


def test_test_tree_validates(tree: Path, layout: core.Layout) -> None:
    count, findings = core.validate(tree, layout.crds, "1.33")
    assert findings == []
    assert count > 100


def test_homelab_inventory_renders_and_validates(tmp_path: Path, layout: core.Layout) -> None:
    """Offline rendering of the real inventory (no packet leaves the machine)."""
    values = core.load_values(layout, core.inventory_vars(REPO / "inventories" / "homelab"))
    core.write(core.render(layout, values), tmp_path / "homelab")
    _count, findings = core.validate(
        tmp_path / "homelab", layout.crds, str(values["gitops_kubernetes_version"])
    )
    assert [str(f) for f in findings] == []


def test_templates_hold_no_lan_addresses() -> None:
    """Everything host-specific comes from the inventory: no 192.168.x literal in templates/defaults."""
    lan = re.compile(r"192\.168\.\d+\.\d+(?!/16)")  # the RFC 1918 range itself is not a host
    for path in [*sorted((REPO / "gitops" / "templates").rglob("*")), REPO / "gitops" / "values.yml"]:
        if path.is_file():
            assert not lan.search(path.read_text()), f"{path} hard-codes a LAN address"


def test_waves_match_the_architecture(rendered: dict[str, bytes]) -> None:
    apps = {d["metadata"]["name"]: d for _p, d in _docs(rendered, "apps/")}
    for name, wave in ARCH_WAVES.items():
        assert apps[name]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == str(wave), name
    assert "gpu-operator" not in apps  # ADR-010: the GPU is not a node
    for name, app in apps.items():
        sync = app["spec"]["syncPolicy"]
        assert "CreateNamespace=false" in sync["syncOptions"], name
        assert sync["retry"]["limit"] > 0, name
        source = app["spec"]["source"]
        if "chart" in source:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", source["targetRevision"]), name


def test_root_application_never_prunes(rendered: dict[str, bytes]) -> None:
    root = _find(rendered, "Application", "root")
    assert root["spec"]["syncPolicy"]["automated"]["prune"] is False
    assert root["spec"]["source"]["path"] == "apps"
    assert root["spec"]["source"]["repoURL"] == "git://10.213.250.10/platform.git"


def test_quotas_and_limits_follow_the_tables(rendered: dict[str, bytes]) -> None:
    table = {
        "ai-services": ("8", "24", "48Gi", "64Gi"),
        "gpu-workloads": ("2", "16", "16Gi", "32Gi"),
        "arc-runners": ("8", "20", "16Gi", "40Gi"),
        "gitlab-runners": ("8", "16", "16Gi", "32Gi"),
        "monitoring": ("4", "8", "8Gi", "16Gi"),
        "linkerd": ("2", "4", "2Gi", "4Gi"),
    }
    for ns, (rc, lc, rm, lm) in table.items():
        hard = _find(rendered, "ResourceQuota", f"{ns}-quota", ns)["spec"]["hard"]
        assert hard == {"requests.cpu": rc, "limits.cpu": lc, "requests.memory": rm, "limits.memory": lm}
        limits = _find(rendered, "LimitRange", f"{ns}-limits", ns)["spec"]["limits"][0]
        assert limits["defaultRequest"] == {"cpu": "100m", "memory": "256Mi"}
        assert limits["default"] == {"cpu": "1", "memory": "2Gi"}
        assert limits["min"] == {"cpu": "10m", "memory": "32Mi"}
        assert limits["max"] == {"cpu": "16", "memory": "32Gi"}


def test_hpa_and_vpa(rendered: dict[str, bytes]) -> None:
    expect = {
        "litellm": (1, 3, "cpu", 70),
        "open-webui": (1, 3, "memory", 70),
        "agent-server": (1, 5, "cpu", 70),
    }
    for name, (lo, hi, metric, pct) in expect.items():
        spec = _find(rendered, "HorizontalPodAutoscaler", name, "ai-services")["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (lo, hi)
        targets = {
            m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]
        }
        assert targets[metric] == pct
        assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
        assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 15
    vpas = [d for _p, d in _docs(rendered) if d["kind"] == "VerticalPodAutoscaler"]
    assert vpas and all(v["spec"]["updatePolicy"]["updateMode"] == "Off" for v in vpas)


def test_litellm_gpu_primary_cpu_fallback_as_separate_groups(rendered: dict[str, bytes]) -> None:
    cm = _find(rendered, "ConfigMap", "litellm-config", "ai-services")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    groups: dict[str, list[str]] = {}
    for m in config["model_list"]:
        groups.setdefault(m["model_name"], []).append(m["litellm_params"]["api_base"])
    # Each group holds exactly one backend: GPU and CPU never share a group (LiteLLM #27362).
    assert groups["chat"] == ["http://10.213.250.20:11434"]
    assert groups["chat-cpu"] == ["http://ollama.ai-services.svc.cluster.local:11434"]
    assert {"chat": ["chat-cpu"]} in config["router_settings"]["fallbacks"]
    assert {"embeddings": ["embeddings-cpu"]} in config["router_settings"]["fallbacks"]
    webui = _find(rendered, "Deployment", "open-webui", "ai-services")
    env = {e["name"]: e.get("value") for e in webui["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OPENAI_API_BASE_URL"] == "http://litellm.ai-services.svc.cluster.local:4000/v1"
    assert env["RAG_OPENAI_API_BASE_URL"] == env["OPENAI_API_BASE_URL"]
    assert env["RAG_EMBEDDING_ENGINE"] == "openai" and env["ENABLE_OLLAMA_API"] == "false"


def test_network_policies_lan_egress_only_to_gpu_host(rendered: dict[str, bytes]) -> None:
    for ns in ("ai-services", "gpu-workloads"):
        deny = _find(rendered, "NetworkPolicy", "default-deny", ns)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        gpu = _find(rendered, "NetworkPolicy", "allow-gpu-workstation", ns)["spec"]["egress"][0]
        assert gpu["to"] == [{"ipBlock": {"cidr": "10.213.250.20/32"}}]
        assert sorted(p["port"] for p in gpu["ports"]) == [8188, 11434]
    for _p, doc in _docs(rendered):
        if doc["kind"] != "NetworkPolicy":
            continue
        for rule in doc["spec"].get("egress", []):
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block and block["cidr"] not in ("10.213.250.20/32",):
                    assert block["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in block["except"], doc["metadata"]


def test_every_ui_has_tls_and_admin_endpoints_basic_auth(rendered: dict[str, bytes]) -> None:
    routes = [d for _p, d in _docs(rendered) if d["kind"] == "IngressRoute"]
    assert len(routes) >= 10
    for route in routes:
        assert route["spec"]["tls"]["secretName"], route["metadata"]
        assert route["spec"]["entryPoints"] == ["websecure"]
    admin = {r["metadata"]["name"] for r in routes if r["spec"]["routes"][0].get("middlewares")}
    assert {"dashboard", "longhorn", "prometheus", "alertmanager", "linkerd"} <= admin
    issuer = _find(rendered, "ClusterIssuer", "shai-ca")
    assert issuer["spec"] == {"ca": {"secretName": "shai-root-ca"}}


def _sealed(name: str, namespace: str, *keys: str) -> str:
    data = ", ".join(f"{k}: AgBy3i4OJSWK+PiTySYZZA==" for k in keys)
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  encryptedData: {{{data}}}\n  template:\n"
        f"    metadata: {{name: {name}, namespace: {namespace}}}\n"
    )


SEALED = [
    ("ai-services", "litellm-secrets", ("master-key",)),
    ("ai-services", "open-webui-secrets", ("WEBUI_SECRET_KEY",)),
    ("ai-services", "searxng-secrets", ("SEARXNG_SECRET",)),
    ("automation", "n8n-secrets", ("N8N_ENCRYPTION_KEY",)),
]


def _with_secrets(tmp_path: Path, layout: core.Layout, values: dict, sealed: list) -> tuple[dict, Path]:
    root = tmp_path / "secrets"
    for ns, name, keys in sealed:
        (root / ns).mkdir(parents=True, exist_ok=True)
        (root / ns / f"{name}.sealedsecret.yaml").write_text(_sealed(name, ns, *keys))
    files = core.render(core.Layout(layout.templates, layout.values, root, layout.crds), values)
    core.write(files, tmp_path / "out")
    return files, tmp_path / "out"


def test_sealed_secrets_are_carried_into_the_tree(tmp_path: Path, layout: core.Layout, values: dict) -> None:
    files, out = _with_secrets(tmp_path, layout, values, SEALED)
    assert "secrets/ai-services/litellm-secrets.sealedsecret.yaml" in files
    _count, findings = core.validate(out, layout.crds, "1.33")
    assert [str(f) for f in findings] == []


def test_secret_in_the_wrong_namespace_or_without_the_key(
    tmp_path: Path, layout: core.Layout, values: dict
) -> None:
    sealed = [
        ("self-hosted-ai", "litellm-secrets", ("master-key",)),
        ("ai-services", "open-webui-secrets", ("secret-key",)),
        *SEALED[2:],
    ]
    _files, out = _with_secrets(tmp_path, layout, values, sealed)
    findings = [str(f) for f in core.validate(out, layout.crds, "1.33")[1]]
    assert (
        "platform/litellm/litellm.yaml: Deployment ai-services/litellm: "
        "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: "
        "reads Secret ai-services/litellm-secrets, "
        "which is not a SealedSecret of the tree (sealed in namespace self-hosted-ai) [secret-refs]"
    ) in findings
    assert (
        "platform/open-webui/open-webui.yaml: Deployment ai-services/open-webui: "
        "spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef: "
        "Secret ai-services/open-webui-secrets "
        "has no key 'WEBUI_SECRET_KEY' (keys: secret-key) [secret-refs]"
    ) in findings


def test_plain_secret_in_secrets_dir_refuses_to_render(
    tmp_path: Path, layout: core.Layout, values: dict
) -> None:
    bad = tmp_path / "secrets" / "ai-services"
    bad.mkdir(parents=True)
    (bad / "oops.sealedsecret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: oops, namespace: ai-services}\ndata: {k: dg==}\n"
    )
    with pytest.raises(core.GitopsError, match=r"oops.sealedsecret.yaml: only SealedSecret.*'Secret'"):
        core.render(core.Layout(layout.templates, layout.values, tmp_path / "secrets", layout.crds), values)


def test_missing_variable_names_the_template(layout: core.Layout, values: dict) -> None:
    broken = dict(values)
    del broken["shai_gpu_host"]
    with pytest.raises(core.GitopsError, match=r"templates/.*\.j2.*'shai_gpu_host' is undefined"):
        core.render(layout, broken)


def test_disabled_component_drops_app_and_manifests(layout: core.Layout, values: dict) -> None:
    off = core.load_values(layout, {**values, "gitops_components": {"searxng": {"enabled": False}}})
    files = core.render(layout, off)
    assert "apps/searxng.yaml" not in files
    assert not any(p.startswith("platform/searxng/") for p in files)


def test_bootstrap_helmcharts_match_their_applications(rendered: dict[str, bytes]) -> None:
    """The hand-over only works if the Application renders exactly what the HelmChart installed."""
    for name, namespace in (("sealed-secrets", "kube-system"), ("argocd", "argocd")):
        chart = _find(rendered, "HelmChart", name, "kube-system")["spec"]
        app = _find(rendered, "Application", name, "argocd")
        source = app["spec"]["source"]
        assert (chart["repo"], chart["chart"], chart["version"]) == (
            source["repoURL"],
            source["chart"],
            source["targetRevision"],
        )
        assert source["helm"]["releaseName"] == name  # k3s names the release after the HelmChart
        assert chart["targetNamespace"] == app["spec"]["destination"]["namespace"] == namespace
        assert yaml.safe_load(chart["valuesContent"]) == source["helm"]["valuesObject"]
        assert chart["createNamespace"] is False
