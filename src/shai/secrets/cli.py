"""``shai-secrets`` (also ``shai secrets``): the secret lifecycle CLI.

Mirrors kubeseal where they overlap (``seal --raw``, ``seal -f secret.yaml``,
``--cert FILE|URL``) and adds the catalog lifecycle: generate, rotate, seal, verify,
show, export, scan, keygen, backup, restore, reencrypt.  See docs/secrets.md.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shai.secrets import lifecycle
from shai.secrets import scan as scanner
from shai.secrets.catalog import DEFAULT_CATALOG, CatalogError, load_catalog
from shai.secrets.vault import DEFAULT_VAULT, Vault, VaultError, atomic_write

app = typer.Typer(
    name="shai-secrets",
    help="Generate, seal, rotate and recover the platform's secrets.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@dataclass
class Ctx:
    catalog: Path
    vault: Path
    password_file: Path | None
    gitops: Path
    credentials: Path


def _ctx(ctx: typer.Context) -> Ctx:
    obj = ctx.find_root().obj
    assert isinstance(obj, Ctx)
    return obj


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code)


ERRORS = (CatalogError, VaultError, lifecycle.LifecycleError, sealing.SealingError)


@app.callback()
def main(
    ctx: typer.Context,
    catalog: Path = typer.Option(DEFAULT_CATALOG, envvar="SHAI_SECRETS_CATALOG", help="Secret catalog YAML."),
    vault: Path = typer.Option(
        DEFAULT_VAULT, envvar="SHAI_SECRETS_VAULT", help="ansible-vault encrypted vars file."
    ),
    vault_password_file: Path | None = typer.Option(
        None,
        "--vault-password-file",
        help="Default: $SHAI_VAULT_PASSWORD_FILE or $ANSIBLE_VAULT_PASSWORD_FILE.",
    ),
    gitops: Path = typer.Option(lifecycle.DEFAULT_GITOPS, envvar="SHAI_GITOPS_DIR", help="GitOps tree root."),
    credentials: Path = typer.Option(
        lifecycle.DEFAULT_CREDENTIALS,
        envvar="SHAI_CREDENTIALS_FILE",
        help="Local admin credentials file (0600, gitignored).",
    ),
) -> None:
    """Generate, seal, rotate and recover the platform's secrets."""
    ctx.obj = Ctx(catalog, vault, vault_password_file, gitops, credentials)


def _open(c: Ctx, must_exist: bool = False) -> Vault:
    return lifecycle.open_vault(c.vault, c.password_file, must_exist=must_exist)


def _print_seal_results(results: list[lifecycle.SealResult]) -> None:
    for r in results:
        if r.skipped:
            out.print(f"skip     {r.entry.id}: {r.skipped}")
        elif r.changed:
            parts = [
                f"+{','.join(r.added)}" if r.added else "",
                f"~{','.join(r.modified)}" if r.modified else "",
                f"-{','.join(r.removed)}" if r.removed else "",
            ]
            out.print(f"sealed   {r.path}  keys {' '.join(p for p in parts if p) or '(metadata)'}")
        else:
            out.print(f"ok       {r.path}")


def _seal_catalog(
    c: Ctx,
    vault: Vault,
    cert_src: str | None,
    services: list[str] | None,
    force: bool = False,
    kubeconfig: str | None = None,
) -> list[lifecycle.SealResult]:
    catalog = load_catalog(c.catalog)
    cert, _src = lifecycle.fetch_cert(cert_src, vault, kubeconfig=kubeconfig)
    entries = catalog.select(services)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("sealing", total=len(entries))
        results = lifecycle.seal(
            catalog, vault, c.gitops, cert, services, force=force, progress=lambda _id: progress.advance(task)
        )
    return results


@app.command()
def generate(
    ctx: typer.Context,
    service: list[str] = typer.Option(
        None, "--service", "-s", help="Only these catalog entries (id or service)."
    ),
) -> None:
    """Generate every missing value (never touches existing ones); update the credentials file."""
    c = _ctx(ctx)
    try:
        catalog = load_catalog(c.catalog)
        if service:
            catalog.select(service)  # validate names
        vault = _open(c)
        report = lifecycle.generate(catalog, vault, only=service or None)
        if report.changed or not vault.exists:
            vault.save()
        lifecycle.write_credentials(c.credentials, catalog, vault)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    for eid, key in report.generated:
        out.print(f"generated {eid}:{key}")
    for (eid, key), var, optional in report.missing_supplied:
        level = "warning" if optional else "error"
        out.print(f"{level}: {eid}:{key} is supplied by the operator: set {var} in {c.vault}")
    out.print(f"{len(report.generated)} value(s) generated; vault {c.vault}; credentials {c.credentials}")
    if any(not opt for _n, _v, opt in report.missing_supplied):
        raise typer.Exit(2)


