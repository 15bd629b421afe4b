"""etcd snapshots and restore on the k3s TEST DOUBLE (tools/kube/cmd/k3s, etcd_snapshot.go).

The double's etcd is real (embedded go.etcd.io/etcd server), its snapshots come from the etcd
snapshot API and its restore is etcdutl's; the k3s around them is a double (docs/backup.md says
what that does not prove). On loopback ports with a temp data dir, the surface the k3s role and
playbooks/restore.yml use: the etcd-snapshot-* server options (schedule, retention, dir,
compress), `k3s etcd-snapshot save|ls|delete`, and `k3s server --cluster-reset
--cluster-reset-restore-path`, after which the API serves the restored objects.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from waiting import free_port as _free_port
from waiting import terminate as _terminate
from waiting import wait_until as _wait

pytestmark = pytest.mark.kube

NODE = "lab-server"


@dataclass
class Cluster:
    binary: Path
    root: Path
    config: Path
    data_dir: Path
    snapshots: Path
    kubeconfig: Path
    env: dict[str, str]

    def k3s(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.k3s("kubectl", "--kubeconfig", str(self.kubeconfig), *args)

    def configmaps(self) -> dict[str, dict[str, str]]:
        res = self.kubectl("get", "configmaps", "-n", "default", "-l", "shai-test=snapshot", "-o", "json")
        assert res.returncode == 0, res.stderr
        return {i["metadata"]["name"]: i.get("data") or {} for i in json.loads(res.stdout)["items"]}

    def apply(self, name: str, data: dict[str, str]) -> None:
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "labels": {"shai-test": "snapshot"}},
            "data": data,
        }
        path = self.root / f"{name}.json"
        path.write_text(json.dumps(cm))
        res = self.kubectl("apply", "-f", str(path))
        assert res.returncode == 0, res.stderr

    @contextlib.contextmanager
    def server(self, log_name: str) -> Iterator[Path]:
        log = self.root / log_name
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [str(self.binary), "server", "--config", str(self.config)],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        try:
            _wait(
                lambda: "ready: kubeconfig" in log.read_text(errors="replace") or proc.poll() is not None,
                240,
                "k3s server ready",
                log,
            )
            if proc.poll() is not None:
                pytest.fail(f"k3s server exited {proc.returncode}:\n{log.read_text()[-4000:]}")
            yield log
        finally:
            _terminate(proc)


def _config(root: Path, **extra: Any) -> dict[str, Any]:
    token = root / "token"
    token.write_text("shai-test-token\n")
    token.chmod(0o600)
    return {
        "token-file": str(token),
        "data-dir": str(root / "data"),
        "write-kubeconfig": str(root / "k3s.yaml"),
        "https-listen-port": _free_port(),
        "bind-address": "127.0.0.1",
        "node-ip": "127.0.0.1",
        "node-name": NODE,
        "secrets-encryption": True,
        "disable-controller-manager": True,
        **extra,
    }


@pytest.fixture
def cluster(peer: Callable[[str], Path], tmp_path: Path) -> Cluster:
    snapshots = tmp_path / "snapshots"
    cfg = _config(
        tmp_path,
        **{
            "cluster-init": True,
            "etcd-snapshot-dir": str(snapshots),
            # every 3 s (the double's optional seconds field; the role allows five fields only)
            "etcd-snapshot-schedule-cron": "*/3 * * * * *",
            "etcd-snapshot-retention": 2,
            "etcd-s3": True,
            "etcd-s3-bucket": "never-contacted",
        },
    )
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "SHAI_K3S_DOUBLE_ETCD_PORTS": f"{_free_port()},{_free_port()}"}
    env.pop("NOTIFY_SOCKET", None)
    env.pop("SHAI_K3S_DOUBLE_CONTROLLERS", None)
    env.pop("KUBECONFIG", None)
    return Cluster(peer("k3s"), tmp_path, config, tmp_path / "data", snapshots, tmp_path / "k3s.yaml", env)


def _scheduled(snapshots: Path) -> list[str]:
    return sorted(p.name for p in snapshots.glob(f"etcd-snapshot-{NODE}-*"))


def test_snapshot_ls_delete_and_restore_serves_the_restored_objects(cluster: Cluster) -> None:
    with cluster.server("k3s-1.log") as log:
        text = log.read_text()
        assert "unverified: S3 not supported by the test double" in text  # never claims an upload
        cluster.apply("keep", {"generation": "1"})
        cluster.apply("doomed", {"generation": "1"})

        # scheduled: the cron runs, retention keeps 2 (older ones pruned)
        _wait(lambda: "pruned etcd snapshot" in log.read_text(), 60, "a scheduled snapshot pruned", log)
        assert 1 <= len(_scheduled(cluster.snapshots)) <= 2

        saved = cluster.k3s("etcd-snapshot", "save", "--config", str(cluster.config))
        assert saved.returncode == 0, saved.stderr
        assert saved.stdout.startswith(f"Snapshot on-demand-{NODE}-") and "saved." in saved.stdout
        zipped = cluster.k3s(
            "etcd-snapshot",
            "save",
            "--config",
            str(cluster.config),
            "--name",
            "pre-change",
            "--snapshot-compress",
        )
        assert zipped.returncode == 0, zipped.stderr
        (zip_path,) = cluster.snapshots.glob(f"pre-change-{NODE}-*.zip")
        (plain,) = cluster.snapshots.glob(f"on-demand-{NODE}-*")

        ls = cluster.k3s("etcd-snapshot", "ls", "--config", str(cluster.config))
        assert ls.returncode == 0, ls.stderr
        lines = ls.stdout.splitlines()
        assert lines[0].split() == ["Name", "Location", "Size", "Created"]
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        assert rows[zip_path.name][1] == f"file://{zip_path}"
        assert int(rows[plain.name][2]) == plain.stat().st_size > 0

        # change the cluster after the snapshot
        assert cluster.kubectl("delete", "configmap", "doomed", "-n", "default").returncode == 0
        cluster.apply("keep", {"generation": "2"})
        cluster.apply("later", {"generation": "1"})
        assert set(cluster.configmaps()) == {"keep", "later"}

        running = cluster.k3s("server", "--config", str(cluster.config), "--cluster-reset")
        assert running.returncode == 1 and "stop k3s first" in running.stderr

    reset = cluster.k3s(
        "server",
        "--config",
        str(cluster.config),
        "--cluster-reset",
        f"--cluster-reset-restore-path={zip_path}",
    )
    assert reset.returncode == 0, reset.stderr
    assert "restart without --cluster-reset flag now" in reset.stderr
    assert list((cluster.data_dir / "server" / "db").glob("etcd-old-*")), "the previous etcd data was kept"

    with cluster.server("k3s-2.log"):
        restored = cluster.configmaps()
        assert set(restored) == {"keep", "doomed"}  # "later" came after the snapshot
        assert restored["keep"] == {"generation": "1"}

        deleted = cluster.k3s("etcd-snapshot", "delete", "--config", str(cluster.config), plain.name)
        assert deleted.returncode == 0, deleted.stderr
        assert not plain.exists()
        ls = cluster.k3s("etcd-snapshot", "ls", "--config", str(cluster.config))
        assert plain.name not in ls.stdout and zip_path.name in ls.stdout
        missing = cluster.k3s("etcd-snapshot", "delete", "--config", str(cluster.config), "no-such-snapshot")
        assert missing.returncode == 1 and "not found" in missing.stderr


def test_snapshots_refused_without_embedded_etcd(peer: Callable[[str], Path], tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(_config(tmp_path)))
    res = subprocess.run(
        [str(peer("k3s")), "etcd-snapshot", "save", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 1
    assert "no embedded etcd" in res.stderr and "SQLite" in res.stderr
