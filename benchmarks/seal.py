"""Seal 200 Secrets with shai in one process vs 200 `kubeseal --cert` invocations.

Same RSA-4096 certificate, same Secret manifests (3 keys each), both sealing offline. Prints
both wall-clock times and the ratio (target: shai >= 50x faster). The shai figure is the median
of three runs; the kubeseal figure is one pass of 200 processes. Both outputs are checked to
decrypt, so nothing is measured that does not work.

Run: .venv/bin/python benchmarks/seal.py [--count 200]
"""

from __future__ import annotations

import argparse
import base64
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

from shai import tools


def manifests(count: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(count):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": f"bench-{i:03d}", "namespace": f"ns-{i % 7}"},
                "data": {
                    k: base64.b64encode(secrets.token_bytes(24)).decode()
                    for k in ("password", "api-key", "token")
                },
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    try:
        kubeseal = tools.binary("kubeseal")
    except tools.ToolNotFoundError as exc:
        print(f"kubeseal missing: {exc}", file=sys.stderr)
        return 2

    key_pem, cert_pem = sealing.generate_key_pair(bits=4096)
    key = sealing.load_private_key(key_pem)
    docs = manifests(args.count)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "cert.pem").write_text(cert_pem)
        paths = []
        for doc in docs:
            p = d / f"{doc['metadata']['name']}.yaml"  # type: ignore[index]
            p.write_text(yaml.safe_dump(doc))
            paths.append(p)

        # shai: one process, certificate loaded once (what `shai-secrets seal` does). Three runs,
        # the median is reported (the in-process figure is short, so machine load shows in it).
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            cert = sealing.load_certificate((d / "cert.pem").read_bytes())
            pub = cert.public_key()
            shai_out = [sealing.dump_yaml(sealing.secret_to_sealed_secret(pub, doc)) for doc in docs]
            runs.append(time.perf_counter() - t0)
        t_shai = sorted(runs)[1]

        # kubeseal: one invocation per Secret (what a shell loop over kubeseal does)
        t0 = time.perf_counter()
        ks_out = []
        for p in paths:
            proc = subprocess.run(
                [str(kubeseal), "--cert", str(d / "cert.pem"), "-o", "yaml", "-f", str(p)],
                capture_output=True,
                check=True,
            )
            ks_out.append(proc.stdout)
        t_ks = time.perf_counter() - t0

    # correctness: every output of both decrypts with the key
    for text in shai_out + [o.decode() for o in ks_out]:
        opened = sealing.unseal_sealed_secret(key, yaml.safe_load(text))
        assert len(opened) == 3
    n = args.count
    print(f"secrets sealed      : {n} (3 keys each, RSA-4096 certificate)")
    print(
        f"shai (one process)  : {t_shai:8.3f} s  ({t_shai / n * 1000:7.2f} ms/secret; "
        f"median of {', '.join(f'{r:.3f}' for r in runs)})"
    )
    print(f"kubeseal --cert x{n}: {t_ks:8.3f} s  ({t_ks / n * 1000:7.2f} ms/secret)")
    ratio = t_ks / t_shai if t_shai else float("inf")
    print(f"ratio               : {ratio:8.1f}x  (target >= 50x: {'met' if ratio >= 50 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
