"""limit-range: containers pass their namespace's LimitRange after defaulting (the GitLab class)."""

from __future__ import annotations

from rule_fixtures import Doc, deployment, findings, obj


def _limits(ns: str = "gitlab") -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": ns + "-limits", "namespace": ns},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "2Gi"},
                    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
                    "min": {"cpu": "10m", "memory": "32Mi"},
                    "max": {"cpu": "16", "memory": "32Gi"},
                }
            ]
        },
    }


def test_good() -> None:
    doc = deployment("web", "gitlab")
    assert findings("limit-range", obj(_limits()), obj(doc)) == []


def test_request_over_the_default_limit() -> None:
    """The issue's example: GitLab's webservice requests 2.5G, the namespace's default limit is 2Gi."""
    doc = deployment("webservice", "gitlab", resources={"requests": {"cpu": "300m", "memory": "2.5G"}})
    out = findings(
        "limit-range",
        obj(_limits()),
        obj(doc, "gitlab:gitlab/charts/webservice/deployment.yaml", app="gitlab"),
    )
    assert out == [
        "gitlab:gitlab/charts/webservice/deployment.yaml: Deployment gitlab/webservice: "
        "spec.template.spec.containers[0].resources.requests.memory: container webservice requests "
        "2.33Gi memory "
        "over its default limit 2Gi (LimitRange gitlab/gitlab-limits): admission rejects the pod "
        "[limit-range]"
    ]


def test_below_min_and_over_max() -> None:
    doc = deployment(
        "init",
        "gitlab",
        resources={"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "20", "memory": "64Mi"}},
    )
    out = findings("limit-range", obj(_limits()), obj(doc))
    assert [line.split(": ", 3)[2:] for line in out] == [
        [
            "spec.template.spec.containers[0].resources.limits.cpu",
            "container init limit 20 cpu is over the maximum 16 of LimitRange gitlab/gitlab-limits "
            "[limit-range]",
        ],
        [
            "spec.template.spec.containers[0].resources.requests.memory",
            "container init requests 16Mi memory, below the minimum 32Mi of LimitRange gitlab/gitlab-limits "
            "[limit-range]",
        ],
    ]
