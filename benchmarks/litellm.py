"""Benchmark the real LiteLLM proxy in front of real Ollama servers on loopback (issue 16 §1).

The topology of tests/litellm: the config the GitOps tree renders for a two-GPU-workstation
inventory, three real Ollamas (two "GPU workstations", the CPU Ollama) holding the tiny test
model, the proxy from the isolated venv (tools/litellm). Prints:

  * the proxy's start-up time (process start -> /health/liveliness answers),
  * the proxy's added latency per request: median of N chat completions through the proxy minus
    the median of the same request sent directly to a GPU Ollama's OpenAI endpoint, interleaved
    (target <= 25 ms); LiteLLM's own x-litellm-overhead-duration-ms beside it,
  * failover time: a GPU Ollama is stopped between two requests; the time from the stop to the
    next answer (target <= 2 s), repeated R times; and the same with both GPU Ollamas stopped
    (the CPU fallback answers; no target, printed for reference).

With --contrast: the evidence for the mechanism (ADR 0311): with one GPU Ollama stopped, where 30
chat requests land through the rendered config and through the same config with weighted
failover off (fallbacks kept, then none) — three proxies side by side.

Run: .venv/bin/python benchmarks/litellm.py [--n 40] [--rounds 3] [--contrast]
Needs ~/.cache/shai/bin/ollama (tools/build.sh ollama) and the LiteLLM venv (tools/litellm/build.sh).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "litellm"))

import litellm_harness as h  # noqa: E402

from shai import tools  # noqa: E402

LATENCY_TARGET_MS = 25.0
FAILOVER_TARGET_S = 2.0
BODY = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 1}


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def _verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def added_latency(topo: h.Topology, n: int) -> None:
    gpu = topo.gpu[0]
    model = next(
        m["litellm_params"]["model"].split("/", 1)[1]
        for m in topo.mapped["model_list"]
        if m["model_name"] == "chat" and m["litellm_params"]["api_base"] == gpu.url
    )
    proxy_url = topo.proxy.url + "/v1/chat/completions"
    direct_url = gpu.url + "/v1/chat/completions"  # Ollama's own OpenAI-compatible endpoint
    # Both GPU Ollamas run the same tiny model on the same machine: the proxy's pick between them
    # does not change the backend's share of the time.
    for _ in range(3):  # warm: the model loaded, the proxy's clients created
        h.post(direct_url, {"model": model, **BODY}, None)
        h.post(proxy_url, {"model": "chat", **BODY}, topo.proxy.master_key)
    direct: list[float] = []
    proxied: list[float] = []
    overhead: list[float] = []
    for _ in range(n):
        d = h.post(direct_url, {"model": model, **BODY}, None)
        p = h.post(proxy_url, {"model": "chat", **BODY}, topo.proxy.master_key)
        assert d.status == 200 and p.status == 200, (d.body, p.body)
        direct.append(d.seconds * 1000)
        proxied.append(p.seconds * 1000)
        if "x-litellm-overhead-duration-ms" in p.headers:
            overhead.append(float(p.headers["x-litellm-overhead-duration-ms"]))
    md, mp = statistics.median(direct), statistics.median(proxied)
    added = mp - md
    print(
        f"proxy added latency: {added:.1f} ms median (proxy {mp:.1f} ms, direct Ollama {md:.1f} ms, "
        f"n={n}, p90 proxy {statistics.quantiles(proxied, n=10)[-1]:.1f} ms) "
        f"target <= {LATENCY_TARGET_MS:.0f} ms: {_verdict(added <= LATENCY_TARGET_MS)}; {_load()}"
    )
    if overhead:
        print(f"  LiteLLM's own x-litellm-overhead-duration-ms: median {statistics.median(overhead):.1f} ms")


def _until_answered(topo: h.Topology, since: float) -> tuple[float, str]:
    while True:
        a = h.post(topo.proxy.url + "/v1/chat/completions", {"model": "chat", **BODY}, topo.proxy.master_key)
        if a.status == 200:
            return time.monotonic() - since, topo.served_by(a)


def failover(topo: h.Topology, rounds: int) -> None:
    one: list[float] = []
    both: list[float] = []
    where_one: set[str] = set()
    where_both: set[str] = set()
    embeds: Counter[str] = Counter()
    for _ in range(rounds):
        topo.up()
        for _ in range(4):  # traffic on both GPU hosts before the stop
            h.post(topo.proxy.url + "/v1/chat/completions", {"model": "chat", **BODY}, topo.proxy.master_key)
        victim = topo.gpu[0]
        t0 = time.monotonic()
        victim.stop()
        secs, host = _until_answered(topo, t0)
        one.append(secs)
        where_one.add(host)
        # Several more: each must still be answered (a dead deployment is never cooled down, so
        # later requests may pick it first and fail over again).
        for _ in range(5):
            secs, host = _until_answered(topo, time.monotonic())
            one.append(secs)
            where_one.add(host)
        # Embeddings have no weighted failover (ADR 0311): where do they land meanwhile?
        group = topo.values["gitops_litellm_embedding_group"]
        for _ in range(10):
            body = {"model": group, "input": "x"}
            e = h.post(topo.proxy.url + "/v1/embeddings", body, topo.proxy.master_key)
            embeds[topo.served_by(e) if e.status == 200 else f"HTTP {e.status}"] += 1
        t0 = time.monotonic()
        topo.gpu[1].stop()
        secs, host = _until_answered(topo, t0)
        both.append(secs)
        where_both.add(host)
    topo.up()
    worst = max(one)
    print(
        f"failover, one GPU Ollama stopped -> next answer: median {statistics.median(one) * 1000:.0f} ms, "
        f"max {worst * 1000:.0f} ms (n={len(one)}, served by {sorted(where_one)}) "
        f"target <= {FAILOVER_TARGET_S:.0f} s: {_verdict(worst <= FAILOVER_TARGET_S)}"
    )
    print(
        f"failover, both GPU Ollamas stopped -> CPU fallback answers: median "
        f"{statistics.median(both) * 1000:.0f} ms, max {max(both) * 1000:.0f} ms "
        f"(n={len(both)}, served by {sorted(where_both)})"
    )
    print(f"embeddings, one GPU Ollama stopped (no weighted failover in LiteLLM): answered by {dict(embeds)}")


def contrast(topo: h.Topology, work: Path, venv: Path) -> None:
    import copy

    off = copy.deepcopy(topo.mapped)
    off["router_settings"]["enable_weighted_failover"] = False
    bare = copy.deepcopy(off)
    bare["router_settings"]["fallbacks"] = []
    variants = {
        "weighted failover off, fallbacks kept": h.Proxy(venv, off, work / "contrast-off"),
        "weighted failover off, no fallbacks": h.Proxy(venv, bare, work / "contrast-bare"),
    }
    for p in variants.values():
        p.launch()
    try:
        for p in variants.values():
            p.wait_ready()
        topo.up()
        topo.gpu[0].stop()
        for name, p in [("rendered config (weighted failover on)", topo.proxy), *variants.items()]:
            got: Counter[str] = Counter()
            for _ in range(30):
                a = h.post(p.url + "/v1/chat/completions", {"model": "chat", **BODY}, p.master_key)
                got[
                    topo.owner.get(a.headers.get("x-litellm-model-api-base", ""), "?")
                    if a.status == 200
                    else f"HTTP {a.status}"
                ] += 1
            print(f"contrast, {topo.gpu[0].name} stopped, 30 chat requests, {name}: {dict(got)}")
    finally:
        for p in variants.values():
            p.stop()
        topo.up()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=40, help="requests per side for the latency median")
    parser.add_argument("--rounds", type=int, default=3, help="failover rounds")
    parser.add_argument(
        "--contrast", action="store_true", help="also run the mechanism contrast (2 more proxies)"
    )
    args = parser.parse_args()
    try:
        ollama = tools.binary("ollama")
        venv = h.litellm_venv()
    except (tools.ToolNotFoundError, FileNotFoundError) as exc:
        print(f"litellm benchmark: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="shai-bench-litellm-") as work:
        t0 = time.monotonic()
        topo = h.start_topology(h.GPU2_INVENTORY, ollama, venv, Path(work))
        try:
            print(
                f"LiteLLM {h.litellm_version(venv)}: proxy start-up {topo.proxy.startup_seconds:.1f}s "
                f"(topology ready in {time.monotonic() - t0:.1f}s: render + 3 Ollamas + proxy); {_load()}"
            )
            added_latency(topo, args.n)
            failover(topo, args.rounds)
            if args.contrast:
                contrast(topo, Path(work), venv)
        finally:
            topo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
