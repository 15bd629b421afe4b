"""Benchmark: the homelab tree rendered and validated, without and with its charts. Prints figures.

    .venv/bin/python benchmarks/gitops_render.py [--inventory inventories/homelab]
        [--charts $SHAI_SHARED_CHARTS] [--runs 3] [--cold]

1. offline render + validate (templates -> tree -> every rule; no Helm)        target < 5 s
2. render + helm + validate (every chart Application rendered by the real Helm,
   its objects validated too), warm render cache                               target <= 20 s

--cold first empties the Helm render cache (${SHAI_CACHE:-~/.cache/shai}/helm-render) so the
first run of (2) shows the cold cost. Needs helm (tools/build.sh helm) and the chart sources.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm

from shai.gitops import core

OFFLINE_TARGET = 5.0
HELM_TARGET = 20.0


def _run(layout: core.Layout, values: dict[str, object], out: Path, kube: str, charts: Path | None) -> tuple:
    t0 = time.perf_counter()
    core.write(core.render(layout, values), out)
    t1 = time.perf_counter()
    result = core.validate_charts(out, layout.crds, kube, charts)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=core.repo_root() / "inventories" / "homelab")
    parser.add_argument("--charts", type=Path, default=os.environ.get("SHAI_SHARED_CHARTS"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="empty the helm render cache first")
    args = parser.parse_args()
    layout = core.Layout.default()
    values = core.load_values(layout, core.inventory_vars(args.inventory))
    kube = str(values.get("gitops_kubernetes_version") or core.kube_pin())
    print(f"inventory {args.inventory}; Kubernetes {kube}; charts {args.charts or '(none)'}")

    with tempfile.TemporaryDirectory(prefix="shai-bench-render-") as tmp:
        offline = [_run(layout, values, Path(tmp) / f"o{i}", kube, None) for i in range(args.runs)]
        r, v, res = offline[-1]
        best = min(a + b for a, b, _ in offline)
        print(
            f"offline render+validate: {best:.2f}s best of {args.runs} "
            f"(last: render {r:.2f}s, validate {v:.2f}s; "
            f"{res.count} objects, {len(res.failures)} findings)  target < {OFFLINE_TARGET:.0f} s"
        )
        if not args.charts:
            print("render+helm+validate: skipped (no --charts / SHAI_SHARED_CHARTS)")
            return
        if args.cold:
            shutil.rmtree(Path(gitops_helm.cache_root()) / "helm-render", ignore_errors=True)
        n = max(2, args.runs)
        runs = [_run(layout, values, Path(tmp) / f"h{i}", kube, args.charts) for i in range(n)]
    totals = [a + b for a, b, _ in runs]
    res = runs[-1][2]
    charts = [x for x in res.renders if x.kind == "chart"]
    rendered = sum(1 for x in charts if not x.unverified and not x.error)
    first = "cold" if args.cold else "first"
    print(
        f"render+helm+validate: {first} {totals[0]:.2f}s, warm {statistics.median(totals[1:]):.2f}s median "
        f"({rendered} chart Applications rendered, {len(res.unverified)} unverified: "
        f"{', '.join(sorted(res.unverified))}; {res.count} objects, {len(res.failures)} findings)  "
        f"target <= {HELM_TARGET:.0f} s warm"
    )


if __name__ == "__main__":
    main()
