"""The textfile metrics scraped by a real prometheus-node-exporter (Debian's package) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_argocd as da
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_metrics as dm
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_report as dr
from prometheus_client.parser import text_string_to_metric_families

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


def _ensure_node_exporter() -> str:
    if not Path(NODE_EXPORTER).exists() and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "prometheus-node-exporter"],
            check=False,
            capture_output=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    if not Path(NODE_EXPORTER).exists():
        pytest.skip("prometheus-node-exporter is not installed and apt-get could not install it")
    return NODE_EXPORTER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    binary = _ensure_node_exporter()
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textdir}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"node exporter did not come up: {err[-2000:]}")
            time.sleep(0.2)
    try:
        yield url, textdir
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _report(changed: int) -> dict[str, object]:
    b = dr.ReportBuilder()
    b.add_result("homelab", "ok", {"changed": False}, role="k3s", task="converged")
    for i in range(changed):
        b.add_result("homelab", "changed", {"changed": True}, role="k3s", task=f"t{i}")
    b.add_result("akula-prime", "ok", {"changed": False}, role="ollama", task="ok")
    app = {"metadata": {"name": "ollama", "namespace": "argocd"}, "status": {"sync": {"status": "OutOfSync"}}}
    b.add_result(
        "localhost", "ok", {"applications": [da.summarize(app)]}, action="vectorweight.shai.argocd_app_status"
    )
    report: dict[str, object] = b.build()
    return report


def test_node_exporter_serves_drift_metrics(node_exporter: tuple[str, Path]) -> None:
    url, textdir = node_exporter
    report = _report(3)
    dm.write_metrics(report, str(textdir))
    m = _scrape(url)
    assert m[("node_textfile_scrape_error", ())] == 0
    assert m[("shai_drift_changed_tasks", (("host", "homelab"), ("role", "k3s")))] == 3
    assert m[("shai_drift_changed_tasks", (("host", "akula-prime"), ("role", "ollama")))] == 0
    assert m[("shai_drift_run_success", ())] == 1
    assert m[("shai_argocd_app_out_of_sync", (("app", "ollama"), ("namespace", "argocd")))] == 1
    assert m[("shai_drift_last_run_timestamp_seconds", ())] == pytest.approx(report["timestamp"])
    assert ("node_textfile_mtime_seconds", (("file", str(textdir / "shai_drift.prom")),)) in m
    # the next run's file replaces the old one
    dm.write_metrics(_report(0), str(textdir))
    assert _scrape(url)[("shai_drift_changed_tasks", (("host", "homelab"), ("role", "k3s")))] == 0


def test_atomic_rewrites_never_yield_a_partial_scrape(node_exporter: tuple[str, Path]) -> None:
    url, textdir = node_exporter
    reports = [_report(n) for n in (1, 5)]
    dm.write_metrics(reports[0], str(textdir))
    stop = threading.Event()
    writes = 0

    def writer() -> None:
        nonlocal writes
        while not stop.is_set():
            dm.write_metrics(reports[writes % 2], str(textdir))
            writes += 1

    thread = threading.Thread(target=writer)
    thread.start()
    scrapes = 0
    try:
        # scrape while the writer rewrites: at least 40 scrapes and 20 rewrites, however slow the
        # machine (a count, not a time)
        while scrapes < 40 or writes < 20:
            scrapes += 1
            assert scrapes < 10_000, f"the writer made {writes} rewrites in {scrapes} scrapes"
            m = _scrape(url)
            assert m[("node_textfile_scrape_error", ())] == 0
            assert m[("shai_drift_changed_tasks", (("host", "homelab"), ("role", "k3s")))] in (1, 5)
            assert ("shai_drift_run_success", ()) in m
    finally:
        stop.set()
        thread.join()
    assert writes >= 20
    assert [p.name for p in textdir.iterdir()] == ["shai_drift.prom"]
