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
