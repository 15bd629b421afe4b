"""Render: golden files, determinism, and the architecture document's numbers in the output."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from gitops_helpers import GOLDEN, GPU_GOLDENS, GPU_INVENTORIES, INVENTORY, REPO
from gitops_sealed import add_sealed_secrets, sealed_docs

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
    # The scale sets use the controller's CRDs: one wave later than the architecture's 7 (the
    # waves check; ADR 0305).
    "arc-runners-amd64": 8,
    "arc-runners-gpu": 8,
    "arc-runners-arm64": 8,
    "arc-runners-org": 8,
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


@pytest.mark.parametrize("gpus", sorted(GPU_INVENTORIES))
def test_golden(gpus: int, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]]) -> None:
    """The rendered test tree with 1, 2 and 3 GPU workstations equals its golden tree byte for
    byte (SHAI_UPDATE_GOLDEN=1 rewrites them): golden/ for one; for more, golden/ overlaid with
    gpu<N>/golden/, which holds exactly the files that differ (every one of them does)."""
    rendered = gpu_trees[gpus][1]
    update = os.environ.get("SHAI_UPDATE_GOLDEN") == "1"
    if gpus == 1:
        if update:
            core.write(rendered, GOLDEN)
        expected = core.read(GOLDEN)
    else:
        base = core.read(GOLDEN)
        if update:
            core.write({p: d for p, d in rendered.items() if base.get(p) != d}, GPU_GOLDENS[gpus])
        overlay = core.read(GPU_GOLDENS[gpus])
        stale = sorted(p for p, d in overlay.items() if base.get(p) == d)
        assert not stale, f"gpu{gpus}/golden repeats golden/ files: SHAI_UPDATE_GOLDEN=1 pytest tests/gitops"
        expected = {**base, **overlay}
    assert sorted(expected) == sorted(rendered), "file set differs: SHAI_UPDATE_GOLDEN=1 pytest tests/gitops"
    for path in rendered:
        assert expected[path] == rendered[path], f"{path} differs from the golden file ({gpus} GPU hosts)"


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
    assert [str(f) for f in findings if f.severity == "error"] == []
    assert count > 100


def test_homelab_inventory_renders_and_validates(tmp_path: Path, layout: core.Layout) -> None:
    """Offline rendering of the real inventory (no packet leaves the machine)."""
    values = core.load_values(layout, core.inventory_vars(REPO / "inventories" / "homelab"))
    core.write(core.render(layout, values), tmp_path / "homelab")
    add_sealed_secrets(tmp_path / "homelab")  # the catalog's SealedSecrets, as a sealed tree has them
    _count, findings = core.validate(
        tmp_path / "homelab", layout.crds, str(values["gitops_kubernetes_version"] or core.kube_pin())
    )
    assert [str(f) for f in findings if f.severity == "error"] == []


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


# The GPU workstations of the test inventories (hosts*.yml): inventory name -> (Service slug, address).
GPU_HOSTS = {
    "gpu": ("gpu", "10.213.250.20"),
    "gpu-b": ("gpu-b", "10.213.250.21"),
    "GPU_C.lab": ("gpu-c-lab", "10.213.250.22"),
}


def _gpu_hosts(gpus: int) -> list[tuple[str, str]]:
    return list(GPU_HOSTS.values())[:gpus]


@pytest.mark.parametrize("gpus", sorted(GPU_INVENTORIES))
def test_litellm_gpu_primary_cpu_fallback_as_separate_groups(
    gpus: int, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]]
) -> None:
    rendered = gpu_trees[gpus][1]
    cm = _find(rendered, "ConfigMap", "litellm-config", "ai-services")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    groups: dict[str, list[str]] = {}
    for m in config["model_list"]:
        groups.setdefault(m["model_name"], []).append(m["litellm_params"]["api_base"])
    # GPU and CPU never share a group (LiteLLM #27362). Generated from the models manifest
    # (tests/gitops/inventory/models.yml, ADR 0306): one deployment per GPU workstation and model,
    # each through its host's own in-cluster Service (ADR 0310); the CPU Ollama through its own.
    per_host = [
        f"http://ollama-gpu-{slug}.gpu-workloads.svc.cluster.local:11434" for slug, _a in _gpu_hosts(gpus)
    ]
    for group in ("chat", "code", "embeddings"):
        assert groups[group] == per_host, group
        assert groups[f"{group}-cpu"] == ["http://ollama.ai-services.svc.cluster.local:11434"], group
    models: dict[str, set[str]] = {}
    for m in config["model_list"]:
        models.setdefault(m["model_name"], set()).add(m["litellm_params"]["model"])
    assert models["chat"] == {"ollama_chat/llama3.1:8b"} and models["chat-cpu"] == {"ollama_chat/llama3.2:3b"}
    assert {"chat": ["chat-cpu"]} in config["router_settings"]["fallbacks"]
    assert {"embeddings": ["embeddings-cpu"]} in config["router_settings"]["fallbacks"]
    webui = _find(rendered, "Deployment", "open-webui", "ai-services")
    env = {e["name"]: e.get("value") for e in webui["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OPENAI_API_BASE_URL"] == "http://litellm.ai-services.svc.cluster.local:4000/v1"
    assert env["RAG_OPENAI_API_BASE_URL"] == env["OPENAI_API_BASE_URL"]
    assert env["RAG_EMBEDDING_ENGINE"] == "openai" and env["ENABLE_OLLAMA_API"] == "false"


@pytest.mark.parametrize("gpus", sorted(GPU_INVENTORIES))
def test_every_gpu_host_has_its_own_services(
    gpus: int, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]]
) -> None:
    """Ollama and ComfyUI of each GPU workstation: a selector-less Service named after the host
    with an EndpointSlice holding exactly its address; nothing for hosts the inventory lacks."""
    rendered = gpu_trees[gpus][1]
    docs = [d for _p, d in _docs(rendered, "platform/ollama-gpu/")]
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    expected = {f"{base}-{slug}" for slug, _a in _gpu_hosts(gpus) for base in ("ollama-gpu", "comfyui")}
    assert services == expected
    for slug, address in _gpu_hosts(gpus):
        for base, port in (("ollama-gpu", 11434), ("comfyui", 8188)):
            svc = _find(rendered, "Service", f"{base}-{slug}", "gpu-workloads")
            assert "selector" not in svc["spec"] and svc["spec"]["ports"][0]["port"] == port
            eps = _find(rendered, "EndpointSlice", f"{base}-{slug}-gpu-host", "gpu-workloads")
            assert eps["metadata"]["labels"]["kubernetes.io/service-name"] == f"{base}-{slug}"
            assert eps["endpoints"] == [{"addresses": [address], "conditions": {"ready": True}}]
        ann = _find(rendered, "Service", f"ollama-gpu-{slug}", "gpu-workloads")["metadata"]["annotations"]
        assert (
            ann["shai.vectorweight.com/ollama-models"]
            == "llama3.1:8b,qwen2.5-coder:14b,nomic-embed-text:latest"
        )
    # No consumer is handed "the" GPU host: the gpu runners get every host, the rest use LiteLLM.
    runners = _find(rendered, "Application", "arc-runners-gpu", "argocd")["spec"]["source"]["helm"][
        "valuesObject"
    ]
    env = runners["template"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "OLLAMA_GPU_HOSTS", "value": ",".join(f"{a}:11434" for _s, a in _gpu_hosts(gpus))}
    ]
    assert b"OLLAMA_GPU_HOST\n" not in b"".join(rendered.values())


def _policies(files: dict[str, bytes]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for _p, doc in _docs(files, "platform/network-policies/"):
        out.setdefault(doc["metadata"]["namespace"], {})[doc["metadata"]["name"]] = doc["spec"]
    return out


def _egress_blocks(spec: dict) -> list[tuple[str, tuple[int, ...]]]:
    return [
        (peer["ipBlock"]["cidr"], tuple(sorted(p["port"] for p in rule.get("ports", []))))
        for rule in spec.get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    ]


def _is_every_private_range(excepted: list[str]) -> bool:
    """The `except` of a 0.0.0.0/0 egress: RFC 1918 (the third /16 is checked through ipaddress,
    tests never spell the homelab range), CGNAT and link-local; nothing global."""
    nets = [ipaddress.ip_network(c) for c in excepted]
    named = {"10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10", "169.254.0.0/16"}
    rest = [n for n in nets if str(n) not in named]
    return (
        len(nets) == 5
        and named <= {str(n) for n in nets}
        and len(rest) == 1
        and rest[0].prefixlen == 16
        and rest[0].is_private
        and not any(n.is_global for n in nets)
    )


@pytest.mark.parametrize("gpus", sorted(GPU_INVENTORIES))
def test_network_policies_lan_egress_only_to_gpu_host(
    gpus: int, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]]
) -> None:
    """ai-services / gpu-workloads / arc-runners reach the LAN ONLY at the GPU workstations, each
    host its own /32 on exactly 11434/8188; no namespace reaches a GPU host on another port;
    every other address is the inventory's."""
    rendered = gpu_trees[gpus][1]
    policies = _policies(rendered)
    gpu_blocks = {(f"{a}/32", (8188, 11434)) for _s, a in _gpu_hosts(gpus)}
    for ns in ("ai-services", "gpu-workloads", "arc-runners"):
        assert policies[ns]["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        rules = policies[ns]["allow-gpu-workstation"]["egress"]
        assert [r["to"] for r in rules] == [[{"ipBlock": {"cidr": f"{a}/32"}}] for _s, a in _gpu_hosts(gpus)]
        assert all(sorted(p["port"] for p in r["ports"]) == [8188, 11434] for r in rules)
        if ns != "arc-runners":
            blocks = {b for spec in policies[ns].values() for b in _egress_blocks(spec)}
            assert blocks <= gpu_blocks | {("0.0.0.0/0", (443,))}, blocks
    allowed = gpu_blocks | {
        ("10.213.250.10/32", (6443,)),  # API server (gitops_kube_api_cidrs, k3s_api_port)
        ("10.43.0.1/32", (443,)),  # the kubernetes Service
        ("10.213.250.10/32", (9100, 10250)),  # node-exporter, kubelet (monitoring)
        ("10.213.250.10/32", (22, 9418)),  # the bootstrap git server (argocd)
        ("10.213.250.10/32", (443,)),  # Traefik hostPort (gitops_ingress_address)
        ("10.213.250.40/32", (111, 2049)),  # Longhorn's NFS backup target (gitops_longhorn_backup.egress)
    }
    for ns, specs in policies.items():
        for name, spec in specs.items():
            for rule in spec.get("egress", []):
                for peer in rule.get("to", []):
                    block = peer.get("ipBlock")
                    if not block:
                        continue
                    key = (block["cidr"], tuple(sorted(p["port"] for p in rule.get("ports", []))))
                    if block["cidr"] == "0.0.0.0/0":
                        assert _is_every_private_range(block["except"]), (ns, name)
                        assert rule.get("ports"), (ns, name)
                    else:
                        assert key in allowed, (ns, name, key)


def test_every_declared_namespace_is_default_deny(rendered: dict[str, bytes], values: dict) -> None:
    policies = _policies(rendered)
    declared = set(values["gitops_namespaces"])  # type: ignore[arg-type]
    assert declared == set(policies)
    assert {"argocd", "cert-manager", "kyverno", "linkerd", "longhorn-system", "traefik"} <= declared
    for ns in declared:
        assert policies[ns]["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, ns
        dns = policies[ns]["allow-dns"]["egress"][0]
        assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}, ns
        assert ns == "monitoring" or "allow-from-monitoring" in policies[ns], ns  # Prometheus scraping
    controllers = {
        "argocd",
        "cert-manager",
        "kyverno",
        "longhorn-system",
        "linkerd",
        "linkerd-viz",
        "monitoring",
    }
    controllers |= {"traefik", "arc-systems", "arc-runners", "gitlab-runners", "gitlab"}
    assert {ns for ns in declared if "allow-kube-api" in policies[ns]} == controllers
    api = policies["argocd"]["allow-kube-api"]["egress"]
    assert api[0] == {
        "to": [{"ipBlock": {"cidr": "10.213.250.10/32"}}],
        "ports": [{"protocol": "TCP", "port": 6443}],
    }


def test_namespace_allows_are_rendered_on_both_sides(rendered: dict[str, bytes]) -> None:
    policies = _policies(rendered)
    # n8n -> LiteLLM: egress in automation, ingress (litellm pods, port 4000) in ai-services.
    out = policies["automation"]["allow-to-ai-services-litellm"]["egress"][0]
    assert out["to"][0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "litellm"}}
    assert out["ports"] == [{"protocol": "TCP", "port": 4000}]
    inbound = policies["ai-services"]["allow-from-automation-to-litellm"]
    assert inbound["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "litellm"}}
    # Traefik reaches every UI namespace; those accept it.
    for ns in (
        "argocd",
        "ai-services",
        "automation",
        "monitoring",
        "longhorn-system",
        "linkerd-viz",
        "gitlab",
    ):
        assert f"allow-to-{ns}" in policies["traefik"], ns
        assert "allow-from-traefik" in policies[ns], ns
    assert [p["port"] for p in policies["traefik"]["allow-from-world"]["ingress"][0]["ports"]] == [8000, 8443]
    # Meshed namespaces: to the Linkerd control plane ports, tap/metrics from linkerd-viz.
    for ns in ("ai-services", "gpu-workloads"):
        ports = [p["port"] for p in policies[ns]["allow-to-linkerd"]["egress"][0]["ports"]]
        assert ports == [8080, 8086, 8090]
        assert f"allow-from-{ns}" in policies["linkerd"]
        assert "allow-from-linkerd-viz" in policies[ns]
    # ArgoCD: the bootstrap git server (inventory address) and GitLab in-cluster.
    git = policies["argocd"]["allow-git-repository"]["egress"][0]
    assert git["to"] == [{"ipBlock": {"cidr": "10.213.250.10/32"}}]
    assert "allow-to-gitlab" in policies["argocd"] and "allow-from-argocd" in policies["gitlab"]
    # Webhook namespaces accept the API server (the nodes).
    for ns in ("cert-manager", "kyverno", "linkerd", "longhorn-system", "monitoring"):
        assert policies[ns]["allow-from-nodes"]["ingress"][0]["from"] == [
            {"ipBlock": {"cidr": "10.213.250.10/32"}}
        ]


def test_network_addresses_come_from_the_inventory(layout: core.Layout, values: dict) -> None:
    other = core.load_values(
        layout,
        {
            **values,
            "gitops_kube_api_cidrs": ["10.99.0.0/29"],
            "gitops_node_cidrs": ["10.99.1.0/24", "10.99.2.7"],
        },
    )
    policies = _policies(core.render(layout, other))
    assert policies["kyverno"]["allow-kube-api"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.99.0.0/29"}}]
    assert policies["kyverno"]["allow-from-nodes"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.99.1.0/24"}},
        {"ipBlock": {"cidr": "10.99.2.7/32"}},
    ]
    bad = core.load_values(layout, {**values, "gitops_node_cidrs": ["homelab.lan"]})
    with pytest.raises(
        core.GitopsError, match=r"network-policies.*'homelab.lan' is not an IP address or CIDR"
    ):
        core.render(layout, bad)


def test_linkerd_trust_roots_from_cert_manager(rendered: dict[str, bytes]) -> None:
    anchor = _find(rendered, "Certificate", "linkerd-trust-anchor", "linkerd")["spec"]
    assert anchor["isCA"] is True and anchor["secretName"] == "linkerd-trust-anchor"
    assert anchor["issuerRef"] == {"name": "linkerd-trust-root", "kind": "Issuer", "group": "cert-manager.io"}
    assert _find(rendered, "Issuer", "linkerd-trust-root", "linkerd")["spec"] == {"selfSigned": {}}
    assert _find(rendered, "Issuer", "linkerd-trust-anchor", "linkerd")["spec"] == {
        "ca": {"secretName": "linkerd-trust-anchor"}
    }
    issuer = _find(rendered, "Certificate", "linkerd-identity-issuer", "linkerd")["spec"]
    assert issuer["isCA"] is True and issuer["secretName"] == "linkerd-identity-issuer"
    assert issuer["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert issuer["issuerRef"]["name"] == "linkerd-trust-anchor"
    assert issuer["commonName"] == "identity.linkerd.cluster.local"
    values = _find(rendered, "Application", "linkerd-control-plane", "argocd")["spec"]["source"]["helm"]
    identity = values["valuesObject"]["identity"]
    assert identity == {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}}
    # The publisher mounts only the anchor's public certificate and writes the trust-roots ConfigMap.
    job = _find(rendered, "Job", "linkerd-trust-roots-publish", "linkerd")
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["anchor"]["secret"]["items"] == [{"key": "tls.crt", "path": "tls.crt"}]
    script = _find(rendered, "ConfigMap", "linkerd-trust-roots-publisher", "linkerd")["data"]["publish.sh"]
    assert "linkerd-identity-trust-roots" in script and "ca-bundle.crt" in script
    role = _find(rendered, "Role", "linkerd-trust-roots-publisher", "linkerd")
    assert not any("secrets" in r["resources"] for r in role["rules"])
    # Waves: cert-manager's CRDs (-1) < linkerd-trust (0) < linkerd-control-plane (1).
    waves = {
        d["metadata"]["name"]: int(d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for _p, d in _docs(rendered, "apps/")
    }
    assert waves["cert-manager"] < waves["linkerd-trust"] < waves["linkerd-control-plane"]
    assert not [d for _p, d in _docs(rendered, "platform/linkerd-trust/") if d["kind"] == "Secret"]


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
    # the catalog entry's annotations (consumers / operator-only), as `shai-secrets seal` writes them
    ann = next(
        (
            d["spec"]["template"]["metadata"].get("annotations")
            for d in sealed_docs()
            if d["metadata"]["name"] == name
        ),
        None,
    )
    extra = f", annotations: {json.dumps(ann)}" if ann else ""
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  encryptedData: {{{data}}}\n  template:\n"
        f"    metadata: {{name: {name}, namespace: {namespace}{extra}}}\n"
    )


# Every Secret of the catalog (namespace, name, sealed keys): a tree reads them all.
SEALED = [
    (d["metadata"]["namespace"], d["metadata"]["name"], tuple(d["spec"]["encryptedData"]))
    for d in sealed_docs()
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
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_secret_in_the_wrong_namespace_or_without_the_key(
    tmp_path: Path, layout: core.Layout, values: dict
) -> None:
    wrong = {
        "litellm-secrets": ("self-hosted-ai", "litellm-secrets", ("master-key",)),
        "open-webui-secrets": ("ai-services", "open-webui-secrets", ("secret-key",)),
    }
    sealed = [wrong.get(name, (ns, name, keys)) for ns, name, keys in SEALED]
    _files, out = _with_secrets(tmp_path, layout, values, sealed)
    findings = [str(f) for f in core.validate(out, layout.crds, "1.33")[1]]
    webui = _find(core.read(out), "Deployment", "open-webui", "ai-services")
    env_names = [e["name"] for e in webui["spec"]["template"]["spec"]["containers"][0]["env"]]
    key_env = env_names.index("WEBUI_SECRET_KEY")
    assert (
        "platform/litellm/litellm.yaml: Deployment ai-services/litellm: "
        "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: "
        "reads Secret ai-services/litellm-secrets, "
        "which is not a SealedSecret of the tree (sealed in namespace self-hosted-ai) [secret-refs]"
    ) in findings
    assert (
        "platform/open-webui/open-webui.yaml: Deployment ai-services/open-webui: "
        f"spec.template.spec.containers[0].env[{key_env}].valueFrom.secretKeyRef: "
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
    del broken["shai_gpu_hosts"]
    with pytest.raises(core.GitopsError, match=r"templates/.*\.j2.*'shai_gpu_hosts' is undefined"):
        core.render(layout, broken)


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ([], r"shai_gpu_hosts is empty: the inventory's gpu_workstation group holds no host"),
        ("10.213.250.20", r"shai_gpu_hosts must be a list of \{name, address\}"),
        (
            [{"name": "gpu", "address": "10.213.250.20"}, {"name": "gpu-b", "address": "not an address"}],
            r"shai_gpu_hosts\[1\] \(gpu-b\): address 'not an address' is not an IP address or a host name",
        ),
        ([{"name": "gpu"}], r"shai_gpu_hosts\[0\] \(gpu\): address None is not an IP address"),
        (
            [{"name": "gpu.a", "address": "10.213.250.20"}, {"name": "GPU_A", "address": "10.213.250.21"}],
            r"shai_gpu_hosts\[1\] \(GPU_A\): its Services would be named like those of gpu.a",
        ),
        ([{"name": "__", "address": "10.213.250.20"}], r"\(__\): the host name gives no DNS label"),
        ([{"name": "gpu", "adress": "10.213.250.20"}], r"\(gpu\): unknown key\(s\) adress"),
    ],
)
def test_bad_gpu_hosts_name_the_variable(
    layout: core.Layout, values: dict, hosts: object, message: str
) -> None:
    with pytest.raises(core.GitopsError, match=message):
        core.render(layout, {**values, "shai_gpu_hosts": hosts})


def test_gpu_host_by_name_is_an_external_name_but_no_network_policy(
    layout: core.Layout, values: dict
) -> None:
    """A GPU workstation known by a host name: its Services are ExternalName; the NetworkPolicy
    egress needs its address, so the render stops naming the value (no silent wide allow)."""
    by_name = {**values, "shai_gpu_hosts": [{"name": "gpu", "address": "gpu.example.test"}]}
    with pytest.raises(
        core.GitopsError, match=r"network-policies.*'gpu.example.test' is not an IP address or CIDR"
    ):
        core.render(layout, by_name)
    no_policies = core.load_values(
        layout, {**by_name, "gitops_components": {"network-policies": {"enabled": False}}}
    )
    files = core.render(layout, no_policies)
    svc = _find(files, "Service", "ollama-gpu-gpu", "gpu-workloads")["spec"]
    assert svc["type"] == "ExternalName" and svc["externalName"] == "gpu.example.test"
    assert not [d for _p, d in _docs(files, "platform/ollama-gpu/") if d["kind"] == "EndpointSlice"]


@pytest.mark.parametrize("gpus", [2, 3])
def test_more_gpu_hosts_validate(
    gpus: int, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]], layout: core.Layout, tmp_path: Path
) -> None:
    """The 2- and 3-host trees pass every validate rule (endpoints: each host's flow allowed;
    models: each host's Service annotates what LiteLLM routes to it)."""
    out = tmp_path / "tree"
    core.write(gpu_trees[gpus][1], out)
    add_sealed_secrets(out)
    _count, findings = core.validate(out, layout.crds, "1.33")
    assert [str(f) for f in findings if f.severity == "error"] == []


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


