"""Small helpers shared by tests that start real servers on loopback."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(pred: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``pred`` every 0.5 s; fail the test naming ``what`` (and the log's tail) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tail}")


def terminate(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 90) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL (a server started by a test)."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
