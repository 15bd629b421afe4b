"""no-plaintext-secret: Secrets with data in the tree; chart Secrets fed from the tree's values."""

from __future__ import annotations

import base64

from rule_fixtures import application, findings, obj

SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "apps"}}


def test_good_empty_secret_and_sealed_secret() -> None:
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "s", "namespace": "apps"},
        "spec": {"encryptedData": {"k": "AgB..."}},
    }
    assert findings("no-plaintext-secret", obj(SECRET), obj(sealed)) == []


def test_bad_data_and_string_data() -> None:
    assert findings("no-plaintext-secret", obj(dict(SECRET, stringData={"k": "v"}))) == [
        "platform/x/x.yaml: Secret apps/s: stringData: plaintext Secret: seal it "
        "(gitops/secrets/<namespace>/<name>.sealedsecret.yaml) [no-plaintext-secret]"
    ]


def test_secret_inside_a_list_is_a_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules

    (tmp_path / "l.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n"
        "  metadata: {name: s, namespace: apps}\n  data: {k: dg==}\n"
    )
    _count, out = rules.validate_tree(tmp_path, None, "1.33", select=["no-plaintext-secret"])
    assert [str(f) for f in out] == [
        "l.yaml: Secret apps/s: data: plaintext Secret: seal it "
        "(gitops/secrets/<namespace>/<name>.sealedsecret.yaml) [no-plaintext-secret]"
    ]


def test_chart_secret_from_the_tree_values_is_an_error_else_audit() -> None:
    app = application("db", chart="postgresql", helm={"valuesObject": {"auth": {"password": "hunter22"}}})
    leaked = dict(SECRET, data={"password": base64.b64encode(b"hunter22").decode()})
    generated = dict(SECRET, data={"password": base64.b64encode(b"r4nd0m-by-helm").decode()})
    out = findings(
        "no-plaintext-secret",
        obj(app, "apps/db.yaml"),
        obj(leaked, "db:postgresql/templates/secret.yaml", "db", rendered=True),
    )
    assert out == [
        "db:postgresql/templates/secret.yaml: Secret apps/s: data: the chart renders a value of Application "
        "db's Helm values into this Secret: seal it and point the chart at the existing Secret "
        "[no-plaintext-secret]"
    ]
    out = findings(
        "no-plaintext-secret",
        obj(app, "apps/db.yaml"),
        obj(generated, "db:postgresql/templates/secret.yaml", "db", rendered=True),
    )
    assert len(out) == 1 and out[0].endswith("[no-plaintext-secret] (audit)")
