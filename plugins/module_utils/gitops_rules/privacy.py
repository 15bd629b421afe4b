# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""privacy: no telemetry, usage reporting or upgrade checks (the architecture: no data leaves).

OPTIONS lists, per chart and pinned version, every phone-home option found in the chart source
(../shared/charts: values.yaml grepped for telemetry/usage/reporting/analytics/check*update/
upgrade/heartbeat, then the templates read; docs/gitops.md "Privacy" lists them). Each must be
set in the Application's Helm values to the value given (a chart default that phones home is a
finding). A chart version not in OPTIONS is a finding too: its options were never reviewed.
Environment variables of the tree's own workloads that turn telemetry ON are findings as well.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, helm_values
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_sources
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules.pinned_charts import UNPINNED_CHART

# chart -> {version: [(values path, required value, what it does)]}; [] = reviewed, nothing to set.
OPTIONS = {
    "traefik": {"37.1.1": [
        ("global.checkNewVersion", False, "periodic version check against Traefik's servers"),
        ("global.sendAnonymousUsage", False, "anonymous usage statistics"),
    ]},
    "longhorn": {"1.9.1": [
        ("defaultSettings.allowCollectingLonghornUsageMetrics", False, "usage metrics to the upgrade responder"),
        ("defaultSettings.upgradeChecker", False, "periodic upgrade check (longhorn-upgrade-responder.rancher.io)"),
        ("preUpgradeChecker.upgradeVersionCheck", False, "--upgrade-version-check of the manager"),
    ]},
    "linkerd-control-plane": {"2025.1.2": [
        ("disableHeartBeat", True, "the heartbeat CronJob (reports to versioncheck.linkerd.io)"),
    ]},
    "kube-prometheus-stack": {"77.5.0": [
        ("grafana.grafana\\.ini.analytics.reporting_enabled", False, "Grafana usage reporting (stats.grafana.org)"),
        ("grafana.grafana\\.ini.analytics.check_for_updates", False, "Grafana update check (grafana.com)"),
        ("grafana.grafana\\.ini.analytics.check_for_plugin_updates", False, "Grafana plugin update check"),
    ]},
    # Reviewed: no phone-home option in the chart at this version.
    "sealed-secrets": {"2.16.1": []},
    "argo-cd": {"8.1.3": []},
    "cert-manager": {"v1.18.2": []},
    "vpa": {"4.7.2": []},
    "linkerd-crds": {"2025.1.2": []},
    "linkerd-viz": {"2025.1.2": []},
    "kyverno": {"3.5.1": []},
    "alertmanager": {"1.26.0": []},
    "gha-runner-scale-set-controller": {"0.12.1": []},
    "gha-runner-scale-set": {"0.12.1": []},
    # Chart sources not available here (reported unverified): GitLab's documented Service Ping
    # switches; gitlab-runner has none documented.
    "gitlab": {"9.3.2": [
        ("global.appConfig.enableUsagePing", False, "Service Ping (usage data to GitLab Inc.)"),
        ("global.appConfig.enableSeatLink", False, "Seat Link (license data to GitLab Inc.)"),
    ]},
    "gitlab-runner": {"0.80.0": []},
}

# Environment variables of workloads that must not be truthy (telemetry of the apps themselves).
TELEMETRY_ENV_ON = {
    "LITELLM_TELEMETRY": "False",
    "ANONYMIZED_TELEMETRY": "false",
    "N8N_DIAGNOSTICS_ENABLED": "false",
    "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
}


def _split(path):
    """a.b\\.c.d -> [a, b.c, d]."""
    parts, cur, i = [], "", 0
    while i < len(path):
        if path[i] == "\\" and i + 1 < len(path):
            cur += path[i + 1]
            i += 2
            continue
        if path[i] == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += path[i]
        i += 1
    parts.append(cur)
    return parts


def lookup(values, path):
    node = values
    for part in _split(path):
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


class Privacy(Rule):
    id = "privacy"
    description = "every chart's telemetry / usage-reporting / upgrade-check option is off"

    def check(self, ctx):
        for name in sorted(ctx.applications):
            app = ctx.applications[name]
            for prefix, source in app_sources(app.doc):
                chart = source.get("chart")
                if not chart:
                    continue
                version = str(source.get("targetRevision", ""))
                if UNPINNED_CHART.search(version):
                    continue  # pinned-charts reports it; no version, no review
                known = OPTIONS.get(chart, {})
                if version not in known:
                    yield app.finding(self.id, prefix + ".targetRevision",
                                      "chart %s %s: its telemetry/phone-home options were never reviewed (add them "
                                      "to gitops_rules/privacy.py from the chart source; reviewed: %s)"
                                      % (chart, version, ", ".join(sorted(known)) or "no version"))
                    continue
                values = helm_values(app.doc)
                for path, wanted, what in known[version]:
                    value, found = lookup(values, path)
                    if not found or value != wanted:
                        yield app.finding(self.id, prefix + ".helm.valuesObject." + path.replace("\\", ""),
                                          "chart %s %s: %s must be %s (%s), is %s"
                                          % (chart, version, path.replace("\\", ""), str(wanted).lower(), what,
                                             "unset (chart default)" if not found else repr(value)))
        for obj in ctx.workloads():
            for prefix, container in ctx.containers(obj):
                for i, env in enumerate(container.get("env") or []):
                    want = TELEMETRY_ENV_ON.get(env.get("name"))
                    if want is not None and "value" in env and str(env["value"]).lower() != want.lower():
                        yield obj.finding(self.id, "%s.env[%d].value" % (prefix, i),
                                          "%s=%r turns the app's telemetry on (must be %s)" % (env["name"], env["value"], want))


RULE = Privacy()
