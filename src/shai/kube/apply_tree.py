"""Apply a rendered GitOps tree to a real control plane, sync wave by sync wave, as ArgoCD would.

``apply_tree(cp, apps)`` takes the expanded Applications (:func:`load_apps`: every Application
of the tree with the objects it deploys) and server-side applies them (field manager ``shai``):

1. every ``CustomResourceDefinition`` of the whole tree, then waits until each is Established;
2. every ``Namespace``;
3. per sync wave (the Application's ``argocd.argoproj.io/sync-wave``), per Application: the
   Application object itself, then its objects ordered as ArgoCD orders a sync: hook phase
   (PreSync, Sync, PostSync), the object's own sync-wave, kind (Helm's install order), name;
4. objects that failed are retried once after the last wave (ArgoCD's sync retry);
5. the controllers turn workloads into Pods: :mod:`shai.kube.pod_admission` checks them;
6. last, the admission webhook configurations and aggregated APIServices (their backends never
   run here: no kubelet) - see :data:`DEFERRED_KINDS` and ADR 0104.

Nothing is dropped silently: an object that is not applied is listed with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

if TYPE_CHECKING:
    from shai.kube.harness import ControlPlane

__all__ = [
    "DEFERRED_KINDS",
    "FIELD_MANAGER",
    "AppResult",
    "ApplyTreeError",
    "Outcome",
    "apply_tree",
    "plan",
]

FIELD_MANAGER = "shai"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"

# Their backends (webhook/aggregated-API Services) are Pods that never run without a kubelet;
# a `failurePolicy: Fail` webhook would reject every later request it matches. Applied after
# the pod admission check, so they are still applied (and validated) by the real API server.
DEFERRED_KINDS = {
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): "webhook backend does not run here",
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): "webhook backend does not run here",
    ("apiregistration.k8s.io", "APIService"): "aggregated API backend does not run here",
}

# Helm's install order (pkg/release/util/kind_sorter.go), which ArgoCD's sync uses too.
KIND_ORDER = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
]
_HOOK_PHASE = {"PreSync": 0, "Sync": 1, "PostSync": 2}
_HELM_HOOK_PHASE = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}


class ApplyTreeError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """The tree cannot be applied at all (nothing to apply, control plane unusable)."""


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def obj_ref(doc: dict[str, Any]) -> str:
    """``Kind namespace/name`` (``Kind name`` for cluster-scoped objects)."""
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def _annotations(doc: dict[str, Any]) -> dict[str, str]:
    return dict((doc.get("metadata") or {}).get("annotations") or {})


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def hook_phase(doc: dict[str, Any]) -> str | None:
    """ArgoCD's phase of an object: Sync, PreSync, PostSync, or None for a hook ArgoCD skips.

    Helm hooks map as ArgoCD maps them (pre-* -> PreSync, post-* -> PostSync); ``test`` and
    delete hooks are not run by a sync.
    """
    ann = _annotations(doc)
    if HOOK_ANNOTATION in ann:
        phases = [p.strip() for p in ann[HOOK_ANNOTATION].split(",")]
        known = [p for p in phases if p in _HOOK_PHASE]
        return known[0] if known else None
    if HELM_HOOK_ANNOTATION in ann:
        hooks = [h.strip() for h in ann[HELM_HOOK_ANNOTATION].split(",")]
        mapped = [_HELM_HOOK_PHASE[h] for h in hooks if h in _HELM_HOOK_PHASE]
        return mapped[0] if mapped else None
    return "Sync"


def sync_key(doc: dict[str, Any]) -> tuple[int, int, int, str]:
    """Sort key of an object inside one Application's sync."""
    kind = str(doc.get("kind"))
    order = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    phase = _HOOK_PHASE.get(hook_phase(doc) or "Sync", 1)
    return (phase, _int(_annotations(doc).get(WAVE_ANNOTATION)), order, obj_ref(doc))


