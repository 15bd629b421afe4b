"""namespace-quota, namespace-limitrange, namespace-default-deny: what every declared namespace needs."""

from __future__ import annotations

import pytest
from rule_fixtures import findings, namespace, obj

NS = "platform/namespaces/namespaces.yaml"
QUOTA = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "apps"}}
LIMITS = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l", "namespace": "apps"}}
DENY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "apps"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}


def _all(*docs: dict) -> list[str]:
    objs = [obj(namespace("apps"), NS), obj(namespace("kube-system"), NS), *(obj(d) for d in docs)]
    return (
        findings("namespace-quota", *objs)
        + findings("namespace-limitrange", *objs)
        + findings("namespace-default-deny", *objs)
    )


def test_good() -> None:
    assert _all(QUOTA, LIMITS, DENY) == []


def test_bad_nothing() -> None:
    assert _all() == [
        f"{NS}: Namespace apps: (object): namespace has no ResourceQuota [namespace-quota]",
        f"{NS}: Namespace apps: (object): namespace has no LimitRange [namespace-limitrange]",
        f"{NS}: Namespace apps: (object): namespace apps has no default-deny NetworkPolicy "
        "(podSelector {}, policyTypes [Ingress, Egress], no rules) [namespace-default-deny]",
    ]


@pytest.mark.parametrize(
    "spec",
    [
        {"podSelector": {"matchLabels": {"a": "b"}}, "policyTypes": ["Ingress", "Egress"]},
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{}]},
    ],
)
def test_bad_deny_that_allows(spec: dict) -> None:
    assert len(_all(QUOTA, LIMITS, dict(DENY, spec=spec))) == 1
