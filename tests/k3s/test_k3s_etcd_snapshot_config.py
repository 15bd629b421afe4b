"""The k3s role's etcd snapshot options: config.yaml rendering and the input check.

Renders roles/k3s/templates/config.yaml.j2 with the role's defaults and vars through
ansible-playbook on localhost (one play per case, all cases in one run: ansible's start-up is the
cost); no k3s, no hosts. The snapshot behaviour itself is tested against the k3s test double in
tests/kube/test_k3s_snapshot.py.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "k3s"
# A canary made per run (no credential-like literal in git): it must never appear in output.
SECRET = "canary-" + secrets.token_hex(12)

CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "inventory": {
        "k3s_etcd_snapshot_dir": "/srv/k3s-snapshots",
        "k3s_etcd_snapshot_schedule_cron": "15 */6 * * *",
        "k3s_etcd_snapshot_retention": 14,
        "k3s_etcd_snapshot_compress": True,
    },
    "disabled": {"k3s_etcd_snapshot_enabled": False},
    "s3": {
        "k3s_etcd_snapshot_s3": True,
        "k3s_etcd_snapshot_s3_endpoint": "minio.lab.test:9000",
        "k3s_etcd_snapshot_s3_bucket": "k3s-snapshots",
        "k3s_etcd_snapshot_s3_folder": "homelab",
        "vault_k3s_etcd_s3_access_key": "access-id",
        "vault_k3s_etcd_s3_secret_key": SECRET,
    },
    "agent": {"k3s_node_type": "agent", "k3s_token": "t"},
    "sqlite": {"k3s_cluster_init": False, "k3s_etcd_snapshot_enabled": False},
}
REFUSED = {
    "k3s_cluster_init": False,
    "k3s_etcd_snapshot_retention": 0,
    "k3s_etcd_snapshot_schedule_cron": "@daily",
    "k3s_etcd_snapshot_dir": "snapshots",
    "k3s_etcd_snapshot_s3": True,
}


def _playbook(root: Path, cases: dict[str, dict[str, Any]]) -> Path:
    plays = []
    for name, overrides in cases.items():
        case_file = root / f"{name}.vars.yml"
        case_file.write_text(yaml.safe_dump({"k3s_node_type": "server", **overrides}))
        plays.append(
            {
                "name": f"case {name}",
                "hosts": "localhost",
                "gather_facts": False,
                # later files win: the role's defaults, its internal vars, then the case
                "vars_files": [str(ROLE / "defaults/main.yml"), str(ROLE / "vars/main.yml"), str(case_file)],
                "vars": {"ansible_facts": {"hostname": "lab-server"}},
                "tasks": [
                    {
                        "name": "The role's etcd snapshot input check",
                        "ansible.builtin.include_tasks": str(ROLE / "tasks/preflight_etcd_snapshot.yml"),
                    },
                    {
                        "name": "Render config.yaml",
                        "vectorweight.shai.config_file": {
                            "content": "{{ lookup('ansible.builtin.template', '%s') }}"
                            % (ROLE / "templates/config.yaml.j2"),
                            "dest": str(root / f"{name}.config.yaml"),
                            "mode": "0600",
                        },
                        # as roles/k3s/tasks/configure.yml
                        "diff": "{{ not __k3s_config_secret | bool }}",
                        "no_log": "{{ __k3s_config_secret | bool }}",
                    },
                ],
            }
        )
    playbook = root / "render.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    return playbook


def _run(playbook: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_NOCOLOR="1",
    )
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local", "--diff",
         "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
        capture_output=True, text=True, env=env, check=False, cwd=ROOT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("k3s-config")
    proc = _run(_playbook(root, CASES))
    if proc.returncode != 0:
        pytest.fail(f"render failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-1500:]}")
    return root, proc


def _cfg(rendered: tuple[Path, Any], case: str) -> dict[str, Any]:
    path = rendered[0] / f"{case}.config.yaml"
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_defaults_write_the_schedule_and_retention(rendered: tuple[Path, Any]) -> None:
    cfg = _cfg(rendered, "defaults")
    assert cfg["cluster-init"] is True
    assert cfg["etcd-snapshot-schedule-cron"] == "0 */12 * * *"
    assert cfg["etcd-snapshot-retention"] == 5
    assert "etcd-snapshot-dir" not in cfg  # k3s's own default <data-dir>/server/db/snapshots
    assert "etcd-disable-snapshots" not in cfg and "etcd-snapshot-compress" not in cfg
    assert not any(k.startswith("etcd-s3") for k in cfg)


def test_inventory_names_dir_compress_and_schedule(rendered: tuple[Path, Any]) -> None:
    cfg = _cfg(rendered, "inventory")
    assert cfg["etcd-snapshot-dir"] == "/srv/k3s-snapshots"
    assert cfg["etcd-snapshot-schedule-cron"] == "15 */6 * * *"
    assert cfg["etcd-snapshot-retention"] == 14
    assert cfg["etcd-snapshot-compress"] is True


def test_disabled_writes_etcd_disable_snapshots(rendered: tuple[Path, Any]) -> None:
    cfg = _cfg(rendered, "disabled")
    assert cfg["etcd-disable-snapshots"] is True
    assert "etcd-snapshot-schedule-cron" not in cfg and "etcd-snapshot-retention" not in cfg


def test_s3_keys_go_to_the_0600_file_only(rendered: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    cfg = _cfg(rendered, "s3")
    assert cfg["etcd-s3"] is True
    assert cfg["etcd-s3-bucket"] == "k3s-snapshots" and cfg["etcd-s3-folder"] == "homelab"
    assert cfg["etcd-s3-endpoint"] == "minio.lab.test:9000"
    assert cfg["etcd-s3-access-key"] == "access-id" and cfg["etcd-s3-secret-key"] == SECRET
    assert "etcd-s3-skip-ssl-verify" not in cfg and "etcd-s3-insecure" not in cfg
    assert oct((rendered[0] / "s3.config.yaml").stat().st_mode & 0o777) == "0o600"
    proc = rendered[1]
    assert SECRET not in proc.stdout and SECRET not in proc.stderr  # not even with --diff


def test_agent_gets_no_snapshot_options(rendered: tuple[Path, Any]) -> None:
    cfg = _cfg(rendered, "agent")
    assert not any(k.startswith("etcd-") for k in cfg)


def test_sqlite_without_snapshots_is_accepted(rendered: tuple[Path, Any]) -> None:
    cfg = _cfg(rendered, "sqlite")
    assert "cluster-init" not in cfg and not any(k.startswith("etcd-") for k in cfg)


def test_input_check_refuses_with_every_reason(tmp_path: Path) -> None:
    proc = _run(_playbook(tmp_path, {"refused": REFUSED}))
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    for message in (
        "keeps its state in SQLite",
        "must be at least 1",
        "not a five-field cron",
        "must be an absolute path",
        "k3s_etcd_snapshot_s3_bucket is empty",
        "vault_k3s_etcd_s3_access_key",
    ):
        assert message in out, out[-2000:]
    assert not (tmp_path / "refused.config.yaml").exists()
