"""plugins/module_utils/atomic.py: the project's one atomic write (issue 14, class 2)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import atomic

REPO = Path(__file__).resolve().parents[2]


def test_symlink_at_old_fixed_temp_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    dest = tmp_path / "out" / "x.sealedsecret.yaml"
    dest.parent.mkdir()
    # the name the sealed_secret module used to write through, and a symlink at the destination
    (dest.parent / f".{dest.name}.shai-tmp").symlink_to(victim)
    atomic.atomic_write(str(dest), "new content\n", 0o640)
    assert victim.read_text() == "precious\n"
    assert dest.read_text() == "new content\n"
    assert (dest.stat().st_mode & 0o777) == 0o640
    link = tmp_path / "link.yaml"
    link.symlink_to(victim)
    atomic.atomic_write(str(link), b"replaced\n")
    assert not link.is_symlink() and victim.read_text() == "precious\n"


def test_nothing_half_written_on_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "file"
    dest.write_text("old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic.atomic_write(str(dest), "new\n")
    assert dest.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["file"]


def test_replace_failure_removes_temp(tmp_path: Path) -> None:
    dest = tmp_path / "dir-in-the-way"
    dest.mkdir()
    (dest / "child").write_text("x")
    with pytest.raises(OSError):
        atomic.atomic_write(str(dest), "x")
    assert atomic.leftover_temps(str(tmp_path)) == []


def test_two_phase_and_leftovers(tmp_path: Path) -> None:
    a = atomic.prepare_write(str(tmp_path / "a"), "A", 0o600)
    b = atomic.prepare_write(str(tmp_path / "b"), "B")
    assert (os.stat(a.tmp).st_mode & 0o777) == 0o600  # mode before any byte lands
    assert len(atomic.leftover_temps(str(tmp_path))) == 2
    a.commit()
    b.abort()
    assert (tmp_path / "a").read_text() == "A" and not (tmp_path / "b").exists()
    assert atomic.leftover_temps(str(tmp_path)) == []


def test_temp_names_are_gitignored(tmp_path: Path) -> None:
    w = atomic.prepare_write(str(tmp_path / "x.sealedsecret.yaml"), "x")
    try:
        rel = f"gitops/secrets/ns/{os.path.basename(w.tmp)}"
        proc = subprocess.run(["git", "check-ignore", "--no-index", "-q", rel], cwd=REPO, check=False)
        assert proc.returncode == 0, f"{rel} is not gitignored"
    finally:
        w.abort()


def test_no_hand_rolled_atomic_writes_left() -> None:
    """Every atomic file write goes through module_utils/atomic.py."""
    offenders = []
    for root in ("plugins", "src"):
        for path in (REPO / root).rglob("*.py"):
            if path.name == "atomic.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in (".shai-tmp", "NamedTemporaryFile(", "tempfile.mkstemp(", '.with_suffix(".tmp")'):
                if needle in text:
                    offenders.append(f"{path.relative_to(REPO)}: {needle}")
    assert offenders == []


def test_download_part_symlink_is_not_followed(tmp_path: Path) -> None:
    """The resumable downloader keeps a fixed ``<dest>.part`` (it must, to resume): a symlink
    placed there is removed, never written through."""
    import functools
    import hashlib
    import http.server
    import threading

    from ansible_collections.vectorweight.shai.plugins.module_utils import download

    served = tmp_path / "srv"
    served.mkdir()
    (served / "m.bin").write_bytes(b"model bytes " * 1000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        victim = tmp_path / "victim"
        victim.write_text("precious\n")
        dest = tmp_path / "out" / "m.bin"
        dest.parent.mkdir()
        (dest.parent / "m.bin.part").symlink_to(victim)
        digest = hashlib.sha256((served / "m.bin").read_bytes()).hexdigest()
        url = f"http://127.0.0.1:{server.server_address[1]}/m.bin"
        download.download(url, str(dest), sha256=digest, retries=0)
    finally:
        server.shutdown()
        server.server_close()
    assert victim.read_text() == "precious\n"
    assert dest.read_bytes() == (served / "m.bin").read_bytes() and not dest.is_symlink()
