"""Every root-level operation the lab performs, behind one small class.

Unit tests replace :class:`System` with a fake (a test double for the kernel: mounts, links,
processes); the integration test (``-m lab``) runs the real one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CommandError(RuntimeError):
    pass


def under(path: str, marker: str) -> bool:
    """``path`` is ``marker`` or lies below it (``/labs/default`` is not under ``/labs/def``)."""
    marker = marker.rstrip("/")
    return path == marker or path.startswith(marker + "/")


def belongs_to(marker: str, argv: Sequence[str], root: str) -> bool:
    """A process belongs to a lab when its root directory or one of its arguments (or the value
    of a ``--opt=value`` argument) is the lab's state directory or a path under it."""
    if under(root, marker):
        return True
    return any(under(arg, marker) or under(arg.partition("=")[2], marker) for arg in argv)


class System:
    """Real implementation: ip, mount, nft, processes, /proc."""

    def run(self, cmd: Sequence[str], check: bool = True, stdin: str | None = None) -> str:
        proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise CommandError(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def spawn(self, cmd: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
        """Start ``cmd`` detached (own session and process group), output to ``log``; return its pid."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out, open(os.devnull, "rb") as devnull:
            proc = subprocess.Popen(
                list(cmd),
                stdin=devnull,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                close_fds=True,
            )
        return proc.pid

    # -- processes -------------------------------------------------------------------------
    def pids_matching(self, marker: str) -> list[int]:
        """Pids with an argument that is ``marker`` or a path under it, or whose root directory is."""
        found: list[int] = []
        me = os.getpid()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            pid = int(entry.name)
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
                root = os.readlink(f"/proc/{pid}/root")
            except OSError:
                continue
            if belongs_to(marker, argv, root):
                found.append(pid)
        return found

    def alive(self, pid: int) -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"

    def kill(self, pid: int, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def kill_group(self, pid: int, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            self.kill(pid, sig)

    def reap(self) -> None:
        """Collect exited children of this process (spawned helpers) so they do not linger as zombies."""
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass

    # -- mounts ----------------------------------------------------------------------------
    def mounts_under(self, prefix: Path) -> list[Path]:
        """Mount points under ``prefix`` (deepest first)."""
        found: list[Path] = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if point == str(prefix) or point.startswith(str(prefix) + "/"):
                found.append(Path(point))
        return sorted(set(found), key=lambda p: len(p.parts), reverse=True)

    def mount_overlay(self, lower: Path, upper: Path, work: Path, merged: Path) -> None:
        opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
        self.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)])

    def umount(self, point: Path) -> None:
        try:
            self.run(["umount", str(point)])
        except CommandError:
            self.run(["umount", "-l", str(point)], check=False)

    # -- links -----------------------------------------------------------------------------
    def links(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(self.run(["ip", "-j", "link", "show"]) or "[]")
        return data

    def addresses(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(self.run(["ip", "-j", "-4", "addr", "show"]) or "[]")
        return data

    def link_exists(self, name: str) -> bool:
        return any(link.get("ifname") == name for link in self.links())

    def delete_link(self, name: str) -> None:
        self.run(["ip", "link", "delete", name], check=False)

    def create_bridge(self, name: str, address: str) -> None:
        self.run(["ip", "link", "add", name, "type", "bridge"])
        self.run(["ip", "addr", "add", address, "dev", name])
        self.run(["ip", "link", "set", name, "up"])

    def nft(self, script: str, check: bool = True) -> None:
        self.run(["nft", "-f", "-"], check=check, stdin=script)

    def nft_tables(self) -> list[str]:
        """Names of this machine's ``inet`` nftables tables."""
        data = json.loads(self.run(["nft", "-j", "list", "tables", "inet"], check=False) or "{}")
        return [str(item["table"]["name"]) for item in data.get("nftables", []) if "table" in item]

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
