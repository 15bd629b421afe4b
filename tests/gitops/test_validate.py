"""Validation: every broken input fails with a precise finding (file, object, field, check)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shai.gitops import core
from shai.gitops.cli import app


def _edit(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    docs = fn(docs)
    path.write_text("".join("---\n" + yaml.safe_dump(d) for d in docs))


def _findings(tree: Path, layout: core.Layout) -> list[str]:
    _count, findings = core.validate(tree, layout.crds, "1.33")
    return [str(f) for f in findings if f.severity == "error"]  # audit results are not failures


def _only(findings: list[str], expected: str) -> None:
    assert len(findings) == 1, findings
    assert findings[0] == expected


def test_plaintext_secret_rejected(tree: Path, layout: core.Layout) -> None:
    (tree / "platform" / "litellm" / "leak.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: leak, namespace: ai-services}\ndata: {k: dg==}\n"
    )
    _only(
        _findings(tree, layout),
        "platform/litellm/leak.yaml: Secret ai-services/leak: data: plaintext Secret: seal it "
        "(gitops/secrets/<namespace>/<name>.sealedsecret.yaml) [no-plaintext-secret]",
    )


def test_namespace_without_quota_and_limitrange(tree: Path, layout: core.Layout) -> None:
    (tree / "platform" / "resource-quotas" / "automation.yaml").unlink()
    assert _findings(tree, layout) == [
        "platform/namespaces/namespaces.yaml: Namespace automation: (object): namespace has no ResourceQuota "
        "[namespace-quota]",
        "platform/namespaces/namespaces.yaml: Namespace automation: (object): namespace has no LimitRange "
        "[namespace-limitrange]",
    ]


def test_namespace_without_default_deny(tree: Path, layout: core.Layout) -> None:
    """Allow-policies alone are not isolation: the namespace needs the default-deny base."""

    def drop(docs: list[dict]) -> list[dict]:
        return [d for d in docs if d["metadata"]["name"] != "default-deny"]

    _edit(tree / "platform" / "network-policies" / "kyverno.yaml", drop)
    _only(
        _findings(tree, layout),
        "platform/namespaces/namespaces.yaml: Namespace kyverno: (object): namespace kyverno has no "
        "default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules) "
        "[namespace-default-deny]",
    )


@pytest.mark.parametrize(
    "broken",
    [
        {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]},
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{}]},
    ],
    ids=["selects-some-pods", "ingress-only", "allows-all-egress"],
)
def test_default_deny_that_does_not_deny(tree: Path, layout: core.Layout, broken: dict) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        for d in docs:
            if d["metadata"]["name"] == "default-deny":
                d["spec"] = broken
        return docs

    _edit(tree / "platform" / "network-policies" / "argocd.yaml", swap)
    _only(
        _findings(tree, layout),
        "platform/namespaces/namespaces.yaml: Namespace argocd: (object): namespace argocd has no "
        "default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules) "
        "[namespace-default-deny]",
    )


def test_container_without_limits(tree: Path, layout: core.Layout) -> None:
    def drop(docs: list[dict]) -> list[dict]:
        for d in docs:
            if d["kind"] == "Deployment":
                del d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
        return docs

    _edit(tree / "platform" / "searxng" / "searxng.yaml", drop)
    _only(
        _findings(tree, layout),
        "platform/searxng/searxng.yaml: Deployment ai-services/searxng: "
        "spec.template.spec.containers[0].resources.limits.memory: container searxng has no memory "
        "limit [resources]",
    )


@pytest.mark.parametrize("image", ["docker.io/searxng/searxng:latest", "docker.io/searxng/searxng"])
def test_unpinned_image(tree: Path, layout: core.Layout, image: str) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        for d in docs:
            if d["kind"] == "Deployment":
                d["spec"]["template"]["spec"]["containers"][0]["image"] = image
        return docs

    _edit(tree / "platform" / "searxng" / "searxng.yaml", swap)
    _only(
        _findings(tree, layout),
        "platform/searxng/searxng.yaml: Deployment ai-services/searxng: "
        "spec.template.spec.containers[0].image: "
        f"container searxng: image '{image}' is not pinned (tag or digest, never latest) [pinned-images]",
    )


@pytest.mark.parametrize("rev", ["latest", "*", "1.x", "^1.18.0", ">=1.0.0", "HEAD"])
def test_unpinned_chart(tree: Path, layout: core.Layout, rev: str) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        docs[0]["spec"]["source"]["targetRevision"] = rev
        return docs

    _edit(tree / "apps" / "cert-manager.yaml", swap)
    _only(
        _findings(tree, layout),
        "apps/cert-manager.yaml: Application argocd/cert-manager: spec.source.targetRevision: "
        "chart cert-manager "
        f"version '{rev}' is not pinned (exact version, never latest/ranges) [pinned-charts]",
    )


def test_crd_consumed_in_the_wave_that_installs_it(tree: Path, layout: core.Layout) -> None:
    """cluster-issuers moved to wave -1 = cert-manager's wave: its Certificates would race the CRDs."""

    def swap(docs: list[dict]) -> list[dict]:
        docs[0]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "-1"
        return docs

    _edit(tree / "apps" / "cluster-issuers.yaml", swap)
    findings = _findings(tree, layout)
    assert len(findings) == 4  # 2 ClusterIssuers + 2 Certificates
    assert (
        "platform/cluster-issuers/issuers.yaml: ClusterIssuer shai-ca: apiVersion: uses cert-manager.io "
        "(installed by cert-manager at wave -1) from Application cluster-issuers at wave -1: must "
        "be a later wave "
        "[waves]"
    ) in findings


