"""Lab figures: `shai lab up` cold and warm, first and second converge of site.yml.

    .venv/bin/python benchmarks/lab.py            # warm up + converges (default)
    .venv/bin/python benchmarks/lab.py --cold     # also a cold up: base rootfs built from scratch
    .venv/bin/python benchmarks/lab.py --no-converge --host homelab:k3s_server --host gpu1:gpu_workstation
                                                  # another topology (default: `make lab`'s three hosts)

--cold builds the base rootfs into a throw-away cache directory (SHAI_CACHE=<tmp>), so the real
cache and any lab that uses it are left alone. Needs root. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shai.lab import inventory as inv
from shai.lab.lab import Lab, Paths, repo_root

RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
# The topology `make lab` boots (inventory.DEFAULT_HOSTS), unless --host is given.
HOSTS = inv.describe_hosts().split()


def timed_up(lab: Lab) -> float:
    start = time.monotonic()
    lab.up([inv.parse_host_spec(h) for h in HOSTS])
    return time.monotonic() - start


def timed_down(lab: Lab) -> float:
    start = time.monotonic()
    lab.down()
    return time.monotonic() - start


def converge(inventory: str, playbook: str) -> tuple[float, int, int, int]:
    root = repo_root()
    bindir = Path(sys.executable).parent
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(root / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(root / ".cache" / "collections"),
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        ANSIBLE_FORCE_COLOR="0",
    )
    start = time.monotonic()
    proc = subprocess.run(
        [str(bindir / "ansible-playbook"), playbook, "-i", inventory],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - start
    ok = changed = failed = 0
    for line in proc.stdout.splitlines():
        if m := RECAP.match(line.strip()):
            ok += int(m.group(2))
            changed += int(m.group(3))
            failed += int(m.group(4)) + int(m.group(5))
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    return elapsed, ok, changed, failed


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--cold", action="store_true", help="also measure a cold up (fresh rootfs build)")
    parser.add_argument("--playbook", default="site.yml", help="playbook to converge (default: site.yml)")
    parser.add_argument("--no-converge", action="store_true", help="only measure up/down")
    parser.add_argument(
        "--host", action="append", help=f"NAME:GROUP[,GROUP] (repeatable; default: {' '.join(HOSTS)})"
    )
    args = parser.parse_args()
    if args.host:
        HOSTS[:] = args.host
    figures: list[tuple[str, str]] = []

    if args.cold:
        tmp = Path(tempfile.mkdtemp(prefix="shai-bench-cache-"))
        try:
            # Subnets still come from the real allocation table: no clash with running labs.
            cold = Lab("bench-cold", Paths(cache=tmp, subnet_table=Paths().table))
            figures.append(
                (f"lab up, cold (debootstrap + boot, {len(HOSTS)} hosts)", f"{timed_up(cold):.1f} s")
            )
            figures.append(("lab down", f"{timed_down(cold):.1f} s"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    lab = Lab("bench")
    Lab("bench").ensure_rootfs()  # a warm figure needs a warm cache
    figures.append((f"lab up, warm ({len(HOSTS)} hosts)", f"{timed_up(lab):.1f} s"))
    try:
        if not args.no_converge:
            state = lab.state()
            assert state is not None
            for label in ("first", "second"):
                elapsed, ok, changed, failed = converge(state.inventory, args.playbook)
                figures.append(
                    (
                        f"{label} converge of {args.playbook}",
                        f"{elapsed:.1f} s  (ok={ok} changed={changed} failed={failed})",
                    )
                )
    finally:
        figures.append(("lab down", f"{timed_down(lab):.1f} s"))

    width = max(len(k) for k, _ in figures)
    print(f"\nshai lab benchmark ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    for key, value in figures:
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()
