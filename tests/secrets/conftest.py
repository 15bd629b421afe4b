"""Fixtures of the secrets tests: upstream vectors, key pairs, a scratch repo with a vault."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

# --import-mode=importlib: make this directory's helper modules (controller_run.py) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[2]
TESTDATA = (
    Path(os.environ.get("SHAI_SHARED_TESTDATA", REPO.parent / "shared" / "testdata")) / "sealed-secrets"
)


def _peer(name: str) -> Path | None:
    """A real peer binary, or None when it is missing and SHAI_REQUIRE_PEERS is unset (CI sets it)."""
    from shai import tools

    try:
        return tools.binary(name)
    except tools.ToolNotFoundError as exc:
        if os.environ.get("SHAI_REQUIRE_PEERS"):
            pytest.fail(f"SHAI_REQUIRE_PEERS is set but {exc}")
        return None


@pytest.fixture(scope="session")
def kubeseal() -> Path:
    path = _peer("kubeseal")
    if path is None:
        pytest.skip("kubeseal not built (tools/build.sh sealed-secrets)")
    return path


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    path = TESTDATA / "vectors.json"
    if not path.exists():
        pytest.fail(f"upstream vectors missing: {path}")
    return dict(json.loads(path.read_text()))


@pytest.fixture(scope="session")
def upstream_key() -> Any:
    return sealing.load_private_key((TESTDATA / "key.pem").read_bytes())


@pytest.fixture(scope="session")
def upstream_cert() -> Any:
    return sealing.load_certificate((TESTDATA / "cert.pem").read_bytes())


@dataclass
class KeyPair:
    key_pem: str
    cert_pem: str
    key: Any
    cert: Any
    key_path: Path
    cert_path: Path


@pytest.fixture(scope="session")
def keypair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """A fresh controller-style pair (RSA-2048 to keep the suite quick; keygen's 4096 is tested once)."""
    d = tmp_path_factory.mktemp("keypair")
    key_pem, cert_pem = sealing.generate_key_pair(bits=2048)
    (d / "key.pem").write_text(key_pem)
    (d / "cert.pem").write_text(cert_pem)
    return KeyPair(
        key_pem,
        cert_pem,
        sealing.load_private_key(key_pem),
        sealing.load_certificate(cert_pem),
        d / "key.pem",
        d / "cert.pem",
    )


@dataclass
class Workspace:
    root: Path
    password_file: Path
    vault: Path
    gitops: Path
    credentials: Path
    catalog: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SHAI_VAULT_PASSWORD_FILE=str(self.password_file),
            SHAI_SECRETS_VAULT=str(self.vault),
            SHAI_SECRETS_CATALOG=str(self.catalog),
            SHAI_GITOPS_DIR=str(self.gitops),
            SHAI_CREDENTIALS_FILE=str(self.credentials),
        )
        return env


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A scratch directory with the real catalog, a vault password file and the env pointing at it."""
    (tmp_path / "secrets").mkdir()
    shutil.copy(REPO / "secrets" / "catalog.yml", tmp_path / "secrets" / "catalog.yml")
    pw = tmp_path / "vault-pass"
    pw.write_text("correct horse battery staple\n")
    pw.chmod(0o600)
    ws = Workspace(
        tmp_path,
        pw,
        tmp_path / "vault.yml",
        tmp_path / "gitops",
        tmp_path / "ADMIN_CREDENTIALS.local.md",
        tmp_path / "secrets" / "catalog.yml",
    )
    for k, v in ws.env().items():
        if k.startswith("SHAI_"):
            monkeypatch.setenv(k, v)
    return ws


def _fixed_rand(hex_bytes: str) -> Callable[[int], bytes]:
    buf = bytes.fromhex(hex_bytes)
    pos = 0

    def rand(n: int) -> bytes:
        nonlocal pos
        out = buf[pos : pos + n]
        pos += n
        assert len(out) == n, "rand_hex exhausted"
        return out

    return rand


@pytest.fixture(scope="session")
def fixed_rand() -> Callable[[str], Callable[[int], bytes]]:
    """fixed_rand(hex) -> a rand(n) callable replaying those bytes (upstream order: AES key, OAEP seed)."""
    return _fixed_rand
