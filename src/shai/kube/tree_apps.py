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

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import (
    Obj,
    load_tree_objects,
    tree_objs,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import (
    app_sources,
    app_wave,
    is_application,
)

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


def _tree_objs(root: Path) -> list[Any]:
    pairs, findings = load_tree_objects(str(root))
    if findings:
        raise ApplyTreeError("; ".join(str(f) for f in findings))
    objs: list[Any] = tree_objs(pairs)
    return objs


def _directory_only(objs: list[Any]) -> list[Any]:
    """TEMPORARY stand-in until gitops_helm.expand_tree lands: directory sources only."""
    out: list[Any] = []
    for app in objs:
        if not is_application(app.doc) or not app.file.startswith("apps/"):
            continue
        dest = str(((app.doc.get("spec") or {}).get("destination") or {}).get("namespace", ""))
        chart = any(src.get("chart") for _p, src in app_sources(app.doc))
        out.append(
            PseudoApp(
                str(app.name),
                app_wave(app.doc) or 0,
                dest,
                "helm" if chart else "directory",
                [o for o in objs if o.app == app.name],
                "helm rendering not available here" if chart else "",
            )
        )
    return out


def _expand(tree: Path, objs: list[Any], charts_dir: Path | None, kube_version: str) -> list[Any]:
    try:
        from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm
    except ImportError:
        return _directory_only(objs)
    charts = str(charts_dir) if charts_dir else None
    apps: list[Any] = gitops_helm.expand_tree(str(tree), charts, kube_version)
    return apps


def load_apps(tree: Path, charts_dir: Path | None, crds_dir: Path | None, kube_version: str) -> list[Any]:
    """Every Application of ``tree`` (expanded) plus the bootstrap and cluster-CRD pseudo-apps."""
    if not (tree / "apps").is_dir():
        raise ApplyTreeError(f"{tree}: not a rendered tree (no apps/ directory)")
    objs = _tree_objs(tree)
    apps = _expand(tree, objs, charts_dir, kube_version)
    if not apps:
        raise ApplyTreeError(f"{tree}: no Application under apps/")
    app_docs = {o.name: o for o in objs if is_application(o.doc) and o.file.startswith("apps/")}
    for app in apps:
        if app.name in app_docs and not any(o.doc is app_docs[app.name].doc for o in app.objects):
            app.objects.insert(0, app_docs[app.name])
    first_wave = min(a.wave for a in apps)
    extra: list[Any] = []
    boot = [o for o in objs if o.app is None]
    if boot:
        extra.append(PseudoApp("bootstrap", first_wave - 1, "kube-system", "bootstrap", boot))
    provided = {o.name for a in apps for o in a.objects if o.kind == "CustomResourceDefinition"}
    if crds_dir is not None and crds_dir.is_dir():
        crds = [
            Obj(o.doc, f"{crds_dir.name}/{o.file}", "cluster-crds")
            for o in _tree_objs(crds_dir)
            if o.kind == "CustomResourceDefinition" and o.name not in provided
        ]
        if crds:
            extra.append(PseudoApp("cluster-crds", first_wave - 2, "kube-system", "crds", crds))
    return extra + list(apps)


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
