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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import Obj
from rich.console import Console

from shai.gitops import core
from shai.kube.apply_report import app_findings, as_dict, failed, print_report
from shai.kube.apply_tree import AppResult, apply_tree
from shai.kube.harness import ControlPlane
from shai.kube.tree_apps import PseudoApp, apply_rendered_tree

pytestmark = pytest.mark.kube

REPO = core.repo_root()
CHARTS = Path(os.environ.get("SHAI_SHARED_CHARTS", "/work/shared/charts"))

# workload ref ("Kind namespace/name") -> the named defect (issue 13) that keeps its Pods out.
KNOWN_DEFECTS: dict[str, str] = {}


@pytest.fixture(scope="module")
def homelab_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = core.Layout.default(REPO)
    values = core.load_values(layout, core.inventory_vars(REPO / "inventories" / "homelab"))
    out = tmp_path_factory.mktemp("homelab") / "tree"
    core.write(core.render(layout, values), out)
    return out


@pytest.fixture(scope="module")
def applied_with_static(kube_platform: ControlPlane, homelab_tree: Path) -> tuple[list[AppResult], list[str]]:
    charts = CHARTS if CHARTS.is_dir() else None
    return apply_rendered_tree(
        kube_platform,
        homelab_tree,
        charts_dir=charts,
        crds_dir=REPO / "gitops" / "crds",
        kube_version="1.37",
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
    problems = [
        f"{a.name}: {o.ref}: {o.message}" for a in applied for o in a.outcomes if o.status == "failed"
    ]
    assert not problems, "\n".join(problems)


def test_every_workload_admitted(applied: list[AppResult]) -> None:
    not_admitted = {w.ref: w for a in applied for w in a.workloads if not w.ok}
    fixed = [ref for ref in KNOWN_DEFECTS if ref not in not_admitted]
    assert not fixed, f"known defects no longer fail (remove them from KNOWN_DEFECTS): {fixed}"
    unknown = [line for ref, w in not_admitted.items() if ref not in KNOWN_DEFECTS for line in w.findings]
    assert not unknown, "\n".join(unknown)
    if not_admitted:
        pytest.xfail("; ".join(f"{ref}: {KNOWN_DEFECTS[ref]}" for ref in not_admitted))


def test_unverified_apps_are_named_and_hold_no_objects_of_a_chart(applied: list[AppResult]) -> None:
    report = as_dict(applied)
    for a in applied:
        if a.unverified:
            assert a.name in report["unverified"]
            assert a.kind == "helm", f"{a.name}: only a Helm Application can be unverified"


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
