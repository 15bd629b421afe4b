"""run-as-non-root: runAsNonRoot without a numeric runAsUser unless the image is allow-listed."""

from __future__ import annotations

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import run_as_non_root
from rule_fixtures import deployment, findings, obj


def _pod_sc(doc: dict, **sc: object) -> dict:
    doc["spec"]["template"]["spec"]["securityContext"] = dict(sc)
    return doc


def test_good_numeric_user_allow_listed_image_or_root() -> None:
    assert (
        findings(
            "run-as-non-root",
            obj(
                _pod_sc(
                    deployment("a", image="docker.io/n8nio/n8n:1.110.1"), runAsNonRoot=True, runAsUser=1000
                )
            ),
            obj(_pod_sc(deployment("b", image="quay.io/argoproj/argocd:v3.0.6"), runAsNonRoot=True)),
            obj(deployment("c", image="docker.io/ollama/ollama:0.11.10")),
            obj(deployment("d", securityContext={"runAsNonRoot": True, "runAsUser": 65534})),
        )
        == []
    )


def test_bad_named_user_image() -> None:
    """The issue's example: n8n's image user is the NAME `node`; the kubelet refuses the pod."""
    out = findings(
        "run-as-non-root",
        obj(
            _pod_sc(deployment("n8n", "automation", "docker.io/n8nio/n8n:1.110.1"), runAsNonRoot=True),
            "platform/n8n/n8n.yaml",
            app="n8n",
        ),
    )
    assert out == [
        "platform/n8n/n8n.yaml: Deployment automation/n8n: "
        "spec.template.spec.containers[0].securityContext.runAsUser: "
        "container n8n (image docker.io/n8nio/n8n:1.110.1) runs with runAsNonRoot but no numeric "
        "runAsUser: the "
        "kubelet refuses it unless the image's USER is numeric (set runAsUser, or allow-list the image in "
        "gitops_rules/run_as_non_root.py with its source) [run-as-non-root]"
    ]


def test_container_level_overrides_pod_level() -> None:
    doc = _pod_sc(deployment("x", image="ghcr.io/berriai/litellm:main-v1.76.1-stable"), runAsUser=1000)
    doc["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"runAsNonRoot": True}
    assert findings("run-as-non-root", obj(doc)) == []
    doc["spec"]["template"]["spec"]["securityContext"] = {}
    assert len(findings("run-as-non-root", obj(doc))) == 1


def test_allow_list_matches_repository_not_tag() -> None:
    assert run_as_non_root.allow_listed("cr.l5d.io/linkerd/proxy:edge-25.1.2")
    assert run_as_non_root.allow_listed("quay.io/argoproj/argocd@sha256:" + "0" * 64)
    assert not run_as_non_root.allow_listed("n8nio/n8n:1.110.1")
    assert not run_as_non_root.allow_listed("quay.io/argoproj/argocd-evil:1")
