"""Benchmark: the model_file module vs `curl -o` on a 1 GiB file from a loopback HTTP server.

Both fetch the same file from the same server (the Hub test double's /static route, sendfile),
in the same run, into the same temp dir. model_file includes its sha256 (computed while
streaming) and the atomic rename; curl does no verification. Prints both throughputs and the
ratio (target >= 0.9). Run: .venv/bin/python benchmarks/model_file.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models"))

from hub_double import HubDouble  # noqa: E402
from modrun import run_module  # noqa: E402


def _make(path: Path, size: int) -> str:
    block = os.urandom(16 << 20)
    h = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left > 0:
            chunk = block[: min(len(block), left)]
            fh.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    size = args.size_mib << 20
    tmp = Path(tempfile.mkdtemp(prefix="shai-bench-model-file-"))
    try:
        src = tmp / "src.bin"
        sha = _make(src, size)
        out = tmp / "out"
        out.mkdir()
        with HubDouble() as hub:
            url = hub.add_static("model.bin", src)
            curl_t: list[float] = []
            mf_t: list[float] = []

            def run_curl() -> None:
                os.sync()
                t0 = time.perf_counter()
                subprocess.run(["curl", "-sS", "-f", "-o", str(out / "curl.bin"), url], check=True)
                curl_t.append(time.perf_counter() - t0)
                (out / "curl.bin").unlink()

            def run_mf() -> None:
                os.sync()
                t0 = time.perf_counter()
                margs = {"url": url, "sha256": sha, "dest": str(out), "filename": "mf.bin"}
                res = run_module("model_file", margs)
                mf_t.append(time.perf_counter() - t0)
                assert res.get("changed") and res["sha256"] == sha, res
                (out / "mf.bin").unlink()

            # alternate the order and flush dirty pages first: whoever writes second otherwise
            # pays for the first one's write-back
            for rnd in range(args.rounds):
                for run in (run_curl, run_mf) if rnd % 2 == 0 else (run_mf, run_curl):
                    run()
        mib = size / (1 << 20)
        curl_best, mf_best = statistics.median(curl_t), statistics.median(mf_t)
        print(
            f"file: {mib:.0f} MiB from a loopback HTTP server, median of {args.rounds} rounds "
            "(order alternated, page cache flushed before each run)"
        )
        print(f"curl -o                 : {mib / curl_best:8.1f} MiB/s  ({curl_best:.2f} s)")
        print(
            f"model_file (+sha256)    : {mib / mf_best:8.1f} MiB/s  ({mf_best:.2f} s, module start-up incl.)"
        )
        print(f"ratio model_file / curl : {curl_best / mf_best:8.2f}  (target >= 0.90)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
