"""Did every applied workload get its Pods admitted by the real API server?

Without a kubelet Pods stay ``Pending`` forever; what *is* real is admission: the
controllers (deployment, replicaset, statefulset, daemonset, job, cronjob) create Pods through
the API server, whose admission plugins (LimitRanger, ResourceQuota, PodSecurity,
ServiceAccount, ...) accept or reject them. A rejected Pod leaves a ``FailedCreate`` event on
the workload (or its ReplicaSet/Job): that message is the finding.

Expected Pods per workload: a Deployment's ``replicas`` (default 1), a StatefulSet's first Pod
(later ones wait for the first to run), a DaemonSet's ``desiredNumberScheduled`` (the Node the
harness registered), a Job's ``parallelism`` (bounded by ``completions``), and for a CronJob the
Pod of a Job created from it the way ``kubectl create job --from=cronjob/NAME`` does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shai.kube.apply_tree import AppResult
    from shai.kube.harness import ControlPlane

__all__ = ["PENDING_NOTE", "WorkloadCheck", "check"]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")
PENDING_NOTE = "Pods stay Pending: no kubelet runs here. Admitted means the API server accepted the Pod."
_FAILED_REASONS = ("FailedCreate", "ReplicaSetCreateError")
_POD_NAME = re.compile(r'pods "[^"]+"')  # each rejected attempt names a new Pod
QUIET_SECONDS = 10.0
MAX_MESSAGES = 2  # distinct reasons per workload (Pod names normalised away)


@dataclass
class WorkloadCheck:
    """One workload's admission result."""

    app: str
    kind: str
    namespace: str
    name: str
    expected: int | None = None  # None: not known yet (DaemonSet before its first sync)
    admitted: int = 0
    note: str = ""
    findings: list[str] = field(default_factory=list)
    transient: list[str] = field(default_factory=list)  # FailedCreate before the Pods came
    uid: str = ""

    @property
    def ok(self) -> bool:
        return self.expected is not None and self.admitted >= self.expected

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "expected": self.expected,
            "admitted": self.admitted,
            "ok": self.ok,
            "note": self.note,
            "findings": self.findings,
            "transient": self.transient,
        }


def _items(dyn: Any, api_version: str, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        dyn.resources.get(api_version=api_version, kind=kind).get().to_dict()["items"]
    )
    return items


def _controller_uid(obj: dict[str, Any]) -> str:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref["uid"])
    return ""


