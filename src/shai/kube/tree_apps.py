"""The Applications of a rendered GitOps tree, each with the objects it deploys.

``load_apps(tree, charts_dir, kube_version)`` returns ``AppRender``-shaped records (name, wave,
namespace, kind, objects[Obj(doc, file, app, rendered)], unverified) for:

* ``bootstrap``: what k3s applies from ``bootstrap/`` (the HelmCharts and the root Application);
* ``cluster-crds``: CRDs that k3s itself or the bootstrap charts install, from ``crds_dir``
  (``gitops/crds``), for every CRD no Application of the tree provides;
* every Application under ``apps/``: its own object (the root Application applies it) and what
  it deploys.

Objects are the validate rules' ``Obj(doc, file, app, rendered)``. Expansion of the
Applications (directory sources read from the tree, Helm sources rendered by the real helm) is
``gitops_helm.expand_tree`` of the collection; this module only adds what an apply needs around
it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import (
    Obj,
    load_tree_objects,
    tree_objs,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import is_application

from shai.kube.apply_tree import ApplyTreeError

__all__ = ["PseudoApp", "apply_rendered_tree", "load_apps", "static_findings"]


@dataclass
class PseudoApp:
    """Objects applied as one unit (the shape of gitops_helm's AppRender)."""

    name: str
    wave: int
    namespace: str
    kind: str
    objects: list[Any] = field(default_factory=list)
    unverified: str = ""
    error: str = ""


def _tree_objs(root: Path) -> list[Any]:
    pairs, findings = load_tree_objects(str(root))
    if findings:
        raise ApplyTreeError("; ".join(str(f) for f in findings))
    objs: list[Any] = tree_objs(pairs)
    return objs


def load_apps(tree: Path, charts_dir: Path | None, crds_dir: Path | None, kube_version: str) -> list[Any]:
    """Every Application of ``tree`` (expanded) plus the bootstrap and cluster-CRD pseudo-apps.

    The Application objects that the root Application deploys move into the Application they
    describe (applied in its wave, as the root's sync-wave ordering does); the root Application
    and what else k3s applies from ``bootstrap/`` form ``bootstrap``, before every wave.
    """
    if not (tree / "apps").is_dir():
        raise ApplyTreeError(f"{tree}: not a rendered tree (no apps/ directory)")
    try:
        apps: list[Any] = gitops_helm.expand_tree(
            str(tree), str(charts_dir) if charts_dir else None, kube_version, crd_dir=crds_dir
        )
    except GitopsError as exc:
        raise ApplyTreeError(str(exc)) from exc
    names = {a.name for a in apps}
    app_objs: dict[str, Any] = {}
    for app in apps:
        keep = []
        for o in app.objects:
            if is_application(o.doc) and o.name in names and not o.rendered:
                app_objs[o.name] = o
            else:
                keep.append(o)
        app.objects = keep
    objs = _tree_objs(tree)
    for o in objs:
        if is_application(o.doc) and o.name in names and o.app is None:
            app_objs.setdefault(o.name, o)
    boot_apps = {a.name for a in apps if str(getattr(a, "file", "")).startswith("bootstrap/")}
    first_wave = min((a.wave for a in apps if a.name not in boot_apps), default=0)
    boot = PseudoApp(
        "bootstrap", first_wave - 1, "kube-system", "bootstrap", [o for o in objs if o.app is None]
    )
    for app in apps:
        if app.name in boot_apps:
            app.wave = boot.wave  # the root Application: k3s applies it at bootstrap
        elif app.name in app_objs:
            app.objects.insert(0, app_objs[app.name])
    apps = [a for a in apps if a.name not in boot_apps or a.objects or a.unverified or a.error]
    extra: list[Any] = [boot] if boot.objects else []
    provided = {o.name for a in apps for o in a.objects if o.kind == "CustomResourceDefinition"}
    if crds_dir is not None and crds_dir.is_dir():
        crds = [
            Obj(o.doc, f"{crds_dir.name}/{o.file}", "cluster-crds")
            for o in _tree_objs(crds_dir)
            if o.kind == "CustomResourceDefinition" and o.name not in provided
        ]
        if crds:
            extra.append(PseudoApp("cluster-crds", first_wave - 2, "kube-system", "crds", crds))
    if not apps:
        raise ApplyTreeError(f"{tree}: no Application under apps/")
    return extra + apps


def static_findings(apps: list[Any], kube_version: str) -> list[str]:
    """What admission cannot observe: the validate rule ``quota-at-max`` on the same objects."""
    from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import (
        build_context,
        quota_at_max,
    )

    ctx = build_context([o for a in apps for o in a.objects], kube_version)
    return [str(f) for f in quota_at_max.RULE.check(ctx)]


def apply_rendered_tree(
    cp: Any,
    tree: Path,
    *,
    charts_dir: Path | None,
    crds_dir: Path | None,
    kube_version: str,
    settle_timeout: float = 120.0,
    progress: Any = None,
) -> tuple[list[Any], list[str]]:
    """Expand ``tree``, apply it to ``cp`` (a workloads-enabled ControlPlane).

    Returns the per-Application results and the static ``quota-at-max`` findings.
    """
    from shai.kube.apply_tree import apply_tree

    apps = load_apps(tree, charts_dir, crds_dir, kube_version)
    static = static_findings(apps, kube_version)
    return apply_tree(cp, apps, settle_timeout=settle_timeout, progress=progress), static
