"""privacy: every chart's phone-home option (found in the chart sources) is off."""

from __future__ import annotations

from rule_fixtures import application, deployment, findings, obj

TRAEFIK_OFF = {"global": {"checkNewVersion": False, "sendAnonymousUsage": False}}


def test_good() -> None:
    app = application("traefik", chart="traefik", version="37.1.1", helm={"valuesObject": TRAEFIK_OFF})
    assert findings("privacy", obj(app, "apps/traefik.yaml")) == []


def test_chart_default_phones_home() -> None:
    app = application(
        "traefik",
        chart="traefik",
        version="37.1.1",
        helm={"valuesObject": {"global": {"sendAnonymousUsage": False}}},
    )
    assert findings("privacy", obj(app, "apps/traefik.yaml")) == [
        "apps/traefik.yaml: Application argocd/traefik: "
        "spec.source.helm.valuesObject.global.checkNewVersion: chart "
        "traefik 37.1.1: global.checkNewVersion must be false (periodic version check against Traefik's "
        "servers), is "
        "unset (chart default) [privacy]"
    ]


def test_dotted_key_and_wrong_value() -> None:
    values = {
        "grafana": {"grafana.ini": {"analytics": {"reporting_enabled": True, "check_for_updates": False}}}
    }
    app = application(
        "prometheus", chart="kube-prometheus-stack", version="77.5.0", helm={"valuesObject": values}
    )
    out = findings("privacy", obj(app, "apps/prometheus.yaml"))
    assert [line.split(": ")[2] for line in out] == [
        "spec.source.helm.valuesObject.grafana.grafana.ini.analytics.reporting_enabled",
        "spec.source.helm.valuesObject.grafana.grafana.ini.analytics.check_for_plugin_updates",
    ]
    assert "is True" in out[0]


def test_unreviewed_chart_version() -> None:
    app = application("traefik", chart="traefik", version="38.0.0", helm={"valuesObject": TRAEFIK_OFF})
    [line] = findings("privacy", obj(app, "apps/traefik.yaml"))
    assert "chart traefik 38.0.0: its telemetry/phone-home options were never reviewed" in line
    assert "spec.source.targetRevision" in line


def test_app_telemetry_env_on() -> None:
    doc = deployment("litellm", "ai-services", env=[{"name": "LITELLM_TELEMETRY", "value": "True"}])
    assert findings("privacy", obj(doc)) == [
        "platform/x/x.yaml: Deployment ai-services/litellm: spec.template.spec.containers[0].env[0].value: "
        "LITELLM_TELEMETRY='True' turns the app's telemetry on (must be False) [privacy]"
    ]
