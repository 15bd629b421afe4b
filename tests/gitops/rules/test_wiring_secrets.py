"""secret-refs / secrets-sealed: every Secret read resolves (volumes, Middlewares, existingSecret-style
Helm values, Certificates), every sealed Secret has a reader, a tree without SealedSecrets fails."""

from __future__ import annotations

from rule_fixtures import Doc, application, deployment, findings, obj

MARK = "shai.vectorweight.com/"


def _sealed(ns: str, name: str, *keys: str, **annotations: str) -> Doc:
    ann = {MARK + k.replace("_", "-"): v for k, v in annotations.items()}
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"encryptedData": {k: "AgB" for k in keys}, "template": {"metadata": {"annotations": ann}}},
    }


def _reader(name: str, key: str, ns: str = "apps") -> Doc:
    return deployment(ns=ns, env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}])


def test_zero_sealed_secrets_is_a_finding_not_a_pass() -> None:
    """The issue's example: validation passed on a tree with zero SealedSecrets."""
    app = application("sealed-secrets-data", wave=-1, path="secrets")
    out = findings(
        "secrets-sealed", obj(app, "apps/sealed-secrets-data.yaml"), obj(_reader("db", "password"))
    )
    assert out == [
        "apps/sealed-secrets-data.yaml: Application argocd/sealed-secrets-data: spec.source.path: the "
        "tree carries "
        "no SealedSecret, but 1 workload(s) read Secrets (Deployment apps/web): nothing proves those "
        "Secrets exist "
        "(seal the catalog: shai-secrets seal; or validate a copy with generated SealedSecrets) "
        "[secrets-sealed]"
    ]
    assert (
        findings("secrets-sealed", obj(_sealed("apps", "db", "password")), obj(_reader("db", "password")))
        == []
    )


def test_volume_and_projected_secret_keys() -> None:
    doc = deployment()
    doc["spec"]["template"]["spec"]["volumes"] = [
        {"name": "a", "secret": {"secretName": "db", "items": [{"key": "password", "path": "p"}]}},
        {
            "name": "b",
            "projected": {"sources": [{"secret": {"name": "db", "items": [{"key": "nope", "path": "n"}]}}]},
        },
        {"name": "c", "secret": {"secretName": "gone"}},
    ]
    out = findings("secret-refs", obj(_sealed("apps", "db", "password")), obj(doc))
    assert [line.split(": ", 3)[2:] for line in out] == [
        [
            "spec.template.spec.volumes[1].projected.sources[0].secret",
            "Secret apps/db has no key 'nope' (keys: password) [secret-refs]",
        ],
        [
            "spec.template.spec.volumes[2].secret.secretName",
            "reads Secret apps/gone, which is not a SealedSecret of the tree [secret-refs]",
        ],
    ]


def test_existing_secret_helm_values_in_the_destination_namespace() -> None:
    values = {"grafana": {"admin": {"existingSecret": "grafana-admin"}}, "githubConfigSecret": "arc-app"}
    app = application(
        "prometheus",
        chart="kube-prometheus-stack",
        version="77.5.0",
        dest="monitoring",
        helm={"valuesObject": values},
    )
    out = findings(
        "secret-refs",
        obj(app, "apps/prometheus.yaml"),
        obj(_sealed("monitoring", "grafana-admin", "admin-password")),
    )
    assert out == [
        "apps/prometheus.yaml: Application argocd/prometheus: "
        "spec.source.helm.valuesObject.githubConfigSecret: "
        "reads Secret monitoring/arc-app, which is not a SealedSecret of the tree [secret-refs]"
    ]


def test_middleware_and_certificate_providers() -> None:
    mw = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "Middleware",
        "metadata": {"name": "auth", "namespace": "traefik"},
        "spec": {"basicAuth": {"secret": "admin-auth"}},
    }
    cert = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web-tls", "namespace": "apps"},
        "spec": {"secretName": "web-tls"},
    }
    out = findings(
        "secret-refs",
        obj(mw, "platform/admin-ingress/admin.yaml", app="admin-ingress"),
        obj(_sealed("traefik", "admin-auth", "password")),
        obj(cert),
        obj(_reader("web-tls", "tls.crt")),
    )
    assert out == [
        "platform/admin-ingress/admin.yaml: Middleware traefik/auth: spec.basicAuth.secret: Secret "
        "traefik/admin-auth "
        "has no key 'users' (keys: password) [secret-refs]"
    ]


def test_every_sealed_secret_has_a_reader_or_says_why_not() -> None:
    argocd = application("argocd", chart="argo-cd", version="8.1.3", dest="argocd")
    out = findings(
        "secret-refs",
        obj(_sealed("apps", "db", "password")),
        obj(_reader("db", "password")),
        obj(_sealed("ai", "hf", "HF_TOKEN", operator_only="shai-models reads it on the controller")),
        obj(_sealed("argocd", "argocd-secret", "server.secretkey", consumers="argocd")),
        obj(argocd, "apps/argocd.yaml"),
        obj(_sealed("ai", "redis", "redis-password"), "secrets/ai/redis.sealedsecret.yaml"),
        obj(_sealed("ai", "old", "k", consumers="gone-app"), "secrets/ai/old.sealedsecret.yaml"),
    )
    assert out == [
        "secrets/ai/redis.sealedsecret.yaml: SealedSecret ai/redis: spec.template.metadata.annotations: "
        "sealed "
        "Secret ai/redis is read by nothing in the tree: wire it to its consumer, or mark its catalog entry "
        "(annotations shai.vectorweight.com/consumers: APP or shai.vectorweight.com/operator-only: why) "
        "[secret-refs]",
        "secrets/ai/old.sealedsecret.yaml: SealedSecret ai/old: spec.template.metadata.annotations: "
        "sealed Secret "
        "ai/old is read by nothing in the tree (declared consumers gone-app are not Applications of the "
        "tree): "
        "wire it to its consumer, or mark its catalog entry (annotations "
        "shai.vectorweight.com/consumers: APP or "
        "shai.vectorweight.com/operator-only: why) [secret-refs]",
    ]


def test_a_secret_the_chart_creates_at_run_time_is_not_a_finding() -> None:
    redis = deployment(
        "argocd-redis",
        "argocd",
        env=[{"name": "P", "valueFrom": {"secretKeyRef": {"name": "argocd-redis", "key": "auth"}}}],
    )
    rendered = obj(redis, "argocd:argo-cd/templates/redis/deployment.yaml", app="argocd", rendered=True)
    assert (
        findings("secret-refs", obj(_sealed("argocd", "argocd-secret", "k", operator_only="test")), rendered)
        == []
    )
    ours = obj(redis, "platform/x/x.yaml", app="x")  # the tree's own workload gets no such pass
    [line] = findings("secret-refs", obj(_sealed("argocd", "argocd-secret", "k", operator_only="test")), ours)
    assert "reads Secret argocd/argocd-redis, which is not a SealedSecret of the tree" in line
