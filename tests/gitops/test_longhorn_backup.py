"""Longhorn backups in the GitOps tree (docs/backup.md): the backup target from the inventory,
RecurringJobs (snapshot + backup) in one group, and the stateful PVCs in that group."""

from __future__ import annotations

from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_values_check import check_values

from shai.gitops import core

GROUP_LABEL = "recurring-job-group.longhorn.io/shai-stateful"
SOURCE_LABEL = "recurring-job-source.longhorn.io"


def _docs(files: dict[str, bytes], path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(files[path]) if d]


def _helm_values(files: dict[str, bytes], app: str) -> dict[str, Any]:
    (application,) = _docs(files, f"apps/{app}.yaml")
    source = application["spec"].get("source") or application["spec"]["sources"][0]
    values = source["helm"].get("valuesObject") or yaml.safe_load(source["helm"]["values"])
    assert isinstance(values, dict)
    return values


def test_recurring_jobs_snapshot_and_backup_in_one_group(rendered: dict[str, bytes]) -> None:
    jobs = {d["metadata"]["name"]: d for d in _docs(rendered, "platform/longhorn-backup/recurring-jobs.yaml")}
    assert set(jobs) == {"shai-stateful-snapshot", "shai-stateful-backup"}
    for job in jobs.values():
        assert (
            job["apiVersion"] == "longhorn.io/v1beta2" and job["metadata"]["namespace"] == "longhorn-system"
        )
        assert job["spec"]["groups"] == ["shai-stateful"] and job["spec"]["retain"] >= 1
        assert len(job["spec"]["cron"].split()) == 5
    assert jobs["shai-stateful-backup"]["spec"]["task"] == "backup"
    assert jobs["shai-stateful-snapshot"]["spec"]["task"] == "snapshot"


def test_backup_target_from_the_inventory(rendered: dict[str, bytes]) -> None:
    store = _helm_values(rendered, "longhorn")["defaultBackupStore"]
    assert store["backupTarget"] == "nfs://backup.lab.test:/srv/longhorn-backups"
    assert "backupTargetCredentialSecret" not in store  # NFS needs none


def test_backup_target_egress_only_where_the_target_is(rendered: dict[str, bytes]) -> None:
    policies = {
        d["metadata"]["name"]: d
        for path in rendered
        if path.startswith("platform/network-policies/")
        for d in _docs(rendered, path)
        if d.get("kind") == "NetworkPolicy" and d["metadata"]["namespace"] == "longhorn-system"
    }
    egress = policies["allow-backup-target"]["spec"]["egress"]
    assert egress == [
        {
            "to": [{"ipBlock": {"cidr": "10.213.250.40/32"}}],
            "ports": [{"protocol": "TCP", "port": 2049}, {"protocol": "TCP", "port": 111}],
        }
    ]


def test_stateful_volumes_join_the_group(rendered: dict[str, bytes]) -> None:
    pvcs = {}
    for path in rendered:
        if path.startswith("platform/") and path.endswith(".yaml"):
            for d in _docs(rendered, path):
                if d.get("kind") == "PersistentVolumeClaim":
                    pvcs[d["metadata"]["name"]] = d["metadata"]["labels"]
    for name in ("postgresql-data", "open-webui-data", "n8n-data"):
        assert pvcs[name][GROUP_LABEL] == "enabled" and pvcs[name][SOURCE_LABEL] == "enabled", name
    assert GROUP_LABEL not in pvcs["ollama-models"]  # models are re-downloadable: not backed up
    gitlab = _helm_values(rendered, "gitlab")
    assert gitlab["gitlab"]["gitaly"]["persistence"]["labels"][GROUP_LABEL] == "enabled"
    assert gitlab["postgresql"]["primary"]["persistence"]["labels"][SOURCE_LABEL] == "enabled"


def test_without_a_target_no_backup_job_and_no_store(layout: core.Layout, values: dict[str, object]) -> None:
    plain = dict(values)
    plain["gitops_longhorn_backup"] = {**values["gitops_longhorn_backup"], "target": ""}  # type: ignore[dict-item]
    files = core.render(layout, plain)
    jobs = [d["metadata"]["name"] for d in _docs(files, "platform/longhorn-backup/recurring-jobs.yaml")]
    assert jobs == ["shai-stateful-snapshot"]
    assert "defaultBackupStore" not in _helm_values(files, "longhorn")
    assert b"allow-backup-target" not in b"".join(v for k, v in files.items() if "network-policies" in k)


def test_values_check_refuses_bad_targets_keys_and_crons() -> None:
    defaults = {
        "gitops_longhorn_backup": {
            "target": "",
            "credential_secret": "",
            "egress": [],
            "poll_interval": 300,
            "group": "g",
            "jobs": {"backup": {"task": "backup", "cron": "30 2 * * *", "retain": 14, "concurrency": 1}},
        }
    }
    nfs = {"target": "nfs://nas:/backups", "egress": [{"cidr": "10.213.250.40/32", "ports": [2049, 111]}]}
    assert check_values(defaults, {"gitops_longhorn_backup": nfs}) == []
    assert any(
        "needs egress" in e
        for e in check_values(defaults, {"gitops_longhorn_backup": {"target": "nfs://nas:/backups"}})
    )
    assert any(
        "is not an address/prefix" in e
        for e in check_values(
            defaults, {"gitops_longhorn_backup": {**nfs, "egress": [{"cidr": "nas", "ports": [2049]}]}}
        )
    )
    errors = check_values(
        defaults,
        {
            "gitops_longhorn_backup": {
                "target": "s3://bucket@us-east-1/",
                "retian": 3,
                "jobs": {"backup": {"task": "backup", "cron": "@daily", "retain": 1}},
            }
        },
    )
    assert any("unknown key 'retian'" in e for e in errors)
    assert any("needs credential_secret" in e for e in errors)
    assert any("five cron fields" in e for e in errors)
    assert any(
        "start with nfs://" in e
        for e in check_values(defaults, {"gitops_longhorn_backup": {"target": "ftp://x"}})
    )
