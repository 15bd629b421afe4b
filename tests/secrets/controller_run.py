"""Run the real sealed-secrets controller (built from its Go module) "in cluster" against a
harness control plane: a real service-account token, the controller's own flags, loopback only."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningController:
    proc: subprocess.Popen[bytes]
    cert_url: str
    cert_pem: bytes
    log: Path


@contextmanager
def controller(
    cp: Any, binary: Path, namespace: str, log: Path, timeout: float = 90.0
) -> Iterator[RunningController]:
    """Start the controller in ``namespace`` (it loads its keys from there at start-up), wait
    until it serves its certificate, stop it on exit."""
    ic = cp.in_cluster(namespace, "sealed-secrets-controller")
    port, mport = free_port(), free_port()
    handle = log.open("wb")
    argv = ic.wrap(
        [
            str(binary),
            f"--listen-addr=127.0.0.1:{port}",
            f"--listen-metrics-addr=127.0.0.1:{mport}",
            "--key-renew-period=0",
            "--update-status=true",
        ]
    )
    proc = subprocess.Popen(argv, env=ic.environ(), stdout=handle, stderr=subprocess.STDOUT)
    try:
        cert_url = f"http://127.0.0.1:{port}/v1/cert.pem"
        served = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(cert_url, timeout=2) as resp:  # loopback only
                    served = resp.read()
                break
            except OSError:
                time.sleep(0.3)
        assert served, log.read_text(errors="replace")[-3000:]
        yield RunningController(proc, cert_url, served, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        handle.close()
