"""secret-refs: the Secrets a workload reads are SealedSecrets of its namespace with that key."""

from __future__ import annotations

from rule_fixtures import deployment, findings, obj


def _sealed(ns: str, name: str, *keys: str) -> dict:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"encryptedData": {k: "AgB" for k in keys}},
    }


def _reader(name: str, key: str) -> dict:
    return deployment(env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}])


def test_good() -> None:
    sealed = obj(_sealed("apps", "db", "password"))
    assert findings("secret-refs", sealed, obj(_reader("db", "password"))) == []


def test_bad_namespace_and_key() -> None:
    out = findings(
        "secret-refs",
        obj(_sealed("other", "db", "password")),
        obj(_sealed("apps", "api", "token")),
        obj(_reader("db", "password")),
        obj(_reader("api", "nope")),
    )
    field = "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"
    assert out == [
        f"platform/x/x.yaml: Deployment apps/web: {field}: reads Secret apps/db, which is not a SealedSecret "
        "of the tree (sealed in namespace other) [secret-refs]",
        f"platform/x/x.yaml: Deployment apps/web: {field}: Secret apps/api has no key 'nope' (keys: token) "
        "[secret-refs]",
        "platform/x/x.yaml: SealedSecret other/db: spec.template.metadata.annotations: sealed Secret "
        "other/db is "
        "read by nothing in the tree: wire it to its consumer, or mark its catalog entry (annotations "
        "shai.vectorweight.com/consumers: APP or shai.vectorweight.com/operator-only: why) [secret-refs]",
    ]


def test_optional_reference_need_not_resolve_but_counts_as_a_reader() -> None:
    optional = {"name": "X", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "T", "optional": True}}}
    # Not sealed yet (a token created once the app runs): the optional reference is no finding.
    assert (
        findings(
            "secret-refs",
            obj(_sealed("apps", "db", "password")),
            obj(_reader("db", "password")),
            obj(deployment(env=[optional])),
        )
        == []
    )
    # Sealed later: the optional reader is its reader (no "read by nothing").
    assert findings("secret-refs", obj(_sealed("apps", "tok", "T")), obj(deployment(env=[optional]))) == []