@app.command()
def rotate(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s", help="Catalog entry id or service to rotate."),
    all_: bool = typer.Option(False, "--all", help="Rotate every generated secret."),
    seal_after: bool = typer.Option(
        True, "--seal/--no-seal", help="Re-seal into the GitOps tree afterwards."
    ),
    cert: str | None = typer.Option(
        None, "--cert", help="Certificate FILE, URL or 'cluster' (default: vault)."
    ),
) -> None:
    """Regenerate values (and everything derived from them), then re-seal."""
    c = _ctx(ctx)
    if not service and not all_:
        raise _fail("say what to rotate: --service NAME (repeatable) or --all", 2)
    try:
        catalog = load_catalog(c.catalog)
        vault = _open(c, must_exist=True)
        report = lifecycle.generate(catalog, vault, rotate=service or None, rotate_all=all_)
        if seal_after:
            cert_obj, _ = lifecycle.fetch_cert(cert, vault)
            # plan first, then save the vault, then write the files: the vault (source of truth)
            # never lags behind the tree; if writing fails, `shai-secrets seal` finishes the job
            results = lifecycle.seal(catalog, vault, c.gitops, cert_obj, write=False)
        vault.save()
        if seal_after:
            lifecycle.write_results(results)
        lifecycle.write_credentials(c.credentials, catalog, vault)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    for eid, key in report.generated:
        out.print(f"rotated  {eid}:{key}")
    if seal_after:
        _print_seal_results(results)


