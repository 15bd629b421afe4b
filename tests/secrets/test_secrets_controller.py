"""End to end with the real sealed-secrets controller (built from its Go module) against the
real Kubernetes API harness: the key shai installs (sealing_key module) is the one the
controller adopts, and it turns shai-sealed SealedSecrets into Secrets with the right data.
Then `shai-secrets backup` fetches the key back from the cluster into a vault."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from controller_run import controller
from typer.testing import CliRunner

from shai.secrets.cli import app

REPO = Path(__file__).resolve().parents[2]
CRD = REPO / "gitops" / "crds" / "bitnami.com_sealedsecrets.yaml"
pytestmark = pytest.mark.kube


def _install_key(cp: Any, tmp: Path, keypair: Any, namespace: str) -> dict[str, Any]:
    """Run the sealing_key module for real (ansible-playbook, localhost) against the harness."""
    play = [
        {
            "name": "install",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "tasks": [
                {
                    "name": f"install {i}",
                    "vectorweight.shai.sealing_key": {
                        "private_key": keypair.key_pem,
                        "certificate": keypair.cert_pem,
                        "namespace": namespace,
                        "kubeconfig": str(cp.kubeconfig),
                    },
                    "register": f"r{i}",
                    **({"check_mode": True} if i == 0 else {}),
                }
                for i in range(3)
            ]
            + [
                {
                    "name": "dump",
                    "ansible.builtin.copy": {
                        "dest": str(tmp / "install.yml"),
                        "content": "{{ {'r0': r0, 'r1': r1, 'r2': r2} | to_nice_yaml }}",
                    },
                }
            ],
        }
    ]
    pb = tmp / "install-play.yml"
    pb.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", str(pb)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
    return dict(yaml.safe_load((tmp / "install.yml").read_text()))


def test_controller_adopts_shai_key_and_unseals(
    kube_apiserver: Any, peer: Any, keypair: Any, tmp_path: Path, workspace: Any
) -> None:
    cp = kube_apiserver
    controller_bin = peer("controller")
    if not hasattr(cp, "in_cluster"):
        pytest.skip("kube harness has no in_cluster() yet")
    ctl_ns, app_ns = "shai-sealed-secrets", "shai-secrets-e2e"
    cp.apply(CRD)
    # 1. bootstrap: the module installs the key before the controller starts (check, apply, idempotent)
    r = _install_key(cp, tmp_path, keypair, ctl_ns)
    assert r["r0"]["changed"] and r["r1"]["changed"] and not r["r2"]["changed"]
    assert r["r1"]["fingerprint"] == sealing.cert_fingerprint(keypair.cert)

    # 2. the real controller, unmodified, running "in cluster" with a real service-account token
    with controller(cp, controller_bin, ctl_ns, tmp_path / "controller.log") as ctl:
        served, cert_url = ctl.cert_pem, ctl.cert_url
        # it adopted shai's key instead of generating its own
        assert sealing.cert_fingerprint(sealing.load_certificate(served)) == sealing.cert_fingerprint(
            keypair.cert
        )
        keys = cp.kubectl("get", "secrets", "-n", ctl_ns, "-l", sealing.KEY_LABEL, "-o", "name").stdout
        assert len(str(keys).split()) == 1, keys

        # 3. shai seals (cert fetched from the controller URL via the CLI path), the controller unseals
        cp.create_namespace(app_ns)
        from shai.secrets import lifecycle

        cert, _src = lifecycle.fetch_cert(cert_url, None)
        cases = {
            "strict": ("e2e-strict", {"password": "pw-strict-1", "user": "admin"}),
            "namespace-wide": ("e2e-nsw", {"token": "tok\x00bin"}),
            "cluster-wide": ("e2e-cw", {"api-key": "cluster wide ü"}),
        }
        for scope, (name, data) in cases.items():
            obj = sealing.build_sealed_secret(
                cert.public_key(),
                name,
                app_ns,
                data,
                scope=scope,
                labels={"app": "e2e"},
                secret_type="Opaque",
            )
            f = tmp_path / f"{name}.yaml"
            f.write_text(sealing.dump_yaml(obj))
            cp.apply(f)
        for scope, (name, data) in cases.items():
            got = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    out = cp.kubectl("get", "secret", name, "-n", app_ns, "-o", "yaml").stdout
                    got = yaml.safe_load(out)
                    break
                except Exception:
                    time.sleep(0.5)
            assert got is not None, (
                f"{scope}: no Secret; controller log:\n" + (tmp_path / "controller.log").read_text()[-3000:]
            )
            assert got["metadata"]["labels"]["app"] == "e2e"
            assert {k: base64.b64decode(v).decode() for k, v in got["data"].items()} == data

    # 4. the API service-proxy path kubeseal --fetch-cert uses is well-formed: the real API server
    #    routes it to the Service (which has no reachable endpoints here: the apiserver refuses to
    #    proxy to loopback, and the controller runs out of cluster), and the error is clear.
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient, KubeError

    svc = tmp_path / "svc.yaml"
    svc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "sealed-secrets-controller", "namespace": ctl_ns},
                "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
            }
        )
    )
    cp.apply(svc)
    with pytest.raises(KubeError, match=r"proxy/v1/cert.pem: HTTP 503"):
        KubeClient(kubeconfig=str(cp.kubeconfig)).controller_cert(ctl_ns)
    # 404 (no such service) or 503 (the API server's "no endpoints available"): both name the path.
    with pytest.raises(KubeError, match=r"HTTP (404|503)"):
        KubeClient(kubeconfig=str(cp.kubeconfig)).controller_cert(ctl_ns, "no-such-service")

    # 5. backup: the key comes back from the cluster into a (new) vault
    res = CliRunner().invoke(
        app,
        ["backup", "--kubeconfig", str(cp.kubeconfig), "--controller-namespace", ctl_ns],
        env=workspace.env(),
    )
    assert res.exit_code == 0, res.output
    from shai.secrets import lifecycle

    vault = lifecycle.open_vault(workspace.vault, workspace.password_file, must_exist=True)
    fps = [k["fingerprint"] for k in vault.data["vault_sealed_secrets_keys"]]
    assert fps == [sealing.cert_fingerprint(keypair.cert)]
    assert sealing.key_matches_cert(lifecycle.private_keys(vault)[0], keypair.cert)

    # 6. restore: a rebuilt cluster (key Secret gone) gets the vault keys back, idempotently
    cp.kubectl("delete", "secrets", "-n", ctl_ns, "-l", sealing.KEY_LABEL)
    for expected in ("1 key Secret(s) created/updated", "0 key Secret(s) created/updated"):
        res = CliRunner().invoke(
            app,
            ["restore", "--kubeconfig", str(cp.kubeconfig), "--controller-namespace", ctl_ns],
            env=workspace.env(),
        )
        assert res.exit_code == 0 and expected in res.output, res.output
    restored = KubeClient(kubeconfig=str(cp.kubeconfig)).list_secrets(ctl_ns, sealing.KEY_LABEL)
    assert len(restored) == 1
    _name, _key_pem, cert_pem = sealing.key_pair_from_secret(restored[0])
    assert sealing.cert_fingerprint(sealing.load_certificate(cert_pem)) == sealing.cert_fingerprint(
        keypair.cert
    )
