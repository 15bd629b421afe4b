"""quota-at-max: requests/limits x HPA max replicas fit the namespace's ResourceQuota (ADR 0307)."""

from __future__ import annotations

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import _quantity
from rule_fixtures import Doc, application, deployment, findings, obj


def _quota(ns: str, **hard: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": ns + "-quota", "namespace": ns},
        "spec": {"hard": {k.replace("_", "."): v for k, v in hard.items()}},
    }


def _limitrange(ns: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "defaults", "namespace": ns},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "2Gi"},
                    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
                }
            ]
        },
    }


def _hpa(name: str, ns: str, maximum: int) -> Doc:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "maxReplicas": maximum},
    }


def _sized(name: str, cpu_limit: str) -> Doc:
    return deployment(
        name,
        "ai",
        resources={
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": cpu_limit, "memory": "2Gi"},
        },
    )


def test_good() -> None:
    assert (
        findings(
            "quota-at-max", obj(_sized("a", "2")), obj(_hpa("a", "ai", 3)), obj(_quota("ai", limits_cpu="6"))
        )
        == []
    )


def test_limits_at_hpa_max_over_quota() -> None:
    """The issue's example (36 vs 24 with searxng and mcp-servers): limits x HPA max over the quota."""
    out = findings(
        "quota-at-max",
        obj(_sized("ollama", "12")),
        obj(_sized("agent", "2")),
        obj(_hpa("agent", "ai", 5)),
        obj(_sized("litellm", "2")),
        obj(_hpa("litellm", "ai", 3)),
        obj(_sized("web", "2")),
        obj(_hpa("web", "ai", 3)),
        obj(
            _quota("ai", limits_cpu="24", requests_cpu="8"),
            "platform/resource-quotas/ai.yaml",
            app="resource-quotas",
        ),
    )
    assert out == [
        "platform/resource-quotas/ai.yaml: ResourceQuota ai/ai-quota: spec.hard[limits.cpu]: at every "
        "HPA's maximum "
        "the pods of namespace ai need 34 limits.cpu, over the quota's 24 (largest: Deployment ollama 1x12 "
        "(replicas); Deployment agent 5x2 (HPA max); Deployment litellm 3x2 (HPA max); Deployment web "
        "3x2 (HPA "
        "max)); ADR 0307: lower the limits or the replicas, the quota stays [quota-at-max]"
    ]


def test_limitrange_default_counts_for_a_container_without_limits() -> None:
    bare = deployment("bare", "ai")
    bare["spec"]["template"]["spec"]["containers"][0].pop("resources")
    bare["spec"]["replicas"] = 3
    out = findings("quota-at-max", obj(bare), obj(_limitrange("ai")), obj(_quota("ai", limits_memory="4Gi")))
    assert len(out) == 1 and "need 6Gi limits.memory, over the quota's 4Gi" in out[0]


def test_quantities() -> None:
    assert _quantity.parse("250m") * 4 == 1
    assert _quantity.parse("2.5G") == 2_500_000_000
    assert _quantity.parse("1Gi") == 2**30
    assert _quantity.parse("1e3") == 1000
    assert _quantity.parse("lots") is None
    assert _quantity.show("limits.cpu", _quantity.parse("21500m")) == "21.5"


def test_the_linkerd_proxy_injected_into_meshed_pods_counts() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "ai", "annotations": {"linkerd.io/inject": "enabled"}},
    }
    linkerd = application(
        "linkerd-control-plane",
        chart="linkerd-control-plane",
        version="2025.1.2",
        dest="linkerd",
        helm={"valuesObject": {"proxy": {"resources": {"cpu": {"request": "10m", "limit": "1"}}}}},
    )
    docs = [obj(ns), obj(linkerd, "apps/l.yaml"), obj(_sized("a", "2")), obj(_hpa("a", "ai", 3))]
    assert findings("quota-at-max", *docs, obj(_quota("ai", limits_cpu="6"))) != []  # 3 x (2 + 1)
    assert findings("quota-at-max", *docs, obj(_quota("ai", limits_cpu="9"))) == []
