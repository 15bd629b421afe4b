"""``shai-secrets keygen | backup | restore | reencrypt``: the sealing keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from shai.clikit import lazy_module
from shai.secrets import lifecycle
from shai.secrets.cli_common import ERRORS, app, ctx_of, err, fail, open_vault, out, planning, run_transaction
from shai.secrets.transaction import Transaction
from shai.secrets.vault import Vault

if TYPE_CHECKING:
    from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
else:  # cryptography: imported when a key is made or read, not for --help
    sealing = lazy_module("ansible_collections.vectorweight.shai.plugins.module_utils.sealing")


@app.command()
def keygen(
    ctx: typer.Context,
    bits: int = typer.Option(
        lifecycle.RECOMMENDED_KEY_BITS, "--bits", help="RSA key size: at least 2048, 4096 recommended."
    ),
    force: bool = typer.Option(False, "--force", help="Add a new key even if one exists (key renewal)."),
    cert_out: Path | None = typer.Option(None, "--cert-out", help="Also write the public certificate here."),
) -> None:
    """Create the controller's sealing key pair offline; private key into the vault only."""
    c = ctx_of(ctx)
    with planning("shai-secrets keygen"):
        vault = open_vault(c)
        cert_pem = lifecycle.keygen(vault, bits=bits, force=force)
    if bits < lifecycle.RECOMMENDED_KEY_BITS:
        err.print(
            f"warning: RSA-{bits} is below the recommended {lifecycle.RECOMMENDED_KEY_BITS} bits "
            "(the controller's own default)",
            highlight=False,
        )
    tx = Transaction(
        "shai-secrets keygen",
        c.gitops,
        vault=vault,
        extra=[(cert_out, cert_pem.encode("ascii"), 0o644)] if cert_out else [],
    )
    run_transaction(tx)
    cert = sealing.load_certificate(cert_pem)
    out.print(
        f"sealing key created (RSA-{bits}, fingerprint {sealing.cert_fingerprint(cert)[:16]}, "
        f"valid until {sealing.cert_not_after(cert):%Y-%m-%d}); private key in {c.vault}"
    )


KUBECONFIG = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG")
CONTROLLER_NAMESPACE = typer.Option("kube-system", "--controller-namespace")


def _client(kubeconfig: str | None) -> Any:
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient

    return KubeClient(kubeconfig=kubeconfig)


@app.command()
def backup(
    ctx: typer.Context,
    kubeconfig: str | None = KUBECONFIG,
    namespace: str = CONTROLLER_NAMESPACE,
) -> None:
    """Fetch every sealing key from the cluster into the vault."""
    c = ctx_of(ctx)
    try:
        vault = open_vault(c)
        secrets = _client(kubeconfig).list_secrets(namespace, sealing.KEY_LABEL)
        added = 0
        for s in secrets:
            name, key_pem, cert_pem = sealing.key_pair_from_secret(s)
            added += lifecycle.add_key(vault, key_pem, cert_pem, name=str(name), active=False)
        if secrets:
            newest = max(secrets, key=lambda s: str((s.get("metadata") or {}).get("creationTimestamp", "")))
            _n, key_pem, cert_pem = sealing.key_pair_from_secret(newest)
            lifecycle.add_key(vault, key_pem, cert_pem, name=str(_n), active=True)
        vault.save()
    except ERRORS as exc:  # KubeError is a ShaiError
        raise fail(exc) from None
    out.print(f"{len(secrets)} key(s) found in {namespace}, {added} new; vault {c.vault}")


@app.command()
def restore(
    ctx: typer.Context,
    kubeconfig: str | None = KUBECONFIG,
    namespace: str = CONTROLLER_NAMESPACE,
) -> None:
    """Install every vault sealing key into the cluster (restart the controller afterwards)."""
    c = ctx_of(ctx)
    try:
        vault = open_vault(c, must_exist=True)
        client = _client(kubeconfig)
        changed = 0
        for k in restorable_keys(vault):
            manifest = sealing.key_secret_manifest(k["name"], k["private_key"], k["certificate"], namespace)
            ch, _ = client.apply_secret(manifest)
            changed += bool(ch)
    except ERRORS as exc:  # KubeError is a ShaiError
        raise fail(exc) from None
    out.print(f"{changed} key Secret(s) created/updated in {namespace}; restart the controller to load them")


def restorable_keys(vault: Vault) -> list[dict[str, Any]]:
    keys = [dict(k) for k in vault.data.get("vault_sealed_secrets_keys") or []]
    for k in keys:
        if not str(k.get("name", "")).startswith("sealed-secrets-key"):
            k["name"] = lifecycle.key_secret_name(str(k.get("fingerprint", "")))
    return keys


@app.command()
def reencrypt(
    ctx: typer.Context,
    cert: str | None = typer.Option(
        None, "--cert", help="Newest certificate FILE, URL or 'cluster' (default: vault)."
    ),
    kubeconfig: str | None = KUBECONFIG,
) -> None:
    """Re-seal every SealedSecret in the tree against the newest certificate."""
    c = ctx_of(ctx)
    try:
        vault = open_vault(c, must_exist=True)
        cert_obj, src = lifecycle.fetch_cert(cert, vault, kubeconfig=kubeconfig)
        changed = lifecycle.reencrypt(c.gitops, vault, cert_obj)
    except ERRORS as exc:
        raise fail(exc) from None
    for p in changed:
        out.print(f"resealed {p}")
    out.print(f"{len(changed)} file(s) re-sealed against {src}")
