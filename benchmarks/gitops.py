"""Benchmark: render + validate the full GitOps tree (target < 5 s). Prints figures, asserts nothing.

    .venv/bin/python benchmarks/gitops.py [--inventory inventories/homelab] [--runs 5]

Offline: renders the inventory's tree into a temporary directory and validates it (schemas, CRD
schemas, policies). The first run includes loading the CRD schemas (cached afterwards in
${SHAI_CACHE:-~/.cache/shai}/gitops-crds-*.json); cold = that cache removed first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import _schemas

from shai.gitops import core


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=core.repo_root() / "inventories" / "homelab")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    layout = core.Layout.default()

    t0 = time.perf_counter()
    inv = core.inventory_vars(args.inventory)
    t_inv = time.perf_counter() - t0
    values = core.load_values(layout, inv)
    kube = str(values.get("gitops_kubernetes_version") or core.kube_pin())

    # cold: no CRD schema cache, fresh process-level caches
    files = [Path(p) for p in sorted(layout.crds.glob("*.yaml"))]
    cache = Path(_schemas.crd_cache_path([str(p) for p in files]))
    cache.unlink(missing_ok=True)
    _schemas.SCHEMA_CACHE.clear()

    rows: list[tuple[float, float, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="shai-bench-gitops-") as tmp:
        for i in range(args.runs):
            if i == 1:
                _schemas.SCHEMA_CACHE.clear()  # warm on-disk cache, fresh process caches
            t1 = time.perf_counter()
            tree = core.render(layout, values)
            core.write(tree, Path(tmp) / f"t{i}")
            t2 = time.perf_counter()
            count, findings = core.validate(Path(tmp) / f"t{i}", layout.crds, kube)
            t3 = time.perf_counter()
            rows.append((t2 - t1, t3 - t2, count, len(findings)))

    print(f"inventory: {args.inventory} (loaded in {t_inv:.2f}s); Kubernetes schemas {kube}")
    print(f"tree: {len(tree)} files, {rows[0][2]} objects, {rows[0][3]} findings")
    print(f"{'run':>5} {'render':>8} {'validate':>9} {'total':>7}")
    for i, (r, v, _c, _f) in enumerate(rows):
        label = "cold" if i == 0 else ("warm1" if i == 1 else f"hot{i}")
        print(f"{label:>5} {r:8.3f} {v:9.3f} {r + v:7.3f}")
    totals = [r + v for r, v, _c, _f in rows]
    print(
        f"render+validate: cold {totals[0]:.2f}s, median of the rest {statistics.median(totals[1:]):.2f}s "
        f"(target < 5 s)"
    )


if __name__ == "__main__":
    main()