def test_inventory_without_gpu_workstation_names_the_variable(tmp_path: Path, layout: core.Layout) -> None:
    """An inventory whose gpu_workstation group is empty: group_vars builds an empty
    shai_gpu_hosts and the render says so (no IndexError, no tree without GPU wiring)."""
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "group_vars").symlink_to(INVENTORY.parent / "group_vars")
    (inv / "models.yml").symlink_to(INVENTORY.parent / "models.yml")
    hosts = yaml.safe_load(INVENTORY.read_text())
    hosts["all"]["children"]["gpu_workstation"] = {"hosts": {}}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    values = core.load_values(layout, core.inventory_vars(inv / "hosts.yml"))
    assert values["shai_gpu_hosts"] == []
    with pytest.raises(
        core.GitopsError, match=r"shai_gpu_hosts is empty: the inventory's gpu_workstation group"
    ):
        core.render(layout, values)


def test_ipv6_gpu_host(tmp_path: Path, layout: core.Layout, values: dict) -> None:
    """An IPv6 GPU workstation: an IPv6 EndpointSlice, egress to its /128, the runners' host in
    brackets, and the tree validates."""
    v6 = {
        **values,
        "shai_gpu_hosts": [*values["shai_gpu_hosts"], {"name": "gpu6", "address": "fd00:213::20"}],
    }
    files = core.render(layout, v6)
    eps = _find(files, "EndpointSlice", "ollama-gpu-gpu6-gpu-host", "gpu-workloads")
    assert eps["addressType"] == "IPv6" and eps["endpoints"][0]["addresses"] == ["fd00:213::20"]
    rules = _policies(files)["gpu-workloads"]["allow-gpu-workstation"]["egress"]
    assert [r["to"][0]["ipBlock"]["cidr"] for r in rules] == ["10.213.250.20/32", "fd00:213::20/128"]
    runners = _find(files, "Application", "arc-runners-gpu", "argocd")["spec"]["source"]["helm"][
        "valuesObject"
    ]
    env = runners["template"]["spec"]["containers"][0]["env"]
    assert env[0]["value"] == "10.213.250.20:11434,[fd00:213::20]:11434"
    core.write(files, tmp_path / "tree")
    add_sealed_secrets(tmp_path / "tree")
    _count, findings = core.validate(tmp_path / "tree", layout.crds, "1.33")
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_old_scalar_gpu_host_says_how_to_migrate(layout: core.Layout, values: dict) -> None:
    """An inventory from before ADR 0310 (only shai_gpu_host): the error names both variables and
    shows the group_vars line to write, instead of an undefined variable in some template."""
    old = {k: v for k, v in values.items() if k != "shai_gpu_hosts"}
    old["shai_gpu_host"] = "10.213.250.20"
    with pytest.raises(
        core.GitopsError, match=r"shai_gpu_host \(one GPU workstation\) is replaced by shai_gpu_hosts"
    ):
        core.render(layout, old)
