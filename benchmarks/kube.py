"""Benchmark the real Kubernetes control plane used by tests and the lab.

Prints:
  * cold build time of the pinned control plane (from tools/build.sh's timing files),
  * warm start-to-ready time of etcd + kube-apiserver (+ kube-controller-manager),
  * time to server-side apply every CRD in /work/shared/crds (and wait until Established),
  * start-to-ready time of the k3s test double (`k3s server`, until its node is Ready).

Run: .venv/bin/python benchmarks/kube.py [--runs N] [--no-k3s]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shai import tools
from shai.kube.harness import start_control_plane

REPO = Path(__file__).resolve().parents[1]
SHARED_CRDS = Path(os.environ.get("SHAI_SHARED_CRDS", REPO.parent / "shared" / "crds"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cold_build() -> None:
    build = tools.cache_dir() / "build"
    for target in ("kube", "sealed-secrets", "ollama"):
        f = build / f"{target}.seconds"
        stamp = tools.cache_dir() / "stamps" / target
        if f.is_file():
            secs = int(f.read_text().strip())
            note = stamp.read_text().splitlines()[1] if stamp.is_file() else ""
            print(f"cold build {target:<15} {secs // 60}m{secs % 60:02d}s  ({note})")
        else:
            print(f"cold build {target:<15} unknown (no {f}; run tools/build.sh)")


def warm_start(runs: int) -> None:
    for kcm in (False, True):
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            cp = start_control_plane("bench", controller_manager=kcm)
            times.append(time.monotonic() - t0)
            cp.stop()
        what = "etcd+apiserver+kcm" if kcm else "etcd+apiserver"
        print(
            f"warm start-to-ready {what:<20} median {statistics.median(times):.2f}s "
            f"(min {min(times):.2f}s, max {max(times):.2f}s, n={runs})"
        )


def apply_crds() -> None:
    if not SHARED_CRDS.is_dir():
        print(f"apply CRDs: skipped ({SHARED_CRDS} missing)")
        return
    files = sorted(SHARED_CRDS.rglob("*.yaml"))
    size = sum(f.stat().st_size for f in files) / 2**20
    with start_control_plane("bench-crds", controller_manager=False) as cp:
        t0 = time.monotonic()
        cp.apply(SHARED_CRDS)
        t_apply = time.monotonic() - t0
        cp.kubectl("wait", "--for=condition=Established", "--timeout=120s", "crd", "--all")
        t_est = time.monotonic() - t0
        t1 = time.monotonic()
        cp.apply(SHARED_CRDS, dry_run=True)
        t_dry = time.monotonic() - t1
    print(
        f"apply {len(files)} CRDs ({size:.1f} MiB) server-side: {t_apply:.2f}s, "
        f"all Established after {t_est:.2f}s; server-side dry-run re-apply {t_dry:.2f}s"
    )


def k3s_double() -> None:
    try:
        k3s = tools.binary("k3s")
    except tools.ToolNotFoundError as exc:
        print(f"k3s test double: skipped ({exc})")
        return
    with tempfile.TemporaryDirectory(prefix="shai-k3s-bench-") as d:
        root = Path(d)
        kubeconfig = root / "k3s.yaml"
        port = _free_port()
        env = {**os.environ, "SHAI_K3S_DOUBLE_ETCD_PORTS": f"{_free_port()},{_free_port()}"}
        env.pop("NOTIFY_SOCKET", None)
        argv = [
            str(k3s), "server", f"--data-dir={root / 'data'}", f"--write-kubeconfig={kubeconfig}",
            f"--https-listen-port={port}", "--bind-address=127.0.0.1", "--node-ip=127.0.0.1",
            "--node-name=bench", "--config", str(root / "none.yaml"),
        ]  # fmt: skip
        (root / "none.yaml").write_text("{}\n")
        log = root / "k3s.log"
        t0 = time.monotonic()
        with log.open("wb") as fh:
            proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            ready = None
            while time.monotonic() - t0 < 180 and proc.poll() is None:
                if "node bench Ready" in log.read_text(errors="replace"):
                    ready = time.monotonic() - t0
                    break
                time.sleep(0.1)
            if ready is None:
                print(f"k3s test double: did not become ready\n{log.read_text()[-2000:]}")
            else:
                print(f"k3s test double start-to-node-Ready: {ready:.2f}s")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-k3s", action="store_true")
    args = ap.parse_args()
    cold_build()
    try:
        warm_start(args.runs)
        apply_crds()
    except tools.ToolNotFoundError as exc:
        print(f"skipped: {exc}")
        return 1
    if not args.no_k3s:
        k3s_double()
    return 0


if __name__ == "__main__":
    sys.exit(main())
