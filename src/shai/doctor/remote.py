"""Reach an inventory host the way Ansible would: same address, port, user, key and ssh args.

Doctor adds ``BatchMode`` (never prompt) and ``StrictHostKeyChecking=yes`` (a host whose key is not
already known fails instead of being trusted on first use) after the inventory's own arguments;
ssh takes the first value of an option, so an inventory that turns checking off for its hosts
keeps that, and :func:`host_key_checked` says so.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from shai.doctor.context import Context

TIMEOUT = 20


def each[T, R](items: Sequence[T], call: Callable[[T], R]) -> list[R]:
    """``call`` on every item at once (each waits on ssh), results in the items' order.

    ``call`` must not read the Context (Ansible's variable manager is not thread-safe): resolve
    every variable first, in the caller's thread.
    """
    if len(items) < 2:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(call, items))


@dataclass(frozen=True)
class Target:
    host: str
    address: str
    user: str
    local: bool
    args: tuple[str, ...]
    key_checking: bool = True

    @property
    def login(self) -> str:
        return f"{self.user}@{self.address}" if self.user else self.address


def target(ctx: Context, host: str) -> Target:
    address = str(ctx.var(host, "ansible_host") or host)
    user = str(ctx.var(host, "ansible_user") or ctx.var(host, "ansible_ssh_user") or "")
    local = ctx.var(host, "ansible_connection") == "local"
    args: list[str] = []
    for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        args += shlex.split(str(ctx.var(host, name) or ""))
    key = ctx.var(host, "ansible_ssh_private_key_file") or ctx.var(host, "ansible_private_key_file")
    if key:
        args += ["-i", str(key)]
    port = ctx.var(host, "ansible_port") or ctx.var(host, "ansible_ssh_port")
    if port:
        args += ["-p", str(port)]
    checking = ctx.var(
        host, "ansible_host_key_checking", default=ctx.var(host, "ansible_ssh_host_key_checking")
    )
    key_checking = checking is None or str(checking).lower() not in ("false", "no", "0", "off")
    return Target(host, address, user, local, tuple(args), key_checking)


def host_key_checked(t: Target) -> bool:
    if not t.key_checking:
        return False
    text = " ".join(t.args).replace(" =", "=").replace("= ", "=").lower()
    return "stricthostkeychecking=no" not in text and "userknownhostsfile=/dev/null" not in text


def run(t: Target, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (a shell string) on the host; ssh's own failures exit 255."""
    if t.local:
        argv = ["sh", "-c", command]
    else:
        argv = [
            "ssh",
            *t.args,
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
            t.login,
            command,
        ]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, "", f"no answer within {TIMEOUT} s")
