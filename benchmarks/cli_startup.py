"""CLI start-up: wall time of `shai version` and of every entry point's / sub-app's `--help`.

Targets (issue 17, "CLIs answer at once", idle machine of 2 cores): `shai version` <= 0.15 s,
every `--help` <= 0.4 s. Each command runs once untimed (bytecode cached, page cache warm), then
`--rounds` times (default 5), with PYTHONDONTWRITEBYTECODE removed from the environment so the
untimed run writes the bytecode the timed ones read (a shell that sets it recompiles typer, rich
and shai on every start: seconds, not what a user's install does); the median wall time is
printed beside its target, with the median
CPU time (user + sys of the child: less sensitive to other load than wall time) and the load
average before and after, since the machine is shared.
Run: .venv/bin/python benchmarks/cli_startup.py [--rounds 5] [--src DIR]
(``--src DIR``: time another checkout's ``src`` with this venv, e.g. the code before a change:
``git archive REV src | tar -x -C /tmp/before`` then ``--src /tmp/before/src``.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

VERSION_TARGET_S = 0.15
HELP_TARGET_S = 0.4

COMMANDS: list[tuple[list[str], float]] = [
    (["shai", "version"], VERSION_TARGET_S),
    (["shai", "--version"], VERSION_TARGET_S),
    (["shai", "--help"], HELP_TARGET_S),
    *[
        (["shai", group, "--help"], HELP_TARGET_S)
        for group in ("gitops", "lab", "lab kube", "secrets", "models", "drift", "doctor", "init")
    ],
    (["shai-models", "--help"], HELP_TARGET_S),
    (["shai-models", "download-hf", "--help"], HELP_TARGET_S),
    (["shai-secrets", "--help"], HELP_TARGET_S),
]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _once(argv: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run; the exit code must be 0."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--src", type=Path, help="put this src directory first on PYTHONPATH")
    args = parser.parse_args()
    if args.src is not None:
        ENV["PYTHONPATH"] = str(args.src.resolve())
        print(f"timing the shai package in {args.src}")
    env_ok = all((BIN / exe).exists() for exe in ("shai", "shai-models", "shai-secrets"))
    if not env_ok:
        print(f"skipped: the entry points are not installed in {BIN} (run `make bootstrap`)")
        return 0
    print(f"before: {_load()}")
    print(f"median of {args.rounds} runs after one untimed run (bytecode cached)")
    print(f"{'command':42} {'wall':>8} {'cpu':>8}  target")
    missed = 0
    for argv, target in COMMANDS:
        full = [str(BIN / argv[0]), *" ".join(argv[1:]).split()]
        _once(full)  # warm: bytecode and page cache
        walls, cpus = zip(*(_once(full) for _ in range(args.rounds)), strict=True)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        verdict = "ok" if wall <= target else "MISSED"
        missed += wall > target
        print(f"{' '.join(argv):42} {wall:7.3f}s {cpu:7.3f}s  <= {target:.2f} s  {verdict}")
    print(f"after: {_load()}")
    print(f"{len(COMMANDS) - missed}/{len(COMMANDS)} within target (wall; a loaded machine inflates it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
