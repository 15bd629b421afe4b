"""sealing-key: the vault holds the sealing key pair, matching, valid for at least 30 more days."""

from __future__ import annotations

import datetime

from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

MIN_DAYS = 30


def run(ctx: Context) -> list[Finding]:
    data = ctx.vault.data
    if not ctx.vault.exists:
        return [CHECK.fail("no vault yet, so no sealing key", ctx.secrets_cmd("keygen"))]
    if data is None:
        return [CHECK.skip("the vault cannot be read (see the vault check)")]
    key_pem = data.get("vault_sealed_secrets_private_key")
    cert_pem = data.get("vault_sealed_secrets_certificate")
    path = ctx.rel(ctx.vault.path)
    if not key_pem or not cert_pem:
        return [CHECK.fail(f"{path} holds no sealing key pair", ctx.secrets_cmd("keygen"))]
    renew = f"{ctx.secrets_cmd('keygen --force')} && {ctx.secrets_cmd('reencrypt')}"
    try:
        cert = sealing.load_certificate(str(cert_pem), source=f"{path} vault_sealed_secrets_certificate")
        key = sealing.load_private_key(str(key_pem), source=f"{path} vault_sealed_secrets_private_key")
    except sealing.SealingError as exc:
        return [CHECK.fail(str(exc), renew)]
    if not sealing.key_matches_cert(key, cert):
        return [CHECK.fail(f"{path}: the sealing private key does not match its certificate", renew)]
    not_after = sealing.cert_not_after(cert)
    left = not_after - datetime.datetime.now(datetime.UTC)
    if left < datetime.timedelta(days=MIN_DAYS):
        return [CHECK.fail(f"the sealing certificate expires {not_after:%Y-%m-%d} ({left.days} days)", renew)]
    return [CHECK.ok(f"sealing key {sealing.cert_fingerprint(cert)[:16]} valid until {not_after:%Y-%m-%d}")]


CHECK = Check(
    id="sealing-key",
    description=f"the sealing key is in the vault and does not expire within {MIN_DAYS} days",
    offline=True,
    run=run,
)
