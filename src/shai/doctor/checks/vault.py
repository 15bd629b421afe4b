"""vault: the inventory's vault exists, is ansible-vault encrypted, and opens with the configured password."""

from __future__ import annotations

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

PASSWORD_FIX = (
    "install -d -m 700 ~/.config/shai && (umask 077; openssl rand -base64 32 > ~/.config/shai/vault-pass) "
    "&& export ANSIBLE_VAULT_PASSWORD_FILE=~/.config/shai/vault-pass"
)


def run(ctx: Context) -> list[Finding]:
    state = ctx.vault
    path = ctx.rel(state.path)
    findings: list[Finding] = []
    if state.password_file is None:
        findings.append(
            CHECK.fail("no vault password configured (flag, environment or ansible.cfg)", PASSWORD_FIX)
        )
    elif not state.password_file.is_file():
        findings.append(
            CHECK.fail(
                f"vault password file {state.password_file} ({state.password_source}) does not exist",
                PASSWORD_FIX,
            )
        )
    if not state.exists:
        return [*findings, CHECK.fail(f"{path} does not exist", ctx.secrets_cmd("keygen"))]
    if findings:
        return findings
    if not state.encrypted:
        return [CHECK.fail(f"{path} is not encrypted", f"ansible-vault encrypt {path}")]
    if state.data is None:
        return [
            CHECK.fail(
                f"{path} does not open with {state.password_file} ({state.password_source}): {state.error}",
                f"export ANSIBLE_VAULT_PASSWORD_FILE=<the file holding {path}'s password>",
            )
        ]
    return [CHECK.ok(f"{path} is encrypted and opens with {state.password_source}")]


CHECK = Check(
    id="vault",
    description="the vault exists, is encrypted, and decrypts with the configured password source",
    offline=True,
    run=run,
)