def test_root_application_must_not_prune(tree: Path, layout: core.Layout) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        docs[0]["spec"]["syncPolicy"]["automated"]["prune"] = True
        return docs

    _edit(tree / "bootstrap" / "root-application.yaml", swap)
    _only(
        _findings(tree, layout),
        "bootstrap/root-application.yaml: Application argocd/root: spec.syncPolicy.automated.prune: "
        "the root Application must never auto-prune [sync-policy]",
    )


def test_create_namespace_and_undeclared_destination(tree: Path, layout: core.Layout) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        docs[0]["spec"]["syncPolicy"]["syncOptions"] = ["CreateNamespace=true"]
        docs[0]["spec"]["destination"]["namespace"] = "nowhere"
        return docs

    _edit(tree / "apps" / "n8n.yaml", swap)
    assert _findings(tree, layout) == [
        "apps/n8n.yaml: Application argocd/n8n: spec.syncPolicy.syncOptions: must contain "
        "CreateNamespace=false "
        "(namespaces are declared) [sync-policy]",
        "apps/n8n.yaml: Application argocd/n8n: spec.destination.namespace: namespace 'nowhere' is "
        "not declared "
        "by the tree (CreateNamespace=false) [namespaces]",
    ]


def test_crd_schema_typo_in_ingressroute(tree: Path, layout: core.Layout) -> None:
    """Strict CRD schemas: a mistyped field (the API server would silently prune it) is an error."""

    def swap(docs: list[dict]) -> list[dict]:
        for d in docs:
            if d["kind"] == "IngressRoute":
                d["spec"]["entrypoints"] = d["spec"].pop("entryPoints")
        return docs

    _edit(tree / "platform" / "n8n" / "n8n.yaml", swap)
    _only(
        _findings(tree, layout),
        "platform/n8n/n8n.yaml: IngressRoute automation/n8n: spec: Additional properties are not allowed "
        "('entrypoints' was unexpected) [crd-schema]",
    )


def test_crd_schema_type_error_in_sealedsecret(tree: Path, layout: core.Layout) -> None:
    (tree / "secrets" / "ai-services").mkdir(parents=True, exist_ok=True)
    (tree / "secrets" / "ai-services" / "x.sealedsecret.yaml").write_text(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x, namespace: ai-services}\n"
        "spec: {encryptedData: [not, a, map]}\n"
    )
    _only(
        [f for f in _findings(tree, layout) if f.endswith("[crd-schema]")],
        "secrets/ai-services/x.sealedsecret.yaml: SealedSecret ai-services/x: spec.encryptedData: "
        "['not', 'a', 'map'] is not of type 'object' [crd-schema]",
    )


def test_core_schema_error(tree: Path, layout: core.Layout) -> None:
    def swap(docs: list[dict]) -> list[dict]:
        for d in docs:
            if d["kind"] == "HorizontalPodAutoscaler":
                d["spec"]["maxReplicas"] = "three"
        return docs

    _edit(tree / "platform" / "litellm" / "litellm.yaml", swap)
    _only(
        _findings(tree, layout),
        "platform/litellm/litellm.yaml: HorizontalPodAutoscaler ai-services/litellm: spec.maxReplicas: "
        "'three' is not of type 'integer' [schema]",
    )


def test_unknown_api_group(tree: Path, layout: core.Layout) -> None:
    (tree / "platform" / "n8n" / "x.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t, namespace: automation}\n"
    )
    findings = _findings(tree, layout)
    assert (
        "platform/n8n/x.yaml: Thing automation/t: apiVersion: no schema for API group 'example.com' "
        "(add its CRD to gitops/crds) [crd-schema]"
    ) in findings


def test_yaml_syntax_error(tree: Path, layout: core.Layout) -> None:
    (tree / "platform" / "n8n" / "broken.yaml").write_text("kind: [unclosed\n")
    findings = _findings(tree, layout)
    assert len(findings) == 1 and findings[0].startswith(
        "platform/n8n/broken.yaml: (file): (object): invalid YAML"
    )


def test_cli_validate_exit_codes(tree: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(tree)])
    assert ok.exit_code == 0, ok.output
    (tree / "platform" / "litellm" / "leak.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: leak, namespace: ai-services}\nstringData: {k: v}\n"
    )
    bad = runner.invoke(app, ["validate", str(tree), "--json"])
    assert bad.exit_code == 1
    assert '"check": "no-plaintext-secret"' in bad.stdout


def test_cli_render_check_writes_nothing(tmp_path: Path) -> None:
    from gitops_helpers import INVENTORY

    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["render", "-i", str(INVENTORY), "-o", str(out), "--check"])
    assert res.exit_code == 0, res.output
    assert not out.exists()
    res = runner.invoke(app, ["render", "-i", str(INVENTORY), "-o", str(out)])
    assert res.exit_code == 0 and (out / "apps" / "litellm.yaml").is_file()
    res = runner.invoke(app, ["render", "-i", str(INVENTORY), "-o", str(out)])
    assert "0 changed" in " ".join(res.output.split())  # rich wraps a long path at any word
