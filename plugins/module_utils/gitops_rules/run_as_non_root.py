# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""run-as-non-root: runAsNonRoot without a numeric runAsUser is refused by the kubelet unless the
image's USER is numeric and not 0 — which the API server cannot see (its admission passes, the
pod then fails with CreateContainerConfigError). So every container that runs with
runAsNonRoot: true must get a numeric runAsUser (pod or container level), unless its image is on
IMAGES_WITH_NUMERIC_USER below: images known (from their Dockerfiles, at the pinned tags the tree
and the charts use) to set a numeric non-root USER. Documented in docs/gitops.md.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule

# Image patterns (fnmatch, without tag) whose image config sets a numeric non-root USER.
IMAGES_WITH_NUMERIC_USER = (
    "quay.io/argoproj/argocd",          # USER 999
    "quay.io/jetstack/cert-manager-*",  # USER 1000 (distroless nonroot)
    "docker.io/bitnami/sealed-secrets-controller",  # USER 1001
    "cr.l5d.io/linkerd/*",              # USER 2102 / 65534
    "ghcr.io/kyverno/*",                # USER 65532 (distroless nonroot)
    "reg.kyverno.io/kyverno/*",         # USER 65532
    "docker.io/traefik",                # USER 65532 in the chart's podSecurityContext anyway
    "quay.io/prometheus/*",             # USER nobody -> 65534 numeric in the image config
    "quay.io/prometheus-operator/*",    # USER 65534
    "registry.k8s.io/kube-state-metrics/*",  # USER 65534
    "registry.k8s.io/autoscaling/vpa-*",     # USER 65534
    "ghcr.io/actions/*",                # USER 1001 (runner)
)


def _image_name(image):
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    if name.count("/") == 0:
        name = "docker.io/library/" + name
    elif "." not in name.split("/", 1)[0] and ":" not in name.split("/", 1)[0]:
        name = "docker.io/" + name
    return name


def allow_listed(image):
    name = _image_name(str(image or ""))
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IMAGES_WITH_NUMERIC_USER)


class RunAsNonRoot(Rule):
    id = "run-as-non-root"
    description = "runAsNonRoot comes with a numeric runAsUser (or an allow-listed image)"

    def check(self, ctx):
        for obj in ctx.workloads():
            pod = ctx.pod_spec(obj) or {}
            pod_sc = pod.get("securityContext") or {}
            for prefix, container in ctx.containers(obj):
                sc = container.get("securityContext") or {}
                non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
                user = sc.get("runAsUser", pod_sc.get("runAsUser"))
                if non_root is not True or isinstance(user, int) or allow_listed(container.get("image")):
                    continue
                yield obj.finding(
                    self.id, prefix + ".securityContext.runAsUser",
                    "container %s (image %s) runs with runAsNonRoot but no numeric runAsUser: the kubelet refuses "
                    "it unless the image's USER is numeric (set runAsUser, or allow-list the image in "
                    "gitops_rules/run_as_non_root.py with its source)" % (container.get("name", "?"), container.get("image")),
                )


RULE = RunAsNonRoot()
