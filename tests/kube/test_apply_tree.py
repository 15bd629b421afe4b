"""The homelab tree applied wave by wave to a real control plane with real admission.

One control plane (``kube_platform``: k3s's admission plugins, the workload controllers, a Ready
Node ``homelab``) for the whole module; the homelab tree is rendered, expanded (chart sources
from ``$SHAI_SHARED_CHARTS``), applied once, and every test reads that one result. The report
table is printed into the test output (``test_report``).

Real defects of the tree that make a workload's Pods fail admission are the gitops owners' to
fix; until then they xfail here *by name* (``KNOWN_DEFECTS``), never as a blanket skip.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import Obj
from rich.console import Console

from shai.gitops import core
from shai.kube.apply_report import app_findings, as_dict, failed, print_report
from shai.kube.apply_tree import AppResult, apply_tree
from shai.kube.harness import ControlPlane
from shai.kube.tree_apps import PseudoApp, apply_rendered_tree

pytestmark = pytest.mark.kube

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gitops"))
from gitops_sealed import add_sealed_secrets  # noqa: E402  (tests/gitops helper, one implementation)

REPO = core.repo_root()
CHARTS = Path(os.environ.get("SHAI_SHARED_CHARTS", "/work/shared/charts"))

# Defects of the tree (issue 13 §5, the gitops owners' to fix) that this test finds: each xfails
# by name while it is there ("Kind namespace/name" -> the defect); once fixed, the test warns to
# remove its line. Found and fixed so far: linkerd/monitoring quotas below the charts' limits,
# Gateway API CRDs in both linkerd-crds and traefik, Linkerd proxy and Grafana init requests
# under the LimitRange minimum.
KNOWN_DEFECTS: dict[str, str] = {}
# "application: object" -> the defect that makes the API server refuse it
KNOWN_APPLY_DEFECTS: dict[str, str] = {}


def _require(what: str) -> None:
    if os.environ.get("SHAI_REQUIRE_PEERS"):
        pytest.fail(f"SHAI_REQUIRE_PEERS is set but {what}", pytrace=False)
    pytest.skip(what)


def _xfail_known(found: dict[str, str], known: dict[str, str]) -> None:
    """Fail on anything not in ``known``; warn about known entries that no longer happen; xfail."""
    fixed = sorted(set(known) - set(found))
    if fixed:
        warnings.warn(f"fixed, remove from the known defects of {__name__}: {fixed}", stacklevel=2)
    unknown = [msg for key, msg in found.items() if key not in known]
    assert not unknown, "\n".join(unknown)
    if found:
        pytest.xfail("; ".join(f"{key}: {known[key]}" for key in sorted(found)))


@pytest.fixture(scope="module")
def homelab_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = core.Layout.default(REPO)
    values = core.load_values(layout, core.inventory_vars(REPO / "inventories" / "homelab"))
    out = tmp_path_factory.mktemp("homelab") / "tree"
    core.write(core.render(layout, values), out)
    add_sealed_secrets(out)  # the catalog's SealedSecrets, as the gitops tests' scratch trees
    return out


@pytest.fixture(scope="module")
def applied_with_static(kube_platform: ControlPlane, homelab_tree: Path) -> tuple[list[AppResult], list[str]]:
    if not (CHARTS / "index.json").is_file():
        _require(f"no chart sources at {CHARTS} (set SHAI_SHARED_CHARTS)")
    try:
        gitops_helm.find_helm()
    except GitopsError as exc:
        _require(str(exc))
    return apply_rendered_tree(
        kube_platform,
        homelab_tree,
        charts_dir=CHARTS,
        crds_dir=REPO / "gitops" / "crds",
        kube_version=core.kube_pin(),
    )


@pytest.fixture(scope="module")
def applied(applied_with_static: tuple[list[AppResult], list[str]]) -> list[AppResult]:
    return applied_with_static[0]


def test_report(
    applied_with_static: tuple[list[AppResult], list[str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Print the table into the test output and keep the JSON next to it."""
    applied, static = applied_with_static
    (tmp_path / "apply-tree.json").write_text(json.dumps(as_dict(applied, static_findings=static), indent=2))
    with capsys.disabled():
        print()
        print_report(applied, Console(width=160, force_terminal=False), static)
        print(f"JSON report: {tmp_path / 'apply-tree.json'}")
    assert any(a.workloads for a in applied), "nothing was checked: no workload in the tree"


def test_every_object_applied(applied: list[AppResult]) -> None:
    found = {
        f"{a.name}: {o.ref}": f"{a.name}: {o.ref} ({o.file}): {o.message}"
        for a in applied
        for o in a.outcomes
        if o.status == "failed"
    }
    found.update({f"{a.name}: helm template": f"{a.name}: {a.error}" for a in applied if a.error})
    _xfail_known(found, KNOWN_APPLY_DEFECTS)


