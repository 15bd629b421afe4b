"""Drift run time vs a no-op converge on the same converged lab (target: drift <= converge).

Boots a lab (`shai lab up --name drift-bench`), converges site.yml once (untimed), then times,
in the same run and alternating to share the machine's load fairly:
  - a no-op converge: `ansible-playbook site.yml --diff` (the callback records it),
  - a drift run:      `shai drift run` (playbooks/drift.yml --check --diff + report + metrics).
Prints every sample and the medians. `--rounds N` (default 3), `--hosts NAME:GROUP ...`,
`--keep` keeps the lab. Needs root (the lab). Every line carries the 1-minute load average: on a
shared machine wall times follow the load, the controller CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shai.drift.lab import DriftLab


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hosts", nargs="*", default=["benchhost:drift_lab"])
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shai-drift-bench-"))
    lab = DriftLab("drift-bench", args.hosts, work)
    t0 = time.monotonic()
    lab.up()
    print(f"lab up: {time.monotonic() - t0:.1f}s ({', '.join(args.hosts)}), {_load()}")
    try:
        first = lab.converge("initial")
        print(
            f"initial converge: {first.seconds:.1f}s, rc {first.code}, {len(first.report['changes'])} changes"
        )
        if first.code != 0:
            print(first.output[-3000:], file=sys.stderr)
            return 1
        converge: list[float] = []
        drift: list[float] = []
        converge_cpu: list[float] = []
        drift_cpu: list[float] = []
        for i in range(args.rounds):
            c = lab.converge(f"noop-{i}")
            d = lab.drift(f"run-{i}")
            converge.append(c.seconds)
            drift.append(d.seconds)
            converge_cpu.append(c.cpu_seconds)
            drift_cpu.append(d.cpu_seconds)
            print(
                f"round {i + 1}: no-op converge {c.seconds:6.1f}s wall {c.cpu_seconds:5.1f}s cpu "
                f"({len(c.report['changes'])} changes, rc {c.code})"
                f"   drift run {d.seconds:6.1f}s wall {d.cpu_seconds:5.1f}s cpu "
                f"(status {d.report['status']}, exit {d.code},"
                f" {d.report['summary']['changed_tasks']} changed), {_load()}"
            )
        mc, md = statistics.median(converge), statistics.median(drift)
        print(f"median no-op converge: {mc:.1f}s")
        print(f"median drift run:      {md:.1f}s  ({md / mc:.2f}x the no-op converge)")
        cc, cd = statistics.median(converge_cpu), statistics.median(drift_cpu)
        print(f"median CPU (controller, all processes): no-op converge {cc:.1f}s, drift run {cd:.1f}s")
        print("target drift <= converge (wall):", "met" if md <= mc else "NOT met")
        return 0
    finally:
        if not args.keep:
            lab.down()


if __name__ == "__main__":
    sys.exit(main())
