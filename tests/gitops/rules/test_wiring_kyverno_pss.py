"""kyverno-pss: the tree's Kyverno Pod Security policies hold for its workloads (enforced: error,
audit: reported), minus its PolicyExceptions; Kyverno with no enforced policy is a finding."""

from __future__ import annotations

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import _pss
from rule_fixtures import Doc, application, deployment, findings, obj


def _policy(level: str, action: str, namespaces: list[str] | None = None) -> Doc:
    resources: Doc = {"kinds": ["Pod"]}
    if namespaces:
        resources["namespaces"] = namespaces
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "pss-" + level},
        "spec": {
            "rules": [
                {
                    "name": level,
                    "match": {"any": [{"resources": resources}]},
                    "validate": {
                        "failureAction": action,
                        "podSecurity": {"level": level, "version": "latest"},
                    },
                }
            ]
        },
    }


def _exception(ns: str, control: str, images: list[str] | None = None) -> Doc:
    item: Doc = {"controlName": control}
    if images is not None:
        item["images"] = images
    return {
        "apiVersion": "kyverno.io/v2",
        "kind": "PolicyException",
        "metadata": {"name": "x", "namespace": "kyverno"},
        "spec": {
            "exceptions": [{"policyName": "pss-baseline", "ruleNames": ["baseline"]}],
            "match": {"any": [{"resources": {"namespaces": [ns]}}]},
            "podSecurity": [item],
        },
    }


def _host_port(ns: str = "traefik") -> Doc:
    return deployment(
        "traefik", ns, "docker.io/traefik:v3.5.2", ports=[{"containerPort": 8000, "hostPort": 80}]
    )


def _restricted_ok(name: str, ns: str) -> Doc:
    doc = deployment(name, ns, securityContext={
        "allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
    })  # fmt: skip
    return doc


def test_good_exception_and_restricted_workload() -> None:
    out = findings(
        "kyverno-pss",
        obj(_policy("baseline", "Enforce")),
        obj(_policy("restricted", "Audit", ["ai"])),
        obj(_exception("traefik", "Host Ports", ["*"])),
        obj(_host_port()),
        obj(_restricted_ok("web", "ai")),
    )
    assert out == []


def test_enforced_baseline_rejects_a_privileged_container() -> None:
    doc = deployment("binfmt", "runners", securityContext={"privileged": True})
    out = findings("kyverno-pss", obj(_policy("baseline", "Enforce")), obj(doc, "platform/r/r.yaml", app="r"))
    assert out == [
        "platform/r/r.yaml: Deployment runners/binfmt: "
        "spec.template.spec.containers[0].securityContext.privileged: "
        "Privileged Containers: container binfmt is privileged (baseline Enforce, ClusterPolicy "
        "pss-baseline rule "
        "baseline; add a documented PolicyException to gitops_kyverno_exceptions if it must) [kyverno-pss]"
    ]


def test_exception_scoped_by_namespace_and_image() -> None:
    policy = obj(_policy("baseline", "Enforce"))
    # an exception for another namespace, or for other images, does not cover it
    assert (
        len(findings("kyverno-pss", policy, obj(_exception("other", "Host Ports", ["*"])), obj(_host_port())))
        == 1
    )
    exc = obj(_exception("traefik", "Host Ports", ["cr.l5d.io/*"]))
    assert len(findings("kyverno-pss", policy, exc, obj(_host_port()))) == 1


def test_restricted_audit_is_reported_not_a_failure() -> None:
    ctx_objs = [
        obj(_policy("baseline", "Enforce")),
        obj(_policy("restricted", "Audit", ["ai"])),
        obj(deployment("root", "ai")),
    ]
    from rule_fixtures import context

    found = rules.run(context(*ctx_objs), select=["kyverno-pss"])
    assert found and all(f.severity == "audit" for f in found)
    assert rules.failures(found) == []
    assert {f.message.split(":")[0] for f in found} >= {
        "Privilege Escalation",
        "Running as Non-root",
        "Seccomp",
    }


def test_kyverno_without_an_enforced_policy() -> None:
    """The issue's example: Kyverno installed with zero policies."""
    app = application("kyverno", chart="kyverno", version="3.5.1", dest="kyverno")
    assert findings("kyverno-pss", obj(app, "apps/kyverno.yaml")) == [
        "apps/kyverno.yaml: Application argocd/kyverno: spec.source.chart: Kyverno is installed but the "
        "tree ships "
        "no enforced podSecurity ClusterPolicy (baseline Enforce everywhere, restricted Audit: ADR 0309) "
        "[kyverno-pss]"
    ]


def test_kube_system_is_not_admitted_by_kyverno() -> None:
    doc = deployment("x", "kube-system", securityContext={"privileged": True})
    assert findings("kyverno-pss", obj(_policy("baseline", "Enforce")), obj(doc)) == []


def test_controls() -> None:
    pod = {
        "hostNetwork": True,
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
        "containers": [
            {"name": "c", "image": "i", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}}
        ],
    }
    assert [v[0] for v in _pss.violations(pod, "baseline")] == [
        "Host Namespaces",
        "HostPath Volumes",
        "Capabilities",
    ]
    assert _pss.violations(pod, "privileged") == []
