"""Interop with the real kubeseal (built from its Go module by tools/build.sh), both ways, offline."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

SCOPES = ["strict", "namespace-wide", "cluster-wide"]


def _run(argv: list[Any], stdin: bytes = b"") -> bytes:
    proc = subprocess.run([str(a) for a in argv], input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("scope", SCOPES)
def test_kubeseal_recovery_unseal_opens_shai_output(
    scope: str, kubeseal: Path, keypair: Any, tmp_path: Path
) -> None:
    data = {"password": "s3cr3t-ü", "empty": "", "blob": bytes(range(256))}
    obj = sealing.build_sealed_secret(
        keypair.cert.public_key(),
        "app-creds",
        "team-a",
        data,
        scope=scope,
        labels={"app": "demo"},
        annotations={"note": "x"},
        secret_type="Opaque",
        allow_empty=True,  # an empty value on purpose: kubeseal's null
    )
    src = tmp_path / "ss.yaml"
    src.write_text(sealing.dump_yaml(obj))
    out = _run(
        [kubeseal, "--recovery-unseal", "--recovery-private-key", keypair.key_path, "-o", "json", "-f", src]
    )
    secret = json.loads(out)
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "app-creds"
    assert secret["metadata"]["labels"] == {"app": "demo"}
    # kubeseal prints an empty value as null (a nil Go []byte)
    assert {k: base64.b64decode(v or "") for k, v in secret["data"].items()} == {
        "password": "s3cr3t-ü".encode(),
        "empty": b"",
        "blob": bytes(range(256)),
    }


def test_kubeseal_rejects_shai_output_moved_to_other_namespace(
    kubeseal: Path, keypair: Any, tmp_path: Path
) -> None:
    obj = sealing.build_sealed_secret(keypair.cert.public_key(), "n", "ns1", {"k": "v"})
    obj["metadata"]["namespace"] = "ns2"
    src = tmp_path / "ss.yaml"
    src.write_text(sealing.dump_yaml(obj))
    proc = subprocess.run(
        [str(kubeseal), "--recovery-unseal", "--recovery-private-key", str(keypair.key_path), "-f", str(src)],
        capture_output=True,
    )
    assert proc.returncode != 0


@pytest.mark.parametrize("scope", SCOPES)
def test_shai_opens_kubeseal_raw(scope: str, kubeseal: Path, keypair: Any) -> None:
    ns, name = (
        ("team-a", "app") if scope == "strict" else ("team-a", "") if scope == "namespace-wide" else ("", "")
    )
    argv = [kubeseal, "--raw", "--cert", keypair.cert_path, "--scope", scope]
    if ns:
        argv += ["--namespace", ns]
    if name:
        argv += ["--name", name]
    b64 = _run(argv, b"raw value \x00\xff").decode()
    assert sealing.unseal_value(keypair.key, b64, ns, name, scope) == b"raw value \x00\xff"
    if scope != "cluster-wide":
        with pytest.raises(sealing.DecryptError):
            sealing.unseal_value(keypair.key, b64, "other", name or "x", scope)


@pytest.mark.parametrize("scope", SCOPES)
def test_shai_opens_kubeseal_manifest(scope: str, kubeseal: Path, keypair: Any, tmp_path: Path) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "db", "namespace": "team-b", "labels": {"tier": "db"}},
        "data": {
            "password": base64.b64encode(b"p@ss").decode(),
            "bin": base64.b64encode(b"\x00\x01").decode(),
        },
        "stringData": {"user": "admin"},
    }
    src = tmp_path / "secret.yaml"
    src.write_text(yaml.safe_dump(secret))
    out = _run([kubeseal, "--cert", keypair.cert_path, "--scope", scope, "-o", "yaml", "-f", src])
    obj = yaml.safe_load(out)
    assert sealing.sealed_secret_scope(obj) == scope
    assert sealing.unseal_sealed_secret(keypair.key, obj) == {
        "password": b"p@ss",
        "bin": b"\x00\x01",
        "user": b"admin",
    }
    # shai's own manifest sealing gives the same layout (modulo ciphertext)
    mine = sealing.secret_to_sealed_secret(keypair.cert.public_key(), secret, scope=scope)
    assert sealing.sealed_secret_scope(mine) == scope
    assert sorted(mine["spec"]["encryptedData"]) == sorted(obj["spec"]["encryptedData"])
    assert mine["spec"]["template"]["type"] == obj["spec"]["template"]["type"]
    assert mine["spec"]["template"]["metadata"]["labels"] == obj["spec"]["template"]["metadata"]["labels"]


def test_shai_cli_raw_opens_with_kubeseal(kubeseal: Path, keypair: Any, tmp_path: Path) -> None:
    """`shai-secrets seal --raw` is a drop-in for `kubeseal --raw`."""
    from typer.testing import CliRunner

    from shai.secrets.cli import app

    res = CliRunner().invoke(
        app,
        ["seal", "--raw", "--cert", str(keypair.cert_path), "--namespace", "ns", "--name", "n"],
        input="hello",
    )
    assert res.exit_code == 0, res.output
    obj = sealing.build_sealed_secret(keypair.cert.public_key(), "n", "ns", {"x": "unused"})
    obj["spec"]["encryptedData"] = {"k": res.stdout.strip()}
    src = tmp_path / "ss.yaml"
    src.write_text(sealing.dump_yaml(obj))
    secret = json.loads(
        _run(
            [
                kubeseal,
                "--recovery-unseal",
                "--recovery-private-key",
                keypair.key_path,
                "-o",
                "json",
                "-f",
                src,
            ]
        )
    )
    assert base64.b64decode(secret["data"]["k"]) == b"hello"


def test_kubeseal_refuses_what_shai_refuses(kubeseal: Path, tmp_path: Path) -> None:
    """An expired certificate is refused by both, with the same wording."""
    import datetime

    _key_pem, cert_pem = sealing.generate_key_pair(
        bits=2048, days=1, now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)
    )
    path = tmp_path / "expired.pem"
    path.write_text(cert_pem)
    proc = subprocess.run(
        [str(kubeseal), "--raw", "--cert", str(path), "--namespace", "a", "--name", "b"],
        input=b"v",
        capture_output=True,
    )
    assert proc.returncode != 0
    assert b"expired" in proc.stderr
    with pytest.raises(sealing.SealingError, match="failed to encrypt using an expired certificate"):
        sealing.load_certificate(cert_pem)
