# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""quota-at-max: at every HorizontalPodAutoscaler's maximum, the pods of a namespace fit its
ResourceQuota (ADR 0307: the architecture's quotas win, the limits give way).

Metrics-driven scaling cannot be observed on a control plane without metrics, so this is static:
per workload, the pod's requests/limits (LimitRange defaults filled in, init containers counted as
admission does) x its replicas at the maximum (the HPA's maxReplicas, else spec.replicas or
parallelism; a DaemonSet counts once per node and the homelab has one node), summed per
namespace and compared with each ResourceQuota's hard requests.cpu/limits.cpu/requests.memory/
limits.memory (cpu/memory = requests). In a namespace annotated linkerd.io/inject: enabled every
pod also gets the linkerd-proxy (and linkerd-init) Linkerd injects at admission, sized by the
linkerd-control-plane Application's proxy.resources (LimitRange defaults when it sets none).
Pods that controllers create at run time (CI runners) are not in the tree; their quota is their
ceiling by design.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, helm_values
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import app_sources
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._quantity import (
    RESOURCES,
    limitrange_defaults,
    parse,
    pod_amounts,
    show,
)


def max_replicas(ctx):
    """{(namespace, kind, name): maxReplicas} of the HPAs' targets."""
    out = {}
    for hpa in ctx.by_kind("HorizontalPodAutoscaler"):
        spec = hpa.doc.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if isinstance(spec.get("maxReplicas"), int):
            out[(hpa.namespace, ref.get("kind"), ref.get("name"))] = spec["maxReplicas"]
    return out


def injected_proxy(ctx):
    """{namespace: container} of the linkerd-proxy Linkerd injects at admission into every pod of
    a namespace annotated linkerd.io/inject: enabled, sized by the linkerd-control-plane
    Application's proxy.resources (its linkerd-init is sized the same); {} without Linkerd."""
    spec = None
    for app in ctx.applications.values():
        if any(s.get("chart") == "linkerd-control-plane" for _p, s in app_sources(app.doc)):
            spec = (helm_values(app.doc).get("proxy") or {}).get("resources") or {}
    if spec is None:
        return {}
    resources = {"requests": {}, "limits": {}}
    for res in ("cpu", "memory"):
        for key, section in (("request", "requests"), ("limit", "limits")):
            value = (spec.get(res) or {}).get(key)
            if value is not None:
                resources[section][res] = value
    proxy = {"name": "linkerd-proxy", "resources": resources}
    out = {}
    for ns in ctx.by_kind("Namespace"):
        if (ns.meta.get("annotations") or {}).get("linkerd.io/inject") == "enabled":
            out[ns.name] = proxy
    return out


def replicas_at_max(obj, hpas):
    spec = obj.doc.get("spec") or {}
    key = (obj.namespace, obj.kind, obj.name)
    if key in hpas:
        return hpas[key], "HPA max"
    if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        replicas = spec.get("replicas", 1)
        return (replicas if isinstance(replicas, int) else 1), "replicas"
    if obj.kind == "Job":
        return spec.get("parallelism", 1) or 1, "parallelism"
    if obj.kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        return job.get("parallelism", 1) or 1, "parallelism"
    return 1, "one node" if obj.kind == "DaemonSet" else "pod"


class QuotaAtMax(Rule):
    id = "quota-at-max"
    description = "requests/limits x HPA max replicas fit each namespace's ResourceQuota"

    def check(self, ctx):
        defaults = limitrange_defaults(ctx)
        hpas = max_replicas(ctx)
        proxies = injected_proxy(ctx)
        usage = {}
        parts = {}
        for obj in ctx.workloads():
            pod = ctx.pod_spec(obj)
            if pod is None:
                continue
            count, why = replicas_at_max(obj, hpas)
            if obj.namespace in proxies and not (pod.get("hostNetwork") or obj.kind in ("Job", "CronJob")):
                proxy = proxies[obj.namespace]  # + the proxy (and linkerd-init) Linkerd injects
                pod = dict(pod, containers=list(pod.get("containers") or []) + [proxy],
                           initContainers=list(pod.get("initContainers") or []) + [proxy])
            amounts = pod_amounts(pod, defaults.get(obj.namespace, {}))
            total = usage.setdefault(obj.namespace, dict((r, 0) for r in RESOURCES))
            for r in RESOURCES:
                total[r] += amounts[r] * count
                label = "%s %s %dx%s (%s)" % (obj.kind, obj.name, count, show(r, amounts[r]), why)
                parts.setdefault((obj.namespace, r), []).append((amounts[r] * count, label))
        for quota in ctx.by_kind("ResourceQuota"):
            hard = (quota.doc.get("spec") or {}).get("hard") or {}
            total = usage.get(quota.namespace)
            if not total:
                continue
            for key, value in sorted(hard.items()):
                resource = {"cpu": "requests.cpu", "memory": "requests.memory"}.get(key, key)
                limit = parse(value)
                if resource not in RESOURCES or limit is None or total[resource] <= limit:
                    continue
                biggest = sorted(parts[(quota.namespace, resource)], key=lambda p: -p[0])[:4]
                yield quota.finding(
                    self.id, "spec.hard[%s]" % key,
                    "at every HPA's maximum the pods of namespace %s need %s %s, over the quota's %s (largest: %s); "
                    "ADR 0307: lower the limits or the replicas, the quota stays"
                    % (quota.namespace, show(resource, total[resource]), resource, value,
                       "; ".join(p[1] for p in biggest)),
                )


RULE = QuotaAtMax()