def _job_from_cronjob(cron: dict[str, Any]) -> dict[str, Any]:
    """The Job ``kubectl create job --from=cronjob/NAME`` creates (kubectl create_job.go)."""
    tmpl = cron["spec"]["jobTemplate"]
    meta = tmpl.get("metadata") or {}
    name = cron["metadata"]["name"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{name[:46]}-shai-check",
            "namespace": cron["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": {**(meta.get("annotations") or {}), "cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": name,
                    "uid": cron["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": tmpl["spec"],
    }


def _expected(kind: str, obj: dict[str, Any]) -> tuple[int | None, str]:
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "ReplicaSet"):
        n = int(spec.get("replicas", 1))
        return n, "" if n else "replicas: 0, nothing to admit"
    if kind == "StatefulSet":
        n = min(1, int(spec.get("replicas", 1)))
        return n, "first Pod only (later ones wait for it to run)" if n else "replicas: 0, nothing to admit"
    if kind == "DaemonSet":
        status = obj.get("status") or {}
        if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 1):
            return None, ""
        n = int(status.get("desiredNumberScheduled", 0))
        return n, "" if n else "no eligible node (node selector/affinity/taints exclude the registered Node)"
    if kind == "Job":
        if spec.get("suspend"):
            return 0, "suspended"
        n = int(spec.get("parallelism", 1))
        if spec.get("completions") is not None:
            n = min(n, int(spec["completions"]))
        return n, ""
    return 1, ""


class _Checker:
    def __init__(self, cp: ControlPlane, results: dict[str, AppResult]) -> None:
        self.dyn = cp.dynamic_client()
        self.checks: list[WorkloadCheck] = []
        for app in results.values():
            for o in app.outcomes:
                if (
                    o.kind in WORKLOAD_KINDS
                    and o.status == "applied"
                    and o.api_version in ("v1", "apps/v1", "batch/v1")
                ):
                    check = WorkloadCheck(app.name, o.kind, o.namespace, o.name)
                    app.workloads.append(check)
                    self.checks.append(check)
        self.jobs_for: dict[str, str] = {}  # CronJob uid -> manual Job uid

    def start_cronjobs(self) -> None:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError

        jobs = self.dyn.resources.get(api_version="batch/v1", kind="Job")
        for cron in _items(self.dyn, "batch/v1", "CronJob"):
            meta = cron["metadata"]
            check = self._find("CronJob", meta["namespace"], meta["name"])
            if check is None:
                continue
            check.uid = meta["uid"]
            try:
                job = jobs.create(body=_job_from_cronjob(cron), namespace=meta["namespace"]).to_dict()
            except (ApiException, DynamicApiError) as exc:
                check.expected = 1
                check.findings.append(
                    f"{check.ref}: creating a Job from it failed: {getattr(exc, 'body', exc)}"
                )
                continue
            self.jobs_for[meta["uid"]] = job["metadata"]["uid"]
            check.note = f"Job {job['metadata']['name']} created from it (kubectl create job --from=cronjob)"

    def _find(self, kind: str, namespace: str, name: str) -> WorkloadCheck | None:
        for c in self.checks:
            if (c.kind, c.namespace, c.name) == (kind, namespace, name):
                return c
        return None

    def poll(self) -> int:
        """Refresh every check; returns the number of Pods seen (progress measure)."""
        owner: dict[str, str] = {}
        objs: dict[str, dict[str, Any]] = {}
        for api_version, kind in (
            ("apps/v1", "Deployment"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("apps/v1", "ReplicaSet"),
            ("batch/v1", "Job"),
        ):
            for item in _items(self.dyn, api_version, kind):
                meta = item["metadata"]
                owner[meta["uid"]] = _controller_uid(item)
                objs[f"{kind}/{meta['namespace']}/{meta['name']}"] = item
        pods = _items(self.dyn, "v1", "Pod")
        pod_names = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods}
        counts: dict[str, int] = {}
        for pod in pods:
            uid = _controller_uid(pod)
            seen: set[str] = set()
            while uid and uid not in seen:
                counts[uid] = counts.get(uid, 0) + 1
                seen.add(uid)
                uid = owner.get(uid, "")
        for check in self.checks:
            if check.kind == "Pod":
                check.expected = 1
                check.admitted = int(f"{check.namespace}/{check.name}" in pod_names)
                continue
            if check.kind == "CronJob":
                job_uid = self.jobs_for.get(check.uid)
                job = next((o for o in objs.values() if o["metadata"]["uid"] == job_uid), None)
                if job is not None:
                    check.expected, _ = _expected("Job", job)
                    check.admitted = counts.get(str(job_uid), 0)
                continue
            obj = objs.get(f"{check.kind}/{check.namespace}/{check.name}")
            if obj is None:
                check.expected, check.note = 1, "the object is gone from the API server"
                continue
            check.uid = obj["metadata"]["uid"]
            check.expected, note = _expected(check.kind, obj)
            check.note = note or check.note
            check.admitted = counts.get(check.uid, 0)
        return len(pods)

    def events(self) -> None:
        """Attach the FailedCreate messages to the workload they (transitively) belong to."""
        owner: dict[str, str] = {}
        for api_version, kind in (("apps/v1", "ReplicaSet"), ("batch/v1", "Job")):
            for item in _items(self.dyn, api_version, kind):
                owner[item["metadata"]["uid"]] = _controller_uid(item)
        by_uid = {c.uid: c for c in self.checks if c.uid}
        for cron_uid, job_uid in self.jobs_for.items():
            owner[job_uid] = cron_uid
        for ev in sorted(_items(self.dyn, "v1", "Event"), key=lambda e: str(e.get("lastTimestamp") or "")):
            if ev.get("reason") not in _FAILED_REASONS:
                continue
            uid = str((ev.get("involvedObject") or {}).get("uid", ""))
            while uid and uid not in by_uid:
                uid = owner.get(uid, "")
            check = by_uid.get(uid)
            if check is None:
                continue
            text = _POD_NAME.sub('pods "<pod>"', str(ev.get("message", "")).strip())
            text = text.removeprefix("(combined from similar events): ")
            msg = f"{check.ref}: {ev.get('reason')}: {text}"
            target = check.transient if check.ok else check.findings
            if msg not in target and len(target) < MAX_MESSAGES:
                target.append(msg)


def check(
    cp: ControlPlane,
    results: dict[str, AppResult],
    settle_timeout: float = 120.0,
    quiet: float = QUIET_SECONDS,
) -> list[WorkloadCheck]:
    """Wait for the controllers, then record a :class:`WorkloadCheck` on each AppResult."""
    checker = _Checker(cp, results)
    checker.start_cronjobs()
    deadline = time.monotonic() + settle_timeout
    last, last_change = -1, time.monotonic()
    while True:
        seen = checker.poll()
        if seen != last:
            last, last_change = seen, time.monotonic()
        pending = [c for c in checker.checks if not c.ok]
        if not pending or time.monotonic() > deadline:
            break
        if time.monotonic() - last_change > quiet:
            checker.events()
            if all(c.findings for c in pending):
                break
        time.sleep(1.0)
    checker.events()
    for c in checker.checks:
        if not c.ok and not c.findings:
            c.findings.append(
                f"{c.ref}: {c.admitted} of {c.expected if c.expected is not None else '?'} Pods "
                f"admitted and no FailedCreate event within {settle_timeout:.0f}s"
            )
    return checker.checks
