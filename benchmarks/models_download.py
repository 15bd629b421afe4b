"""Benchmark: `shai-models download-hf` of a 1 GiB multi-file repo vs curl, and resume cost.

The repo (4 LFS files by default) is served by the Hugging Face Hub TEST DOUBLE on loopback.
1. curl fetches every file (same resolve URLs, following the CDN redirect) into a temp dir;
2. `shai-models download-hf --dest` fetches the repo, verifying every file against the Hub's
   sha256 (lfs.oid) while streaming;
3. interruption at 50 %: the double drops every file's connection at its half and then refuses
   service; the next run resumes. Prints the bytes re-transferred beyond the missing half
   (target: <= the remaining half + one chunk).
Run: .venv/bin/python benchmarks/models_download.py [--size-mib 1024] [--files 4]
"""

from __future__ import annotations

import argparse
import json
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

CHUNK = 4 << 20  # module_utils/download.CHUNK_SIZE


def _shai(env: dict[str, str], dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "shai-models"),
            "download-hf",
            "bench/repo",
            "--dest",
            str(dest),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shai-bench-models-"))
    try:
        repo = tmp / "repo"
        repo.mkdir()
        per = (args.size_mib << 20) // args.files
        block = os.urandom(16 << 20)
        for i in range(args.files):
            with (repo / f"model-{i:05d}-of-{args.files:05d}.safetensors").open("wb") as fh:
                left = per
                while left:
                    n = min(left, len(block))
                    fh.write(block[:n] if i == 0 else bytes([i]) + block[1:n])
                    left -= n
        (repo / "config.json").write_text('{"bench": true}\n')
        total = sum(p.stat().st_size for p in repo.iterdir())
        mib = total / (1 << 20)
        with HubDouble() as hub:
            r = hub.add_repo("bench/repo", repo)
            env = dict(os.environ, HF_ENDPOINT=hub.endpoint, HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp / "hf"))
            env.pop("HF_TOKEN", None)
            urls = [f"{hub.endpoint}/bench/repo/resolve/{r.commit}/{name}" for name in sorted(r.files)]

            def run_curl(parallel: bool) -> float:
                curl_dir = tmp / "curl"
                curl_dir.mkdir()
                cmd = ["curl", "-sS", "-f", "-L"] + (["--parallel"] if parallel else [])
                for u in urls:
                    cmd += ["-o", str(curl_dir / u.rsplit("/", 1)[1]), u]
                os.sync()
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True)
                took = time.perf_counter() - t0
                shutil.rmtree(curl_dir)
                return took

            def run_shai() -> tuple[float, float]:
                os.sync()
                t0 = time.perf_counter()
                res = _shai(env, dest)
                took = time.perf_counter() - t0
                if res.returncode != 0:
                    raise SystemExit(f"download-hf failed: {res.stdout}{res.stderr}")
                inner = float(json.loads(res.stdout[res.stdout.index("{") :])["elapsed_s"])
                shutil.rmtree(dest)
                return took, inner

            dest = tmp / "shai"
            curl_t: list[float] = []
            curlp_t: list[float] = []
            shai_t: list[float] = []
            inner_t: list[float] = []
            # alternate the order every round and flush dirty pages before each run: whoever
            # writes second otherwise pays for the first one's write-back
            for rnd in range(args.rounds):
                order = ["curl", "shai", "curlp"] if rnd % 2 == 0 else ["shai", "curlp", "curl"]
                for what in order:
                    if what == "curl":
                        curl_t.append(run_curl(False))
                    elif what == "curlp":
                        curlp_t.append(run_curl(True))
                    else:
                        took, inner = run_shai()
                        shai_t.append(took)
                        inner_t.append(inner)
            t_curl, t_curlp = statistics.median(curl_t), statistics.median(curlp_t)
            t_shai, t_inner = statistics.median(shai_t), statistics.median(inner_t)

            # interruption at 50 %
            for name, f in r.files.items():
                if f.lfs:
                    hub.cut(f"bench/repo/{name}", f.size // 2, then_fail=True)
            first = _shai(env, dest)
            assert first.returncode != 0, "the interrupted run should fail"
            on_disk = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
            hub.heal()
            sent0 = hub.bytes_sent("/cdn/")
            second = _shai(env, dest)
            if second.returncode != 0:
                raise SystemExit(f"resume failed: {second.stdout}{second.stderr}")
            resent = hub.bytes_sent("/cdn/") - sent0
        missing = total - on_disk
        print(f"repo: {args.files} LFS files + config.json, {mib:.0f} MiB, Hub test double on loopback")
        print(f"medians of {args.rounds} rounds, order alternated, page cache flushed (sync) before each run")
        print(f"curl (sequential, -L)             : {mib / t_curl:8.1f} MiB/s  ({t_curl:.2f} s)")
        print(f"curl --parallel                   : {mib / t_curlp:8.1f} MiB/s  ({t_curlp:.2f} s)")
        print(f"shai-models download-hf (+sha256) : {mib / t_shai:8.1f} MiB/s  ({t_shai:.2f} s incl. start)")
        print(f"  of which API + transfer + sha256: {mib / t_inner:8.1f} MiB/s  ({t_inner:.2f} s)")
        print(f"ratio shai / curl                 : {t_curl / t_shai:8.2f}  (target >= 0.90)")
        print(f"ratio without interpreter start-up: {t_curl / t_inner:8.2f}")
        print(f"ratio shai / curl --parallel      : {t_curlp / t_shai:8.2f}")
        kept, miss = on_disk / (1 << 20), missing / (1 << 20)
        print(f"interrupted at 50 %: {kept:.1f} MiB kept on disk, {miss:.1f} MiB missing")
        print(
            f"resume transferred {resent / (1 << 20):.1f} MiB = missing + {(resent - missing) >> 10} KiB "
            f"(target <= missing + one chunk = {CHUNK >> 10} KiB)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
