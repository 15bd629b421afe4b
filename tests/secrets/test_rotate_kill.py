"""`shai-secrets rotate --all` interrupted at every stage by SIGINT, SIGTERM and SIGKILL
(issue 14, class 4; src/shai/secrets/transaction.py).

The process stops itself at an exact point through the ``SHAI_SECRETS_STOP_AT=<stage>:<SIGNAL>``
hook (no sleeps). Afterwards ``verify`` reports the state, and one re-run (``seal`` once the vault
holds the new values, else ``rotate --all`` again) leaves vault, SealedSecrets and the
credentials file consistent, with no temporary file left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import atomic
from typer.testing import CliRunner

from shai.secrets import lifecycle
from shai.secrets.cli import app
from shai.secrets.transaction import STAGES, STOP_ENV

REPO = Path(__file__).resolve().parents[2]
SIGNALS = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -signal.SIGKILL}


def _cli(ws: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=ws.env())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sealed workspace made once; every case works on a copy."""
    root = tmp_path_factory.mktemp("kill-template")
    (root / "secrets").mkdir()
    shutil.copy(REPO / "secrets" / "catalog.yml", root / "secrets" / "catalog.yml")
    (root / "vault-pass").write_text("correct horse battery staple\n")
    ws = _ws(root)
    for args in (("keygen", "--bits", "2048"), ("generate",), ("seal",)):
        res = _cli(ws, *args)
        assert res.exit_code == 0, res.output
    return root


class _Ws:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.vault = root / "vault.yml"
        self.gitops = root / "gitops"
        self.credentials = root / "ADMIN_CREDENTIALS.local.md"
        self.password_file = root / "vault-pass"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != STOP_ENV}
        env.update(
            SHAI_VAULT_PASSWORD_FILE=str(self.password_file),
            SHAI_SECRETS_VAULT=str(self.vault),
            SHAI_SECRETS_CATALOG=str(self.root / "secrets" / "catalog.yml"),
            SHAI_GITOPS_DIR=str(self.gitops),
            SHAI_CREDENTIALS_FILE=str(self.credentials),
        )
        return env


def _ws(root: Path) -> _Ws:
    return _Ws(root)


def _tree(ws: _Ws) -> dict[str, bytes]:
    return {
        str(p.relative_to(ws.root)): p.read_bytes()
        for p in sorted(ws.root.rglob("*"))
        if p.is_file() and p.name != "vault-pass"
    }


def _temps(ws: _Ws) -> list[str]:
    return [str(p) for p in ws.root.rglob("*") if atomic.is_temp_name(p.name)]


@pytest.mark.parametrize("sig", list(SIGNALS))
@pytest.mark.parametrize("stage", STAGES)
def test_rotate_all_interrupted(template: Path, tmp_path: Path, stage: str, sig: str) -> None:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    ws = _ws(root)
    before = _tree(ws)
    old_vault = lifecycle.open_vault(ws.vault, ws.password_file, must_exist=True).secrets()

    env = dict(ws.env(), **{STOP_ENV: f"{stage}:{sig}"})
    proc = subprocess.run(
        [sys.executable, "-m", "shai.secrets.cli", "rotate", "--all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert proc.returncode == SIGNALS[sig], proc.stderr
    assert "Traceback" not in proc.stderr
    after = _tree(ws)
    vault_changed = after.get("vault.yml") != before["vault.yml"]
    nothing_changed = stage in ("planning", "prepared")
    assert vault_changed == (not nothing_changed)
    if sig != "SIGKILL":
        # one line: which signal, what state, how to finish; every temporary file removed
        assert f"{sig} received" in proc.stderr
        expected = {
            "planning": "nothing was changed",
            "prepared": "nothing was changed",
            "vault-saved": "0 of ",
            "sealing": "1 of ",
            "credentials": "NOT updated",
        }[stage]
        assert expected in proc.stderr, proc.stderr
        if not nothing_changed:
            assert "shai-secrets seal" in proc.stderr
        assert _temps(ws) == []
    else:
        # a SIGKILL cannot clean up: what is left is gitignored and `verify` names it
        for t in _temps(ws):
            rel = os.path.relpath(t, root)
            assert subprocess.run(["git", "check-ignore", "--no-index", "-q", rel], cwd=REPO).returncode == 0

    res = _cli(ws, "verify")
    if stage == "planning" or (stage == "prepared" and sig != "SIGKILL"):
        assert res.exit_code == 0, res.output
        assert after == before  # truly nothing changed
    else:
        assert res.exit_code == 1, res.output
        if stage in ("vault-saved", "sealing"):
            assert "sealed value differs from the vault" in res.output
        if not nothing_changed:
            assert "ADMIN_CREDENTIALS.local.md: does not match the vault" in res.output
        if sig == "SIGKILL":
            assert "temporary file of an interrupted write" in res.output

    finish = ("rotate", "--all") if nothing_changed else ("seal",)
    res = _cli(ws, *finish)
    assert res.exit_code == 0, res.output
    res = _cli(ws, "verify")
    assert res.exit_code == 0 and "0 problem(s)" in res.output, res.output
    assert _temps(ws) == []
    new_vault = lifecycle.open_vault(ws.vault, ws.password_file, must_exist=True).secrets()
    assert new_vault["redis"] != old_vault["redis"]  # the rotation was finished, not undone
    assert new_vault["redis"]["redis-password"] in ws.credentials.read_text()


def test_oserror_after_the_vault_is_saved(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while the SealedSecrets are written: one line with the state, exit 1, no
    traceback; `seal` then finishes the job."""
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    ws = _ws(root)
    real_commit = atomic.PreparedWrite.commit

    def commit(self: atomic.PreparedWrite) -> None:
        if self.path.endswith(".sealedsecret.yaml"):
            self.abort()
            raise OSError(28, "No space left on device", self.path)
        real_commit(self)

    monkeypatch.setattr(atomic.PreparedWrite, "commit", commit)
    res = _cli(ws, "rotate", "--all")
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "No space left on device: the vault holds the new values; 0 of " in res.output
    assert "shai-secrets seal" in res.output and "Traceback" not in res.output
    monkeypatch.setattr(atomic.PreparedWrite, "commit", real_commit)
    assert _cli(ws, "verify").exit_code == 1
    assert _cli(ws, "seal").exit_code == 0
    res = _cli(ws, "verify")
    assert res.exit_code == 0 and _temps(ws) == [], res.output