@app.command()
def seal(
    ctx: typer.Context,
    raw: bool = typer.Option(
        False, "--raw", help="Seal one value read from stdin; print base64 (like kubeseal --raw)."
    ),
    from_file: str | None = typer.Option(
        None,
        "--from-file",
        "-f",
        help="Seal a Secret manifest (path or '-' for stdin); print the SealedSecret.",
    ),
    cert: str | None = typer.Option(
        None, "--cert", help="Certificate FILE, URL or 'cluster' (default: vault)."
    ),
    namespace: str | None = typer.Option(None, "--namespace", "-n"),
    name: str | None = typer.Option(None, "--name"),
    scope: str = typer.Option("strict", "--scope", help="strict | namespace-wide | cluster-wide"),
    output: str = typer.Option("yaml", "--format", "-o", help="yaml | json (manifest mode)."),
    service: list[str] = typer.Option(None, "--service", "-s", help="Catalog mode: only these entries."),
    force: bool = typer.Option(False, "--force", help="Catalog mode: re-seal even unchanged values."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG"),
) -> None:
    """Seal: --raw (one value), -f (a Secret manifest), or the whole catalog into the GitOps tree."""
    c = _ctx(ctx)
    try:
        if raw or from_file:
            vault = None if cert not in (None, "vault") else _open(c, must_exist=True)
            cert_obj, _ = lifecycle.fetch_cert(cert, vault, kubeconfig=kubeconfig)
            if raw:
                value = sys.stdin.buffer.read()
                if scope not in sealing.SCOPES:
                    raise sealing.SealingError(
                        f"--scope {scope!r}: expected one of {', '.join(sealing.SCOPES)}"
                    )
                sys.stdout.write(
                    sealing.seal_value(cert_obj.public_key(), value, namespace or "", name or "", scope)
                )
                return
            assert from_file is not None
            text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
            try:
                secret = yaml.safe_load(text)
            except yaml.YAMLError:
                raise sealing.SealingError(f"{from_file}: not valid YAML") from None
            if isinstance(secret, dict) and namespace and not (secret.get("metadata") or {}).get("namespace"):
                secret.setdefault("metadata", {})["namespace"] = namespace
            obj = sealing.secret_to_sealed_secret(
                cert_obj.public_key(), secret, scope=scope if scope != "strict" else None
            )
            sys.stdout.write(json.dumps(obj, indent=2) + "\n" if output == "json" else sealing.dump_yaml(obj))
            return
        vault = _open(c, must_exist=True)
        results = _seal_catalog(c, vault, cert, service or None, force=force, kubeconfig=kubeconfig)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from None
    _print_seal_results(results)


@app.command()
def unseal(
    ctx: typer.Context,
    from_file: str = typer.Option("-", "--from-file", "-f", help="SealedSecret YAML/JSON (path or '-')."),
    private_key: list[Path] = typer.Option(
        None, "--private-key", help="PEM private key(s); default: the vault's keys."
    ),
    reveal: bool = typer.Option(False, "--reveal", help="Print values (default: only key names and sizes)."),
) -> None:
    """Open a SealedSecret offline (like kubeseal --recovery-unseal)."""
    c = _ctx(ctx)
    try:
        if private_key:
            keys = [sealing.load_private_key(p.read_bytes(), source=str(p)) for p in private_key]
        else:
            keys = lifecycle.private_keys(_open(c, must_exist=True))
        text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError:
            raise sealing.SealingError(f"{from_file}: not valid YAML") from None
        opened = sealing.unseal_sealed_secret(keys, obj)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    if reveal:
        sys.stdout.write(
            yaml.safe_dump({k: v.decode("utf-8", "replace") for k, v in opened.items()}, sort_keys=True)
        )
    else:
        for k, v in opened.items():
            out.print(f"{k}: {len(v)} bytes")


@app.command()
def verify(ctx: typer.Context) -> None:
    """Every SealedSecret in the tree opens with a vault key and matches the catalog."""
    c = _ctx(ctx)
    try:
        catalog = load_catalog(c.catalog)
        n, problems = lifecycle.verify(catalog, _open(c, must_exist=True), c.gitops)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    for p in problems:
        err.print(f"FAIL {p.path}: {p.message}", highlight=False)
    out.print(f"{n} SealedSecret(s) checked, {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command()
def show(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s"),
    reveal: bool = typer.Option(False, "--reveal", help="Show plaintext values."),
) -> None:
    """Catalog status: every secret, where it is sealed, which values exist."""
    c = _ctx(ctx)
    try:
        catalog = load_catalog(c.catalog)
        vault = _open(c)
        entries = catalog.select(service or None)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    if reveal:  # plain lines: a table would wrap or truncate values
        for e in entries:
            values, _missing = lifecycle.entry_values(vault, e)
            for k in sorted(e.keys):
                sys.stdout.write(f"{e.id}\t{e.namespace}/{e.name}\t{k}\t{values.get(k, '(missing)')}\n")
        return
    table = Table("id", "namespace/name", "key", "generator", "value", "sealed file")
    for e in entries:
        values, _missing = lifecycle.entry_values(vault, e)
        sealed = c.gitops / e.relpath
        for i, (k, spec) in enumerate(sorted(e.keys.items())):
            shown = (
                (values[k] if reveal else lifecycle.mask(values[k])) if k in values else "[red]missing[/red]"
            )
            table.add_row(
                e.id if i == 0 else "",
                f"{e.namespace}/{e.name}" if i == 0 else "",
                k,
                spec.generator + ("" if spec.sealed else " (vault only)"),
                shown,
                ("yes" if sealed.exists() else "no") if i == 0 else "",
            )
    out.print(table)


@app.command()
def export(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s"),
    fmt: str = typer.Option("yaml", "--format", "-o", help="yaml | json | env"),
) -> None:
    """Print plaintext values (for the operator's password manager). Mind your terminal."""
    c = _ctx(ctx)
    try:
        data = lifecycle.export(load_catalog(c.catalog), _open(c, must_exist=True), service or None)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    elif fmt == "env":
        for eid, values in data.items():
            for k, v in sorted(values.items()):
                var = f"{eid}_{k}".upper().replace("-", "_").replace(".", "_")
                sys.stdout.write(f"{var}={json.dumps(v)}\n")
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=True))


