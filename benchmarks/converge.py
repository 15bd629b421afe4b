"""No-op converge of the default lab: wall time and the slowest tasks (target: <= 45 s, changed=0).

Uses the default lab of `make lab` (homelab = k3s server, akula-prime and akula-secundus = GPU
workstations): brings it up if it is not (`shai lab up`), converges once untimed unless
`--no-warmup`, then runs `shai lab run-site --profile` (callback vectorweight.shai.converge_profile)
and prints the wall time with its target, the changed count per host, the play wall times and the
top 10 tasks summed over hosts. `--rounds N` repeats the no-op run and reports the median. Needs
root (the lab).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drift import _load  # benchmarks/drift.py: the load average printed beside every sample

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 45.0
_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)")


def _shai(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "shai"
    return subprocess.run([str(exe), *args], cwd=ROOT, text=True, capture_output=capture, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-warmup", action="store_true", help="the lab is already converged")
    parser.add_argument(
        "--limit",
        help="host pattern, e.g. 'all:localhost:!akula-secundus' for the homelab + one GPU workstation pair "
        "(localhost named so the doctor play on the controller still runs) "
        "on make lab's three-host lab (the issue's target is for the pair)",
    )
    args = parser.parse_args()
    if _shai("lab", "status", capture=True).returncode != 0:
        print("lab not up: shai lab up")
        if _shai("lab", "up").returncode != 0:
            print("error: shai lab up failed", file=sys.stderr)
            return 1
    if not args.no_warmup:
        print("warm-up converge (untimed) ...")
        if _shai("lab", "run-site", capture=True).returncode != 0:
            print("error: the warm-up converge failed (run `shai lab run-site`)", file=sys.stderr)
            return 1
    samples: list[float] = []
    profile: dict[str, object] = {}
    for i in range(args.rounds):
        out = Path(tempfile.mkdtemp(prefix="shai-converge-bench-")) / "profile.json"
        t0 = time.monotonic()
        limit = ["--limit", args.limit] if args.limit else []
        proc = _shai("lab", "run-site", "--profile", str(out), *limit, capture=True)
        wall = time.monotonic() - t0
        changed = {m.group(1): int(m.group(3)) for m in map(_RECAP.match, proc.stdout.splitlines()) if m}
        print(f"no-op converge #{i + 1}: {wall:.1f} s, rc={proc.returncode}, changed={changed} ({_load()})")
        if proc.returncode != 0 or not changed:
            print(proc.stdout[-3000:], file=sys.stderr)
            print("error: the no-op converge failed or reported no host", file=sys.stderr)
            return 1
        samples.append(wall)
        profile = json.loads(out.read_text())
    median = statistics.median(samples)
    verdict = "meets" if median <= TARGET_S else "MISSES"
    print(f"\nno-op converge (median of {len(samples)}): {median:.1f} s")
    print(f"target <= {TARGET_S:.0f} s: {verdict}")
    from ansible_collections.vectorweight.shai.plugins.module_utils.converge_profile import render_summary

    for line in render_summary(profile, top=10):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
