"""Benchmark: `shai-models download-hf` of a 1 GiB repo vs curl, first byte, resume cost, and
the same over a link shaped to 1 Gbit/s.

The repo (one 1 GiB LFS file by default; `--files 4` splits it) is served by the Hugging Face Hub
TEST DOUBLE on loopback.
1. curl fetches every file (same resolve URLs, following the CDN redirect) into a temp dir;
2. `shai-models download-hf --dest` fetches the repo, verifying every file against the Hub's
   sha256 (lfs.oid) while streaming. Targets (issue 17): end to end >= 0.90x curl; the first
   byte of the file leaves the double <= 0.4 s after the process was started (the time until the
   double starts serving the CDN GET, interpreter start-up and Hub API calls included);
3. interruption at 50 %: the double drops every file's connection at its half and then refuses
   service; the next run resumes. Prints the bytes re-transferred beyond the missing half
   (target: <= the remaining half + one chunk);
4. shaped link: a veth pair between this namespace and a network namespace on a private /30
   (SHAPED_NET, outside the lab's 10.213.0.0/16), `tc tbf` at 1 Gbit/s on the server's side;
   the double listens on the root side, curl and shai-models run in the namespace. Target:
   >= 0.95x curl. Needs root, `ip netns` and `tc`; otherwise prints "skipped: <reason>".
Every child runs without PYTHONDONTWRITEBYTECODE (bytecode cached, as an installed CLI).
Run: .venv/bin/python benchmarks/models_download.py [--size-mib 1024] [--files 1] [--no-shaped]
[--src DIR] (time another checkout's src with this venv: `git archive REV src | tar -x -C DIR/..`)
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models"))

from hub_double import HubDouble  # noqa: E402

CHUNK = 4 << 20  # module_utils/download.CHUNK_SIZE
RATIO_TARGET = 0.90
SHAPED_TARGET = 0.95
FIRST_BYTE_TARGET_S = 0.4
# the shaped link: a private /30 outside the lab's 10.213.0.0/16 (src/shai/lab/net.py)
SHAPED_NET = ipaddress.IPv4Network("172.29.87.0/30")
NETNS, VETH_ROOT, VETH_NS = "shai-bench-dl", "shaibench0", "shaibench1"
RATE = "1gbit"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def _shai(
    env: dict[str, str], dest: Path, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(prefix or []),
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


def _serve_times(hub: HubDouble) -> list[float]:
    """perf_counter() of every file the double starts to serve (a measuring hook, benchmark only)."""
    handler = hub._server.RequestHandlerClass  # the one handler class of both ports
    starts: list[float] = []
    serve = handler._serve_file  # type: ignore[attr-defined]

    def timed(self: object, key: str, src: Path, extra: dict[str, str]) -> None:
        if getattr(self, "command", "") == "GET":
            starts.append(time.perf_counter())
        serve(self, key, src, extra)

    handler._serve_file = timed  # type: ignore[attr-defined]
    return starts


class _Runner:
    """curl and shai-models against one double; each run: (seconds, seconds to the first byte)."""

    def __init__(self, hub: HubDouble, tmp: Path, env: dict[str, str], prefix: list[str]) -> None:
        r = hub.state.repos["bench/repo"]
        self.urls = [f"{hub.endpoint}/bench/repo/resolve/{r.commit}/{n}" for n in sorted(r.files)]
        self.starts = _serve_times(hub)
        self.tmp, self.env, self.prefix = tmp, env, prefix

    def _first_byte(self, t0: float) -> float:
        after = [t for t in self.starts if t >= t0]
        return (min(after) - t0) if after else float("nan")

    def curl(self, parallel: bool) -> tuple[float, float]:
        curl_dir = self.tmp / "curl"
        curl_dir.mkdir()
        cmd = [*self.prefix, "curl", "-sS", "-f", "-L"] + (["--parallel"] if parallel else [])
        for u in self.urls:
            cmd += ["-o", str(curl_dir / u.rsplit("/", 1)[1]), u]
        os.sync()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        took = time.perf_counter() - t0
        shutil.rmtree(curl_dir)
        return took, self._first_byte(t0)

    def shai(self) -> tuple[float, float, float]:
        """(seconds, seconds inside download_hf, seconds to the first byte)."""
        dest = self.tmp / "shai"
        os.sync()
        t0 = time.perf_counter()
        res = _shai(self.env, dest, self.prefix)
        took = time.perf_counter() - t0
        if res.returncode != 0:
            raise SystemExit(f"download-hf failed: {res.stdout}{res.stderr}")
        inner = float(json.loads(res.stdout[res.stdout.index("{") :])["elapsed_s"])
        shutil.rmtree(dest)
        return took, inner, self._first_byte(t0)


def _rounds(run: _Runner, rounds: int, with_parallel: bool) -> dict[str, list[float]]:
    """Alternate the order every round; flush dirty pages before each run (whoever writes second
    otherwise pays for the first one's write-back)."""
    out: dict[str, list[float]] = {k: [] for k in ("curl", "curl_fb", "curlp", "shai", "inner", "shai_fb")}
    for rnd in range(rounds):
        order = ["curl", "shai", "curlp"] if rnd % 2 == 0 else ["shai", "curlp", "curl"]
        for what in order:
            if what == "curl":
                took, fb = run.curl(False)
                out["curl"].append(took)
                out["curl_fb"].append(fb)
            elif what == "curlp":
                if with_parallel:
                    out["curlp"].append(run.curl(True)[0])
            else:
                took, inner, fb = run.shai()
                out["shai"].append(took)
                out["inner"].append(inner)
                out["shai_fb"].append(fb)
    return out


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _sh(*cmd: str) -> None:
    subprocess.run(list(cmd), check=True, capture_output=True, text=True)


@contextlib.contextmanager
def _shaped_link() -> Iterator[tuple[str, list[str]]]:
    """(server address, command prefix for the client side); the namespace is removed afterwards."""
    root_ip, ns_ip = (str(h) for h in SHAPED_NET.hosts())
    plen = SHAPED_NET.prefixlen
    try:
        _sh("ip", "netns", "add", NETNS)
        _sh("ip", "link", "add", VETH_ROOT, "type", "veth", "peer", "name", VETH_NS)
        _sh("ip", "link", "set", VETH_NS, "netns", NETNS)
        _sh("ip", "addr", "add", f"{root_ip}/{plen}", "dev", VETH_ROOT)
        _sh("ip", "link", "set", VETH_ROOT, "up")
        _sh("ip", "-n", NETNS, "addr", "add", f"{ns_ip}/{plen}", "dev", VETH_NS)
        _sh("ip", "-n", NETNS, "link", "set", VETH_NS, "up")
        _sh("ip", "-n", NETNS, "link", "set", "lo", "up")
        # the server's egress (the bytes of the file) at 1 Gbit/s; ACKs go the other way unshaped
        _sh(
            "tc",
            "qdisc",
            "add",
            "dev",
            VETH_ROOT,
            "root",
            "tbf",
            "rate",
            RATE,
            "burst",
            "1mb",
            "latency",
            "20ms",
        )
        yield root_ip, ["ip", "netns", "exec", NETNS]
    finally:
        subprocess.run(["ip", "link", "del", VETH_ROOT], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)


def _shaped_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (ip netns, tc)"
    for tool in ("ip", "tc", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"ip netns unavailable: {probe.stderr.strip()}"
    if NETNS in probe.stdout:
        return f"network namespace {NETNS} exists already (another run?)"
    return None


def _shaped(repo: Path, tmp: Path, base_env: dict[str, str], rounds: int, mib: float) -> None:
    print(f"-- shaped link: veth {SHAPED_NET} into netns {NETNS}, tc tbf {RATE} on the server side")
    why = _shaped_unavailable()
    if why is not None:
        print(f"skipped: {why}")
        return
    try:
        with _shaped_link() as (server_ip, prefix), HubDouble(host=server_ip) as hub:
            hub.add_repo("bench/repo", repo)
            env = dict(base_env, HF_ENDPOINT=hub.endpoint)
            got = _rounds(_Runner(hub, tmp, env, prefix), rounds, with_parallel=False)
    except subprocess.CalledProcessError as exc:
        print(f"skipped: {' '.join(exc.cmd)} failed: {(exc.stderr or '').strip()}")
        return
    t_curl, t_shai = _median(got["curl"]), _median(got["shai"])
    print(f"curl (sequential, -L)             : {mib / t_curl:8.1f} MiB/s  ({t_curl:.2f} s)")
    print(f"shai-models download-hf (+sha256) : {mib / t_shai:8.1f} MiB/s  ({t_shai:.2f} s incl. start)")
    print(f"first byte: shai {_median(got['shai_fb']):.3f} s, curl {_median(got['curl_fb']):.3f} s")
    print(f"ratio shai / curl                 : {t_curl / t_shai:8.2f}  (target >= {SHAPED_TARGET:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-shaped", action="store_true", help="skip the shaped-link run")
    ap.add_argument("--src", type=Path, help="put this src directory first on PYTHONPATH")
    args = ap.parse_args()
    print(f"before: {_load()}")
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
        base_env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "PYTHONDONTWRITEBYTECODE")}
        base_env.update(HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp / "hf"))
        if args.src is not None:
            base_env["PYTHONPATH"] = str(args.src.resolve())
            print(f"timing the shai package in {args.src}")
        with HubDouble() as hub:
            r = hub.add_repo("bench/repo", repo)
            env = dict(base_env, HF_ENDPOINT=hub.endpoint)
            runner = _Runner(hub, tmp, env, [])
            runner.shai()  # untimed: bytecode written, page cache warm
            got = _rounds(runner, args.rounds, with_parallel=True)
            t_curl, t_curlp = _median(got["curl"]), _median(got["curlp"])
            t_shai, t_inner = _median(got["shai"]), _median(got["inner"])
            fb_shai, fb_curl = _median(got["shai_fb"]), _median(got["curl_fb"])

            # interruption at 50 %
            dest = tmp / "shai"
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
            shutil.rmtree(dest)
        missing = total - on_disk
        files = f"{args.files} LFS file(s) + config.json"
        print(f"repo: {files}, {mib:.0f} MiB, Hub test double on loopback")
        print(f"medians of {args.rounds} rounds, order alternated, page cache flushed (sync) before each run")
        print(f"curl (sequential, -L)             : {mib / t_curl:8.1f} MiB/s  ({t_curl:.2f} s)")
        print(f"curl --parallel                   : {mib / t_curlp:8.1f} MiB/s  ({t_curlp:.2f} s)")
        print(f"shai-models download-hf (+sha256) : {mib / t_shai:8.1f} MiB/s  ({t_shai:.2f} s incl. start)")
        print(f"  of which API + transfer + sha256: {mib / t_inner:8.1f} MiB/s  ({t_inner:.2f} s)")
        print(f"ratio shai / curl                 : {t_curl / t_shai:8.2f}  (target >= {RATIO_TARGET:.2f})")
        print(f"ratio without interpreter start-up: {t_curl / t_inner:8.2f}")
        print(f"ratio shai / curl --parallel      : {t_curlp / t_shai:8.2f}")
        print(
            f"first byte after process start    : {fb_shai:8.3f} s  (target <= {FIRST_BYTE_TARGET_S:.1f} s;"
            f" curl {fb_curl:.3f} s)"
        )
        kept, miss = on_disk / (1 << 20), missing / (1 << 20)
        print(f"interrupted at 50 %: {kept:.1f} MiB kept on disk, {miss:.1f} MiB missing")
        print(
            f"resume transferred {resent / (1 << 20):.1f} MiB = missing + {(resent - missing) >> 10} KiB "
            f"(target <= missing + one chunk = {CHUNK >> 10} KiB)"
        )
        if not args.no_shaped:
            _shaped(repo, tmp, base_env, args.rounds, mib)
        print(f"after: {_load()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
