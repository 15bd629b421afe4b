"""A Ready Node for the harness, labelled the way k3s labels a server node.

No kubelet runs: the Node is an API object whose status says ``Ready`` so the DaemonSet
controller considers it eligible and creates pods for it. Nothing refreshes its heartbeat (the
harness does not run the node-lifecycle controller, so nothing marks it NotReady either). Pods
bound to it stay ``Pending``: nothing runs them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shai.kube.harness import ControlPlane

__all__ = [
    "NODE_CAPACITY",
    "k3s_server_labels",
    "node_manifest",
    "node_status",
    "parse_labels",
    "register_node",
]

# What a node of the homelab's size reports (architecture: 120 GB RAM). Only the scheduler
# would read it; the harness runs none. It is there so the object looks like a real Node.
NODE_CAPACITY = {"cpu": "32", "memory": "125Gi", "pods": "110", "ephemeral-storage": "1Ti"}


def parse_labels(items: list[str], source: str = "node label") -> dict[str, str]:
    """``["key=value", ...]`` (k3s ``node-label`` syntax, the inventory's ``k3s_node_labels``)."""
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key:
            raise ValueError(f"{source} {item!r}: expected KEY=VALUE")
        labels[key] = value
    return labels


def k3s_server_labels(name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels a k3s server node carries (k3s's own plus the well-known kubelet labels).

    k3s sets ``node-role.kubernetes.io/control-plane`` and ``.../master`` on servers,
    ``node.kubernetes.io/instance-type=k3s``, and the kubelet the ``kubernetes.io/*`` ones;
    ``extra`` are the inventory's ``k3s_node_labels`` (``--node-label``).
    """
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/control-plane": "true",
        "node-role.kubernetes.io/master": "true",
        "node.kubernetes.io/instance-type": "k3s",
    }
    labels.update(extra or {})
    return labels


def node_manifest(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """The Node object (no taints: a single k3s server schedules workloads)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": dict(labels),
            "annotations": {"shai.vectorweight.com/test-double": "Node without a kubelet (kube harness)"},
        },
        "spec": {},
    }


def node_status(now: datetime.datetime | None = None) -> dict[str, Any]:
    """A ``status`` with ``Ready=True`` and the capacity above."""
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "status": {
            "capacity": NODE_CAPACITY,
            "allocatable": NODE_CAPACITY,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "shai kube harness: Ready without a kubelet (pods stay Pending)",
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "v1.37.2+k3s1",
                "kubeProxyVersion": "",
                "containerRuntimeVersion": "none://shai-harness",
                "kernelVersion": "",
                "osImage": "shai kube harness (no kubelet)",
                "bootID": "",
                "machineID": "",
                "systemUUID": "",
            },
        }
    }


def register_node(cp: ControlPlane, name: str, labels: dict[str, str]) -> None:
    """Create (or update) the Node ``name`` on ``cp``, Ready and untainted."""
    from kubernetes import client

    api = cp.api_client()
    nodes = cp.dynamic_client().resources.get(api_version="v1", kind="Node")
    nodes.server_side_apply(
        body=node_manifest(name, labels), field_manager="shai-harness", force_conflicts=True
    )
    core = client.CoreV1Api(api)
    core.patch_node_status(name, node_status())
    # The TaintNodesByCondition admission plugin taints a new Node not-ready:NoSchedule; the
    # node-lifecycle controller (not run here) lifts it once the Node is Ready. Do that.
    core.patch_node(name, {"spec": {"taints": None}})