@dataclass
class Outcome:
    """What happened to one object."""

    ref: str
    file: str
    status: str  # applied | failed | deferred | skipped
    message: str = ""
    phase: str = ""  # crds | namespaces | wave N | retry | deferred
    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""

    @classmethod
    def of(cls, doc: dict[str, Any], file: str, status: str, message: str, phase: str) -> Outcome:
        meta = doc.get("metadata") or {}
        return cls(
            obj_ref(doc),
            file,
            status,
            message,
            phase,
            str(doc.get("apiVersion", "")),
            str(doc.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
        )


@dataclass
class AppResult:
    """One Application's part of the report (filled by apply_tree and pod_admission)."""

    name: str
    wave: int
    namespace: str
    kind: str
    unverified: str
    rendered: int
    error: str = ""  # helm template failed: nothing of this Application was applied
    outcomes: list[Outcome] = field(default_factory=list)
    workloads: list[Any] = field(default_factory=list)  # pod_admission.WorkloadCheck

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass
class Step:
    """One object to apply, in order."""

    app: str
    doc: dict[str, Any]
    file: str
    phase: str


def _with_namespace(doc: dict[str, Any], namespace: str, namespaced: bool) -> dict[str, Any]:
    meta = dict(doc.get("metadata") or {})
    if namespaced and not meta.get("namespace"):
        meta["namespace"] = namespace
    if not namespaced:
        meta.pop("namespace", None)
    return {**doc, "metadata": meta}


def plan(apps: Iterable[Any]) -> tuple[list[Step], list[Step], list[Step], list[tuple[str, Outcome]]]:
    """Order every object of ``apps``: (crds+namespaces, waves, deferred, skipped).

    ``apps`` are ``AppRender``-shaped (name, wave, namespace, objects[doc, file]).
    """
    apps = list(apps)
    first: list[Step] = []
    waves: list[tuple[tuple[int, str], int, Step]] = []
    deferred: list[Step] = []
    skipped: list[tuple[str, Outcome]] = []
    for app in apps:
        for obj in app.objects:
            doc = obj.doc
            if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
                bad = doc if isinstance(doc, dict) else {}
                skipped.append(
                    (app.name, Outcome.of(bad, obj.file, "failed", "not a Kubernetes object", "plan"))
                )
                continue
            kind = str(doc["kind"])
            key = (_group(str(doc.get("apiVersion", ""))), kind)
            phase = hook_phase(doc)
            if phase is None:
                hook = _annotations(doc).get(HOOK_ANNOTATION) or _annotations(doc).get(HELM_HOOK_ANNOTATION)
                reason = f"hook {hook!r}: an ArgoCD sync does not run it"
                skipped.append((app.name, Outcome.of(doc, obj.file, "skipped", reason, "skipped")))
            elif kind == "CustomResourceDefinition":
                first.append(Step(app.name, doc, obj.file, "crds"))
            elif key == ("", "Namespace"):
                first.append(Step(app.name, doc, obj.file, "namespaces"))
            elif key in DEFERRED_KINDS:
                deferred.append(Step(app.name, doc, obj.file, "deferred"))
            else:
                waves.append(
                    ((app.wave, app.name), len(waves), Step(app.name, doc, obj.file, f"wave {app.wave}"))
                )
    wave_of = {a.name: a.wave for a in apps}
    first.sort(key=lambda s: (s.phase != "crds", wave_of[s.app], obj_ref(s.doc)))
    waves.sort(key=lambda t: (t[0], sync_key(t[2].doc), t[1]))
    return first, [t[2] for t in waves], deferred, skipped


class Applier:
    """Server-side apply through the dynamic client, with per-object outcomes."""

    def __init__(self, cp: ControlPlane) -> None:
        self.cp = cp
        self.dyn = cp.dynamic_client()

    def resource(self, doc: dict[str, Any]) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.dyn.resources.get(api_version=doc.get("apiVersion"), kind=doc.get("kind"))
        except ResourceNotFoundError:
            self.dyn.resources.invalidate_cache()
            return self.dyn.resources.get(api_version=doc.get("apiVersion"), kind=doc.get("kind"))

    def apply(self, step: Step, namespace: str) -> Outcome:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

        try:
            res = self.resource(step.doc)
        except ResourceNotFoundError:
            msg = f"the server has no {step.doc.get('apiVersion')} {step.doc.get('kind')} (CRD not applied?)"
            return Outcome.of(step.doc, step.file, "failed", msg, step.phase)
        body = _with_namespace(step.doc, namespace, bool(res.namespaced))
        try:
            res.server_side_apply(body=body, field_manager=FIELD_MANAGER, force_conflicts=True)
        except (ApiException, DynamicApiError) as exc:
            return Outcome.of(body, step.file, "failed", _api_message(exc), step.phase)
        return Outcome.of(body, step.file, "applied", "", step.phase)

    def wait_established(self, names: list[str], timeout: float) -> list[str]:
        """Wait until each CRD is Established; returns the names that are not."""
        crds = self.dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
        pending = set(names)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for item in crds.get().to_dict().get("items", []):
                name = item["metadata"]["name"]
                conds = (item.get("status") or {}).get("conditions") or []
                if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                    pending.discard(name)
            if pending:
                time.sleep(0.5)
        self.dyn.resources.invalidate_cache()
        return sorted(pending)


def _api_message(exc: Any) -> str:
    import json

    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            return f"HTTP {data.get('code', exc.status)}: {data.get('message', body)}"
        except (ValueError, TypeError):
            return f"HTTP {exc.status}: {str(body)[:500]}"
    return f"HTTP {getattr(exc, 'status', '?')}: {getattr(exc, 'reason', exc)}"


def apply_tree(
    cp: ControlPlane,
    apps: list[Any],
    *,
    settle_timeout: float = 120.0,
    quiet: float = 10.0,
    progress: Callable[[str], None] | None = None,
) -> list[AppResult]:
    """Apply ``apps`` (see module doc), check pod admission, apply the deferred kinds."""
    from shai.kube import pod_admission

    say = progress or (lambda _msg: None)
    if not apps:
        raise ApplyTreeError("nothing to apply: the tree has no Application")
    results = {
        a.name: AppResult(
            a.name,
            a.wave,
            a.namespace or "",
            a.kind,
            _unverified(a),
            len(a.objects),
            getattr(a, "error", "") or "",
        )
        for a in apps
    }
    dest = {a.name: a.namespace or "" for a in apps}
    first, waves, deferred, skipped = plan(apps)
    for app_name, outcome in skipped:
        results[app_name].outcomes.append(outcome)
    applier = Applier(cp)
    crds = [s for s in first if s.phase == "crds"]
    say(f"applying {len(crds)} CRDs, {len(first) - len(crds)} Namespaces")
    failed: list[Step] = []
    done = [(step, applier.apply(step, dest[step.app])) for step in first]
    for step, outcome in done:
        results[step.app].outcomes.append(outcome)
        if outcome.status == "failed":
            failed.append(step)
    not_established = applier.wait_established([s.doc["metadata"]["name"] for s in crds], settle_timeout)
    for step in crds:
        if step.doc["metadata"]["name"] in not_established:
            results[step.app].outcomes.append(
                Outcome.of(step.doc, step.file, "failed", "CRD not Established", "crds")
            )
    current = None
    for step in waves:
        if step.phase != current:
            current = step.phase
            say(f"applying {current}")
        outcome = applier.apply(step, dest[step.app])
        results[step.app].outcomes.append(outcome)
        if outcome.status == "failed":
            failed.append(step)
    _retry(applier, failed, results, dest, say)
    say("waiting for the controllers to create Pods")
    pod_admission.check(cp, results, settle_timeout=settle_timeout, quiet=quiet)
    say(f"applying {len(deferred)} deferred objects (webhooks, APIServices)")
    for step in deferred:
        outcome = applier.apply(step, dest[step.app])
        if outcome.status == "applied":
            outcome.status = "deferred"
            outcome.message = (
                "applied last: " + DEFERRED_KINDS[(_group(step.doc["apiVersion"]), step.doc["kind"])]
            )
        results[step.app].outcomes.append(outcome)
    return sorted(results.values(), key=lambda r: (r.wave, r.name))


def _retry(
    applier: Applier,
    failed: list[Step],
    results: dict[str, AppResult],
    dest: dict[str, str],
    say: Callable[[str], None],
) -> None:
    """ArgoCD retries a failed sync: retry every failed object once, after the last wave."""
    if not failed:
        return
    say(f"retrying {len(failed)} failed objects once")
    for step in failed:
        outcome = applier.apply(step, dest[step.app])
        if outcome.status != "applied":
            continue
        app = results[step.app]
        for old in app.outcomes:
            if old.ref == outcome.ref and old.status == "failed":
                old.status = "applied"
                old.message = f"applied on retry (first attempt in {old.phase}: {old.message})"
                old.phase = "retry"


def _unverified(app: Any) -> str:
    value = getattr(app, "unverified", "")
    if value is True:
        return "not rendered"
    return str(value or "")


def tree_files(tree: Path) -> list[Path]:
    """Every YAML file of a tree (for callers that need to name what they read)."""
    return sorted(p for p in tree.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
