"""Rotate, generate, seal and keygen as one transaction over the vault, the tree and the
credentials file (issue 14, class 4; docs/secrets.md#interrupted-runs).

1. **prepare**: every output is computed and written to a temporary file next to its
   destination (``plugins/module_utils/atomic.py``: fsynced, mode set, gitignored name). Any
   failure here (a bad ``--cert-out``, a full disk) changes nothing.
2. **commit**, in the order a re-run completes: the vault first (the source of truth), then the
   SealedSecrets, then the credentials file, then extra files (``--cert-out``). After the vault
   is saved, ``shai-secrets verify`` reports every SealedSecret and the credentials file that lag
   behind, and ``shai-secrets seal`` finishes the job.

SIGINT/SIGTERM during a transaction stop it between two steps and print what state things are
in and how to finish (exit 130/143, docs/cli.md); an OSError does the same with exit 1.

``SHAI_SECRETS_STOP_AT=<stage>:<SIGNAL>`` is a fault-injection hook for the kill test
(tests/secrets/test_rotate_kill.py): at ``<stage>`` the process sends itself ``<SIGNAL>``, so the
test stops it at an exact point without sleeping. Stages: ``planning`` (reading and computing,
before any write), ``prepared`` (temporary files written,
nothing committed), ``vault-saved``, ``sealing`` (after the first SealedSecret), ``credentials``
(its temporary file written, not yet in place).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from ansible_collections.vectorweight.shai.plugins.module_utils import atomic

from shai import clikit
from shai.secrets.lifecycle import SealResult, leftover_temps
from shai.secrets.vault import Vault

STOP_ENV = "SHAI_SECRETS_STOP_AT"
STAGES = ("planning", "prepared", "vault-saved", "sealing", "credentials")


class Interrupted(BaseException):
    """SIGINT/SIGTERM arrived during a transaction."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return clikit.EXIT_TERMINATED if self.signum == signal.SIGTERM else clikit.EXIT_INTERRUPTED


def stop_hook(stage: str) -> None:
    want = os.environ.get(STOP_ENV, "")
    at, _, sig = want.partition(":")
    if at == stage:
        os.kill(os.getpid(), getattr(signal, sig or "SIGKILL"))


@dataclass
class Transaction:
    """What one command changes; :meth:`state` says how far it got."""

    command: str
    gitops: Path
    credentials: Path | None = None
    vault: Vault | None = None
    sealed: list[SealResult] = field(default_factory=list)
    credentials_text: str | None = None
    extra: list[tuple[Path, bytes, int]] = field(default_factory=list)
    # progress
    started: bool = False
    vault_saved: bool = False
    sealed_written: int = 0
    credentials_written: bool = False
    extra_written: int = 0

    @property
    def sealed_changed(self) -> list[SealResult]:
        return [r for r in self.sealed if r.changed]

    def run(self) -> None:
        """Prepare every output, then commit them in order (see the module docstring)."""
        targets = [p for p in (self.vault.path if self.vault else None, self.credentials) if p]
        for tmp in leftover_temps(self.gitops, *targets):
            tmp.unlink(missing_ok=True)
        prepared: list[atomic.PreparedWrite] = []
        try:
            vault_w = None
            if self.vault is not None:
                vault_w = atomic.prepare_write(str(self.vault.path), self.vault.encrypted(), 0o600)
                prepared.append(vault_w)
            sealed_w = []
            for r in self.sealed_changed:
                sealed_w.append(atomic.prepare_write(str(r.path), r.text, 0o644))
                prepared.append(sealed_w[-1])
            creds_w = None
            if self.credentials is not None and self.credentials_text is not None:
                creds_w = atomic.prepare_write(str(self.credentials), self.credentials_text, 0o600)
                prepared.append(creds_w)
            extra_w = []
            for path, data, mode in self.extra:
                extra_w.append(atomic.prepare_write(str(path), data, mode))
                prepared.append(extra_w[-1])
            stop_hook("prepared")
            self.started = True
            if vault_w is not None:
                vault_w.commit()
                assert self.vault is not None
                self.vault.exists = True
                self.vault_saved = True
                stop_hook("vault-saved")
            for w in sealed_w:
                w.commit()
                self.sealed_written += 1
                if self.sealed_written == 1:
                    stop_hook("sealing")
            if creds_w is not None:
                stop_hook("credentials")
                creds_w.commit()
                self.credentials_written = True
            for w in extra_w:
                w.commit()
                self.extra_written += 1
        finally:
            for w in prepared:
                w.abort()

    def state(self) -> str:
        """What is done, what is not, and the command that finishes the job."""
        creds = str(self.credentials) if self.credentials else "the credentials file"
        if not self.started:
            return (
                f"nothing was changed (vault, SealedSecrets and {creds} are as before); "
                f"run `{self.command}` again"
            )
        parts = []
        if self.vault is not None:
            parts.append("the vault holds the new values")
        total = len(self.sealed_changed)
        if total:
            parts.append(f"{self.sealed_written} of {total} SealedSecret(s) written")
        if self.credentials_text is not None:
            parts.append(f"{creds} {'updated' if self.credentials_written else 'NOT updated'}")
        if self.extra:
            parts.append(
                ", ".join(
                    f"{p} {'written' if i < self.extra_written else 'NOT written'}"
                    for i, (p, _d, _m) in enumerate(self.extra)
                )
            )
        finish = (
            "`shai-secrets verify` shows what lags behind; `shai-secrets seal` finishes the job"
            if self.vault is not None
            else f"run `{self.command}` again"
        )
        return "; ".join(parts) + f". {finish}"


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT/SIGTERM raise :class:`Interrupted` inside the block (handlers restored after)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
