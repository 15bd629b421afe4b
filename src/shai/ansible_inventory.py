"""Ask Ansible which hosts an inventory holds, the way ``ansible-playbook -i`` reads it.

One implementation for every command that takes ``-i`` (docs/cli.md): an inventory is a
**directory or a file** (or Ansible's inline ``host1,host2,`` list); a path that does not exist,
an inventory Ansible cannot parse, or a selection that matches no host is an error naming it —
never an empty, "clean" run. Host variables come from ``ansible-inventory --list``, so
host_vars/group_vars directories and every inventory plugin count exactly as Ansible counts them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

# Fail instead of warning when an inventory source cannot be parsed (Ansible's default is to
# warn and carry on with an empty inventory — the "clean after checking nothing" trap).
STRICT_ENV = {
    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "true",
}


class InventoryError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """An inventory that does not exist, cannot be parsed, or selects no host."""


def ansible_bin(name: str) -> str:
    """An Ansible executable next to the running interpreter (the venv), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise InventoryError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def is_host_list(source: str) -> bool:
    """Ansible's inline inventory (``host1,host2`` / ``host,``), not a path."""
    return "," in source and not os.path.exists(source)


def check_sources(sources: Sequence[str | Path]) -> list[str]:
    """Return the sources as absolute paths; raise naming the first one that does not exist.

    Absolute, because callers run Ansible from another working directory (the collection root):
    a relative ``-i hosts.yml`` means the caller's ``./hosts.yml``.
    """
    out: list[str] = []
    for raw in sources:
        source = str(raw)
        if not source:
            raise InventoryError("inventory: an empty path was given")
        if is_host_list(source):
            out.append(source)
            continue
        path = Path(source).expanduser()
        if not path.exists():
            raise InventoryError(
                f"inventory {source} does not exist (a directory or a file, as ansible-playbook -i)"
            )
        out.append(str(path.resolve()))
    return out


def _run(cmd: list[str], env: Mapping[str, str] | None, what: str) -> str:
    full_env = dict(os.environ if env is None else env)
    full_env.update(STRICT_ENV)
    try:
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise InventoryError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        detail = " ".join(dict.fromkeys(lines))  # every distinct line: Ansible's reason is in a warning
        raise InventoryError(f"{what}: {detail[:800] or f'exit code {proc.returncode}'}")
    return proc.stdout


def _args(sources: Sequence[str], limit: str | None, vault_password_file: Path | None) -> list[str]:
    args: list[str] = []
    for source in sources:
        args += ["-i", source]
    if limit:
        args += ["--limit", limit]
    if vault_password_file is not None:
        args += ["--vault-password-file", str(vault_password_file)]
    return args


def _label(sources: Sequence[str]) -> str:
    return ", ".join(sources) if sources else "the inventory of ansible.cfg"


def hostvars(
    sources: Sequence[str | Path],
    limit: str | None = None,
    vault_password_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every host the inventory selects (after ``--limit``) with its variables, as Ansible sees them.

    Values are not templated: an unrendered ``{{ ... }}`` stays a string, a vaulted value stays
    a ``{"__ansible_vault": ...}`` mapping. No sources = the inventory ansible.cfg names.
    """
    srcs = check_sources(sources)
    cmd = [ansible_bin("ansible-inventory"), "--list", *_args(srcs, limit, vault_password_file)]
    text = _run(cmd, env, f"ansible-inventory cannot read {_label(srcs)}")
    try:
        data = json.loads(text)
    except ValueError:
        raise InventoryError(f"ansible-inventory printed no JSON for {_label(srcs)}") from None
    meta: dict[str, dict[str, Any]] = (data.get("_meta") or {}).get("hostvars") or {}
    found: dict[str, dict[str, Any]] = {}
    for name, group in data.items():
        if name == "_meta" or not isinstance(group, dict):
            continue
        for host in group.get("hosts") or []:
            found[str(host)] = dict(meta.get(host) or {})
    return found


def select(
    sources: Sequence[str | Path],
    pattern: str,
    limit: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The hosts ``pattern`` (a group, a host, any Ansible pattern) matches, after ``--limit``."""
    srcs = check_sources(sources)
    cmd = [ansible_bin("ansible"), pattern, "--list-hosts", *_args(srcs, limit, None)]
    try:
        text = _run(cmd, env, f"ansible cannot read {_label(srcs)}")
    except InventoryError as exc:
        if "no hosts to target" in str(exc):  # how ansible says --limit left nothing
            return []
        raise
    hosts: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("hosts ("):
            hosts.append(stripped)
    return hosts


def require_hosts(
    sources: Sequence[str | Path], limit: str | None = None, **kwargs: Any
) -> dict[str, dict[str, Any]]:
    """:func:`hostvars`, but an inventory (or ``--limit``) that selects no host is an error."""
    hosts = hostvars(sources, limit, **kwargs)
    if not hosts:
        where = _label([str(s) for s in sources])
        with_limit = f" with --limit {limit}" if limit else ""
        raise InventoryError(f"inventory {where} selects no host{with_limit}: nothing to check")
    return hosts
