"""resources: cpu and memory requests and limits on every container."""

from __future__ import annotations

from rule_fixtures import deployment, findings, obj


def test_good() -> None:
    assert findings("resources", obj(deployment())) == []


def test_missing_memory_limit_and_all_requests() -> None:
    bad = deployment(resources={"limits": {"cpu": "1"}})
    assert findings("resources", obj(bad)) == [
        "platform/x/x.yaml: Deployment apps/web: spec.template.spec.containers[0].resources.requests.cpu: "
        "container web has no cpu request [resources]",
        "platform/x/x.yaml: Deployment apps/web: spec.template.spec.containers[0].resources.requests.memory: "
        "container web has no memory request [resources]",
        "platform/x/x.yaml: Deployment apps/web: spec.template.spec.containers[0].resources.limits.memory: "
        "container web has no memory limit [resources]",
    ]


LIMITS = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "l", "namespace": "apps"},
    "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "10m"}}]},
}


def test_chart_container_may_leave_values_to_the_limitrange() -> None:
    bare = deployment(resources={})
    chart = obj(bare, "c:chart/templates/d.yaml", "c", rendered=True)
    where = "c:chart/templates/d.yaml: Deployment apps/web: spec.template.spec.containers[0].resources"
    assert findings("resources", obj(LIMITS), chart) == [
        f"{where}.requests.memory: container web has no memory request and namespace apps's LimitRange "
        "gives no default [resources]",
        f"{where}.limits.memory: container web has no memory limit and namespace apps's LimitRange "
        "gives no default [resources]",
    ]
    # the tree's own workloads always say it themselves
    assert len(findings("resources", obj(LIMITS), obj(bare))) == 4