@app.command("scan")
def scan_cmd(
    ctx: typer.Context,
    path: Path = typer.Argument(Path("."), help="File or tree to scan (default: the repo)."),
    use_vault: bool = typer.Option(
        True, "--vault/--no-vault", help="Also look for every vault value (needs the vault password)."
    ),
) -> None:
    """Fail if plaintext secrets appear: Secret data, vault values, tokens, high-entropy credentials."""
    c = _ctx(ctx)
    values: list[tuple[str, str, str]] = []
    if use_vault:
        try:
            vault = _open(c)
            if vault.exists:
                values = lifecycle.all_values(load_catalog(c.catalog), vault)
        except VaultError as exc:
            err.print(f"note: vault not searched ({exc})", highlight=False)
        except ERRORS as exc:
            raise _fail(str(exc)) from None
    findings = scanner.scan(path, values)
    for f in findings:
        out.print(str(f), highlight=False)
    out.print(f"scan {path}: {len(findings)} finding(s)" + ("" if values else " (vault values not checked)"))
    if findings:
        raise typer.Exit(1)


@app.command()
def keygen(
    ctx: typer.Context,
    bits: int = typer.Option(4096, "--bits"),
    force: bool = typer.Option(False, "--force", help="Add a new key even if one exists (key renewal)."),
    cert_out: Path | None = typer.Option(None, "--cert-out", help="Also write the public certificate here."),
) -> None:
    """Create the controller's sealing key pair offline; private key into the vault only."""
    c = _ctx(ctx)
    try:
        vault = _open(c)
        cert_pem = lifecycle.keygen(vault, bits=bits, force=force)
        vault.save()
        if cert_out:
            atomic_write(cert_out, cert_pem.encode("ascii"), 0o644)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    cert = sealing.load_certificate(cert_pem)
    out.print(
        f"sealing key created (RSA-{bits}, fingerprint {sealing.cert_fingerprint(cert)[:16]}, "
        f"valid until {sealing.cert_not_after(cert):%Y-%m-%d}); private key in {c.vault}"
    )


@app.command()
def backup(
    ctx: typer.Context,
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG"),
    namespace: str = typer.Option("kube-system", "--controller-namespace"),
) -> None:
    """Fetch every sealing key from the cluster into the vault."""
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient, KubeError

    c = _ctx(ctx)
    try:
        vault = _open(c)
        secrets = KubeClient(kubeconfig=kubeconfig).list_secrets(namespace, sealing.KEY_LABEL)
        added = 0
        for s in secrets:
            name, key_pem, cert_pem = sealing.key_pair_from_secret(s)
            added += lifecycle.add_key(vault, key_pem, cert_pem, name=str(name), active=False)
        if secrets:
            newest = max(secrets, key=lambda s: str((s.get("metadata") or {}).get("creationTimestamp", "")))
            _n, key_pem, cert_pem = sealing.key_pair_from_secret(newest)
            lifecycle.add_key(vault, key_pem, cert_pem, name=str(_n), active=True)
        vault.save()
    except (*ERRORS, KubeError) as exc:
        raise _fail(str(exc)) from None
    out.print(f"{len(secrets)} key(s) found in {namespace}, {added} new; vault {c.vault}")


@app.command()
def restore(
    ctx: typer.Context,
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG"),
    namespace: str = typer.Option("kube-system", "--controller-namespace"),
) -> None:
    """Install every vault sealing key into the cluster (restart the controller afterwards)."""
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient, KubeError

    c = _ctx(ctx)
    try:
        vault = _open(c, must_exist=True)
        client = KubeClient(kubeconfig=kubeconfig)
        changed = 0
        for k in restorable_keys(vault):
            manifest = sealing.key_secret_manifest(k["name"], k["private_key"], k["certificate"], namespace)
            ch, _ = client.apply_secret(manifest)
            changed += bool(ch)
    except (*ERRORS, KubeError) as exc:
        raise _fail(str(exc)) from None
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
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG"),
) -> None:
    """Re-seal every SealedSecret in the tree against the newest certificate."""
    c = _ctx(ctx)
    try:
        vault = _open(c, must_exist=True)
        cert_obj, src = lifecycle.fetch_cert(cert, vault, kubeconfig=kubeconfig)
        changed = lifecycle.reencrypt(c.gitops, vault, cert_obj)
    except ERRORS as exc:
        raise _fail(str(exc)) from None
    for p in changed:
        out.print(f"resealed {p}")
    out.print(f"{len(changed)} file(s) re-sealed against {src}")


if __name__ == "__main__":  # pragma: no cover
    app()