def test_every_workload_admitted(applied: list[AppResult]) -> None:
    found = {w.ref: "\n".join(w.findings) for a in applied for w in a.workloads if not w.ok}
    _xfail_known(found, KNOWN_DEFECTS)


def test_only_charts_without_a_source_are_unverified(applied: list[AppResult]) -> None:
    report = as_dict(applied)
    unverified = {a.name: a for a in applied if a.unverified}
    assert sorted(report["unverified"]) == sorted(unverified)
    for name, a in unverified.items():
        assert a.kind == "chart" and "no chart source" in a.unverified, f"{name}: {a.unverified}"
    rendered = [a.name for a in applied if a.kind == "chart" and not a.unverified]
    assert len(rendered) >= 14, f"charts rendered with the real helm: {rendered}"


def test_pods_pending_is_said(applied: list[AppResult]) -> None:
    assert "Pending" in as_dict(applied)["pods_note"]


# ---------------------------------------------------------------------------------- broken input
def _doc(kind: str, name: str, ns: str, spec: dict[str, Any], api: str = "apps/v1") -> Obj:
    return Obj(
        {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}, "x", "t"
    )


def _pod_template(**container: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "t"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1", **container}]},
    }


@pytest.fixture(scope="module")
def broken(kube_platform: ControlPlane) -> Iterator[list[AppResult]]:
    """A namespace with a LimitRange whose default limit is below a container's request."""
    ns = "t-apply-tree-broken"
    sel = {"matchLabels": {"app": "t"}}
    objects = [
        Obj({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, "ns.yaml", "t"),
        _doc(
            "LimitRange",
            "limits",
            ns,
            {
                "limits": [
                    {"type": "Container", "default": {"memory": "1Gi"}, "defaultRequest": {"memory": "64Mi"}}
                ]
            },
            api="v1",
        ),
        _doc(
            "Deployment",
            "too-big",
            ns,
            {"selector": sel, "template": _pod_template(resources={"requests": {"memory": "4Gi"}})},
        ),
        _doc("DaemonSet", "per-node", ns, {"selector": sel, "template": _pod_template()}),
        _doc(
            "CronJob",
            "nightly",
            ns,
            {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            **_pod_template(),
                            "spec": {**_pod_template()["spec"], "restartPolicy": "OnFailure"},
                        }
                    }
                },
            },
            api="batch/v1",
        ),
    ]
    app = PseudoApp("t", 0, ns, "directory", objects)
    results = apply_tree(kube_platform, [app], settle_timeout=60, quiet=3)
    yield results
    kube_platform.kubectl("delete", "namespace", ns, "--wait=false")


def _workload(results: list[AppResult], ref: str) -> Any:
    return next(w for a in results for w in a.workloads if w.ref == ref)


def test_limitrange_rejection_is_a_finding_naming_the_workload(broken: list[AppResult]) -> None:
    w = _workload(broken, "Deployment t-apply-tree-broken/too-big")
    assert not w.ok
    assert w.findings and w.findings[0].startswith("Deployment t-apply-tree-broken/too-big: FailedCreate:")
    assert "must be less than or equal to memory limit" in w.findings[0]
    assert failed(broken)
    assert any("too-big" in line for line in app_findings(broken[0]))


def test_daemonset_gets_a_pod_on_the_registered_node(broken: list[AppResult]) -> None:
    w = _workload(broken, "DaemonSet t-apply-tree-broken/per-node")
    assert (w.expected, w.admitted, w.ok) == (1, 1, True)


def test_cronjob_is_checked_through_a_job_created_from_it(broken: list[AppResult]) -> None:
    w = _workload(broken, "CronJob t-apply-tree-broken/nightly")
    assert w.ok and "created from it" in w.note


# ---------------------------------------------------------------------------------- the planes
def _argv(cp: ControlPlane, name: str) -> list[str]:
    return next(p.argv for p in cp.processes if p.name == name)


def test_default_plane_stays_minimal(kube_apiserver: ControlPlane) -> None:
    assert "--controllers=namespace,serviceaccount,serviceaccount-token,garbagecollector" in _argv(
        kube_apiserver, "kube-controller-manager"
    )
    assert not any(
        a.startswith("--enable-admission-plugins") for a in _argv(kube_apiserver, "kube-apiserver")
    )


def test_platform_plane_is_k3s_like(kube_platform: ControlPlane) -> None:
    assert "--enable-admission-plugins=NodeRestriction" in _argv(kube_platform, "kube-apiserver")
    controllers = next(
        a for a in _argv(kube_platform, "kube-controller-manager") if a.startswith("--controllers=")
    )
    for name in ("deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "resourcequota"):
        assert name in controllers.split("=", 1)[1].split(",")
    node = json.loads(kube_platform.kubectl("get", "node", "homelab", "-o", "json").stdout)
    labels = node["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == "true"
    assert labels["shai.vectorweight.com/role"] == "homelab"  # the inventory's k3s_node_labels
    assert not node["spec"].get("taints")
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
