"""The Applications of a rendered GitOps tree, each with the objects it deploys.

``load_apps(tree, charts_dir, kube_version)`` returns ``AppRender``-shaped records (name, wave,
namespace, kind, objects[Obj(doc, file, app, rendered)], unverified) for:

* ``bootstrap``: what k3s applies from ``bootstrap/`` (the HelmCharts and the root Application);
* ``cluster-crds``: CRDs that k3s itself or the bootstrap charts install, from ``crds_dir``
  (``gitops/crds``), for every CRD no Application of the tree provides;
* every Application under ``apps/``: its own object (the root Application applies it) and what
  it deploys.

Expansion of the Applications (directory sources read from the tree, Helm sources rendered by
the real helm) is ``gitops_helm.expand_tree`` of the collection; this module only adds what an
apply needs around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shai.kube.apply_tree import WAVE_ANNOTATION, ApplyTreeError

__all__ = ["Obj", "PseudoApp", "load_apps"]


@dataclass
class Obj:
    """One object and where it came from (the shape of gitops_helm's Obj)."""

    doc: dict[str, Any]
    file: str
    app: str
    rendered: bool = False


@dataclass
class PseudoApp:
    """Objects k3s applies without an Application (the shape of gitops_helm's AppRender)."""

    name: str
    wave: int
    namespace: str
    kind: str
    objects: list[Obj] = field(default_factory=list)
    unverified: str = ""


def _docs(path: Path, tree: Path) -> list[tuple[dict[str, Any], str]]:
    rel = str(path.relative_to(tree))
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as exc:
        raise ApplyTreeError(f"{rel}: not YAML: {exc}") from exc
    return [(d, rel) for d in docs if isinstance(d, dict) and d.get("kind")]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))


def _directory_only(tree: Path) -> list[Any]:
    """TEMPORARY stand-in until gitops_helm.expand_tree lands: directory sources only."""
    out: list[Any] = []
    for path in _files(tree / "apps"):
        for doc, _rel in _docs(path, tree):
            if doc.get("kind") != "Application":
                continue
            spec = doc.get("spec") or {}
            src = spec.get("source") or {}
            name = str(doc["metadata"]["name"])
            app = PseudoApp(
                name, app_wave(doc), str((spec.get("destination") or {}).get("namespace", "")), ""
            )
            if "chart" in src:
                app.kind, app.unverified = "helm", "helm rendering not available here"
            else:
                app.kind = "directory"
                root = tree / str(src.get("path", ""))
                files = (
                    _files(root)
                    if (src.get("directory") or {}).get("recurse")
                    else sorted(root.glob("*.y*ml"))
                )
                for f in files:
                    app.objects += [Obj(d, rel, name) for d, rel in _docs(f, tree)]
            out.append(app)
    return out


def _expand(tree: Path, charts_dir: Path | None, kube_version: str) -> list[Any]:
    try:
        from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm
    except ImportError:
        return _directory_only(tree)

    charts = str(charts_dir) if charts_dir else None
    apps: list[Any] = gitops_helm.expand_tree(str(tree), charts, kube_version)
    return apps


def load_apps(tree: Path, charts_dir: Path | None, crds_dir: Path | None, kube_version: str) -> list[Any]:
    """Every Application of ``tree`` (expanded) plus the bootstrap and cluster-CRD pseudo-apps."""
    if not (tree / "apps").is_dir():
        raise ApplyTreeError(f"{tree}: not a rendered tree (no apps/ directory)")
    apps = _expand(tree, charts_dir, kube_version)
    if not apps:
        raise ApplyTreeError(f"{tree}: no Application under apps/")
    app_docs: dict[str, tuple[dict[str, Any], str]] = {}
    for path in _files(tree / "apps"):
        for doc, rel in _docs(path, tree):
            if doc.get("kind") == "Application":
                app_docs[str(doc["metadata"]["name"])] = (doc, rel)
    for app in apps:
        if not any(o.doc.get("kind") == "Application" for o in app.objects) and app.name in app_docs:
            doc, rel = app_docs[app.name]
            app.objects.insert(0, Obj(doc, rel, app.name))
    first_wave = min(a.wave for a in apps)
    extra: list[Any] = []
    boot = PseudoApp("bootstrap", first_wave - 1, "kube-system", "bootstrap")
    for path in _files(tree / "bootstrap") if (tree / "bootstrap").is_dir() else []:
        boot.objects += [Obj(d, rel, boot.name) for d, rel in _docs(path, tree)]
    if boot.objects:
        extra.append(boot)
    provided = {
        str(o.doc["metadata"]["name"])
        for a in apps
        for o in a.objects
        if o.doc.get("kind") == "CustomResourceDefinition"
    }
    if crds_dir is not None and crds_dir.is_dir():
        cluster = PseudoApp("cluster-crds", first_wave - 2, "kube-system", "crds")
        for path in _files(crds_dir):
            for d, _rel in _docs(path, crds_dir):
                if d.get("kind") == "CustomResourceDefinition" and d["metadata"]["name"] not in provided:
                    cluster.objects.append(Obj(d, str(path), cluster.name))
        if cluster.objects:
            extra.append(cluster)
    return extra + list(apps)


def app_wave(doc: dict[str, Any]) -> int:
    """The sync wave of an Application (0 when unset)."""
    raw = ((doc.get("metadata") or {}).get("annotations") or {}).get(WAVE_ANNOTATION, "0")
    try:
        return int(str(raw))
    except ValueError:
        return 0


def apply_rendered_tree(
    cp: Any,
    tree: Path,
    *,
    charts_dir: Path | None,
    crds_dir: Path | None,
    kube_version: str,
    settle_timeout: float = 120.0,
    progress: Any = None,
) -> list[Any]:
    """Expand ``tree`` and apply it to ``cp`` (a workloads-enabled ControlPlane); the results."""
    from shai.kube.apply_tree import apply_tree

    apps = load_apps(tree, charts_dir, crds_dir, kube_version)
    return apply_tree(cp, apps, settle_timeout=settle_timeout, progress=progress)
