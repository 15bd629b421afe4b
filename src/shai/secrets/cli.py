"""``shai-secrets`` (also ``shai secrets``): the secret lifecycle CLI.

Mirrors kubeseal where they overlap (``seal --raw``, ``seal -f secret.yaml``,
``--cert FILE|URL``) and adds the catalog lifecycle: generate, rotate, seal, verify,
show, export, scan, and (cli_keys.py) keygen, backup, restore, reencrypt. See docs/secrets.md.
Rotate, generate, seal and keygen are transactions (transaction.py).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from ansible_collections.vectorweight.shai.plugins.module_utils import secret_rules

from shai import clikit
from shai.secrets import cli_keys as _cli_keys  # noqa: F401  (registers keygen, backup, restore, reencrypt)
from shai.secrets import lifecycle
from shai.secrets.catalog import DEFAULT_CATALOG, Catalog, load_catalog
from shai.secrets.cli_common import (
    ERRORS,
    Ctx,
    ExportFormat,
    Scope,
    SealFormat,
    app,
    ctx_of,
    emit_json,
    err,
    fail,
    open_vault,
    out,
    planning,
    run_transaction,
)
from shai.secrets.transaction import Transaction
from shai.secrets.vault import DEFAULT_VAULT, Vault, VaultError

if TYPE_CHECKING:
    import yaml
    from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

    from shai.secrets import scan as scanner
else:  # imported by the commands that use them, not for --help (docs/performance.md)
    yaml = clikit.lazy_module("yaml")
    sealing = clikit.lazy_module("ansible_collections.vectorweight.shai.plugins.module_utils.sealing")
    scanner = clikit.lazy_module("shai.secrets.scan")

__all__ = ["app", "main"]


@app.callback()
def _options(
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


def main() -> NoReturn:
    """Console-script entry point under the CLI convention (docs/cli.md)."""
    clikit.run(app, prog_name="shai-secrets")


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


def _plan_seal(
    c: Ctx,
    catalog: Catalog,
    vault: Vault,
    cert_src: str | None,
    services: list[str] | None,
    force: bool = False,
    kubeconfig: str | None = None,
) -> list[lifecycle.SealResult]:
    """Plan (not write) every SealedSecret of the selection."""
    cert, _src = lifecycle.fetch_cert(cert_src, vault, kubeconfig=kubeconfig)
    entries = catalog.select(services)
    from rich.progress import Progress

    with Progress(console=clikit.real_console(err), transient=True) as progress:
        task = progress.add_task("sealing", total=len(entries))
        return lifecycle.seal(
            catalog,
            vault,
            c.gitops,
            cert,
            services,
            force=force,
            progress=lambda _id: progress.advance(task),
            write=False,
        )


def _credentials_if_outdated(c: Ctx, catalog: Catalog, vault: Vault) -> str | None:
    """The credentials file's new text when the file exists and lags behind the vault."""
    if lifecycle.credentials_current(c.credentials, catalog, vault) is False:
        return lifecycle.credentials_markdown(catalog, vault)
    return None


@app.command()
def generate(
    ctx: typer.Context,
    service: list[str] = typer.Option(
        None, "--service", "-s", help="Only these catalog entries (id or service)."
    ),
) -> None:
    """Generate every missing value (never touches existing ones); update the credentials file."""
    c = ctx_of(ctx)
    with planning("shai-secrets generate"):
        catalog = load_catalog(c.catalog)
        if service:
            catalog.select(service)  # validate names
        vault = open_vault(c)
        report = lifecycle.generate(catalog, vault, only=service or None)
        creds = lifecycle.credentials_markdown(catalog, vault)
    tx = Transaction(
        "shai-secrets generate",
        c.gitops,
        c.credentials,
        vault=vault if report.changed or not vault.exists else None,
        credentials_text=creds,
    )
    run_transaction(tx)
    for eid, key in report.generated:
        out.print(f"generated {eid}:{key}")
    for (eid, key), var, optional in report.missing_supplied:
        level = "warning" if optional else "error"
        out.print(f"{level}: {eid}:{key} is supplied by the operator: set {var} in {c.vault}")
    out.print(f"{len(report.generated)} value(s) generated; vault {c.vault}; credentials {c.credentials}")
    if any(not opt for _n, _v, opt in report.missing_supplied):
        raise typer.Exit(1)


@app.command()
def rotate(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s", help="Catalog entry id or service to rotate."),
    all_: bool = typer.Option(False, "--all", help="Rotate every 'online' secret (docs/secrets.md)."),
    first_start: bool = typer.Option(
        False,
        "--first-start",
        help="Also rotate the named entries' first-start values; you then apply them with the "
        "entry's rotate_steps.",
    ),
    seal_after: bool = typer.Option(
        True, "--seal/--no-seal", help="Re-seal into the GitOps tree afterwards."
    ),
    cert: str | None = typer.Option(
        None, "--cert", help="Certificate FILE, URL or 'cluster' (default: vault)."
    ),
) -> None:
    """Regenerate values by rotation class (and everything derived from them), then re-seal."""
    c = ctx_of(ctx)
    if not service and not all_:
        raise fail("say what to rotate: --service NAME (repeatable) or --all", clikit.EXIT_USAGE)
    if first_start and all_:
        raise fail(
            "--first-start needs --service: first-start secrets are rotated one app at a time",
            clikit.EXIT_USAGE,
        )
    results: list[lifecycle.SealResult] = []
    with planning("shai-secrets rotate"):
        catalog = load_catalog(c.catalog)
        vault = open_vault(c, must_exist=True)
        report = lifecycle.generate(
            catalog, vault, rotate=service or None, rotate_all=all_, first_start=first_start
        )
        if seal_after:
            results = _plan_seal(c, catalog, vault, cert, None)
        creds = lifecycle.credentials_markdown(catalog, vault)
    tx = Transaction(
        "shai-secrets rotate " + ("--all" if all_ else " ".join(f"-s {s}" for s in service)),
        c.gitops,
        c.credentials,
        vault=vault,
        sealed=results,
        credentials_text=creds,
    )
    run_transaction(tx)
    for eid, key in report.generated:
        out.print(f"rotated  {eid}:{key}")
    for (eid, key), cls in report.kept:
        out.print(f"kept     {eid}:{key} (rotate: {cls})")
    _print_seal_results(results)
    steps = {catalog.entries[eid].rotate_steps for eid, _k in report.generated if first_start}
    for text in sorted(s for s in steps if s):
        out.print(f"apply in the app: {text}")


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
    scope: Scope = typer.Option(Scope.strict, "--scope", help="strict | namespace-wide | cluster-wide"),
    output: SealFormat = typer.Option(SealFormat.yaml, "--format", "-o", help="Manifest mode output."),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Accept an empty value."),
    service: list[str] = typer.Option(None, "--service", "-s", help="Catalog mode: only these entries."),
    force: bool = typer.Option(False, "--force", help="Catalog mode: re-seal even unchanged values."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG"),
) -> None:
    """Seal: --raw (one value), -f (a Secret manifest), or the whole catalog into the GitOps tree.

    Catalog mode also removes temporary files an interrupted run left and rewrites an outdated
    credentials file: it finishes an interrupted rotate."""
    c = ctx_of(ctx)
    with planning("shai-secrets seal"):
        if raw or from_file:
            _seal_one(c, raw, from_file, cert, namespace, name, scope.value, output, allow_empty, kubeconfig)
            return
        catalog = load_catalog(c.catalog)
        vault = open_vault(c, must_exist=True)
        results = _plan_seal(c, catalog, vault, cert, service or None, force=force, kubeconfig=kubeconfig)
        creds = _credentials_if_outdated(c, catalog, vault)
    tx = Transaction("shai-secrets seal", c.gitops, c.credentials, sealed=results, credentials_text=creds)
    run_transaction(tx)
    _print_seal_results(results)
    if creds is not None:
        out.print(f"rewrote  {c.credentials} (it lagged behind the vault)")


def _seal_one(
    c: Ctx,
    raw: bool,
    from_file: str | None,
    cert: str | None,
    namespace: str | None,
    name: str | None,
    scope: str,
    output: SealFormat,
    allow_empty: bool,
    kubeconfig: str | None,
) -> None:
    if raw:  # the name/namespace the value is bound to: same rules as a Secret's
        if name:
            secret_rules.check_name(name, where="--name")
        if namespace:
            secret_rules.check_namespace(namespace, where="--namespace")
    vault = None if cert not in (None, "vault") else open_vault(c, must_exist=True)
    cert_obj, _ = lifecycle.fetch_cert(cert, vault, kubeconfig=kubeconfig)
    if raw:
        value = sys.stdin.buffer.read()
        secret_rules.check_data({"value": value}, allow_empty=allow_empty, where="stdin")
        sys.stdout.write(sealing.seal_value(cert_obj.public_key(), value, namespace or "", name or "", scope))
        return
    assert from_file is not None
    text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
    try:
        secret = yaml.safe_load(text)
    except yaml.YAMLError:
        raise sealing.SealingError(f"{from_file}: not valid YAML") from None
    if isinstance(secret, dict) and (namespace or name):
        meta = secret.setdefault("metadata", {})
        if namespace and not meta.get("namespace"):
            meta["namespace"] = namespace
        if name:
            meta["name"] = name
    obj = sealing.secret_to_sealed_secret(
        cert_obj.public_key(), secret, scope=scope if scope != "strict" else None, allow_empty=allow_empty
    )
    sys.stdout.write(
        json.dumps(obj, indent=2) + "\n" if output == SealFormat.json else sealing.dump_yaml(obj)
    )


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
    c = ctx_of(ctx)
    try:
        if private_key:
            keys = [sealing.load_private_key(p.read_bytes(), source=str(p)) for p in private_key]
        else:
            keys = lifecycle.private_keys(open_vault(c, must_exist=True))
        text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError:
            raise sealing.SealingError(f"{from_file}: not valid YAML") from None
        opened = sealing.unseal_sealed_secret(keys, obj)
    except ERRORS as exc:
        raise fail(exc) from None
    if reveal:
        sys.stdout.write(
            yaml.safe_dump({k: v.decode("utf-8", "replace") for k, v in opened.items()}, sort_keys=True)
        )
    else:
        for k, v in opened.items():
            out.print(f"{k}: {len(v)} bytes")


@app.command()
def verify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="The report as JSON on stdout."),
) -> None:
    """Every SealedSecret opens with a vault key and matches the catalog and the vault; the
    credentials file is current; no temporary file of an interrupted run is left."""
    c = ctx_of(ctx)
    try:
        catalog = load_catalog(c.catalog)
        n, problems = lifecycle.verify(catalog, open_vault(c, must_exist=True), c.gitops, c.credentials)
    except ERRORS as exc:
        raise fail(exc) from None
    if as_json:
        emit_json({"checked": n, "problems": [{"path": p.path, "message": p.message} for p in problems]})
    else:
        for p in problems:
            err.print(f"FAIL {p.path}: {p.message}", highlight=False)
        out.print(f"{n} SealedSecret(s) checked, {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)
    if n == 0:
        raise fail(f"nothing checked: no SealedSecret under {c.gitops / 'secrets'}")


@app.command()
def show(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s"),
    reveal: bool = typer.Option(False, "--reveal", help="Show plaintext values."),
    as_json: bool = typer.Option(False, "--json", help="Status as JSON (values masked unless --reveal)."),
) -> None:
    """Catalog status: every secret, its rotation class, where it is sealed, which values exist."""
    c = ctx_of(ctx)
    try:
        catalog = load_catalog(c.catalog)
        vault = open_vault(c)
        entries = catalog.select(service or None)
    except ERRORS as exc:
        raise fail(exc) from None
    rows: list[dict[str, Any]] = []
    for e in entries:
        values, _missing = lifecycle.entry_values(vault, e)
        for k, spec in sorted(e.keys.items()):
            rows.append(
                {
                    "id": e.id,
                    "namespace": e.namespace,
                    "name": e.name,
                    "key": k,
                    "generator": spec.generator,
                    "sealed": spec.sealed,
                    "rotate": e.rotate_class(k),
                    "present": k in values,
                    "value": (values[k] if reveal else lifecycle.mask(values[k])) if k in values else None,
                    "sealed_file": str(c.gitops / e.relpath),
                    "sealed_file_exists": (c.gitops / e.relpath).exists(),
                }
            )
    if as_json:
        emit_json(rows)
        return
    if reveal:  # plain lines: a table would wrap or truncate values
        for r in rows:
            shown = r["value"] if r["present"] else "(missing)"
            sys.stdout.write(f"{r['id']}\t{r['namespace']}/{r['name']}\t{r['key']}\t{shown}\n")
        return
    from rich.table import Table

    table = Table("id", "namespace/name", "key", "generator", "rotate", "value", "sealed file")
    last = ""
    for r in rows:
        first = r["id"] != last
        last = r["id"]
        table.add_row(
            r["id"] if first else "",
            f"{r['namespace']}/{r['name']}" if first else "",
            r["key"],
            r["generator"] + ("" if r["sealed"] else " (vault only)"),
            r["rotate"],
            r["value"] if r["present"] else "[red]missing[/red]",
            ("yes" if r["sealed_file_exists"] else "no") if first else "",
        )
    out.print(table)


@app.command()
def export(
    ctx: typer.Context,
    service: list[str] = typer.Option(None, "--service", "-s"),
    fmt: ExportFormat = typer.Option(ExportFormat.yaml, "--format", "-o", help="yaml | json | env"),
) -> None:
    """Print plaintext values (for the operator's password manager). Mind your terminal."""
    c = ctx_of(ctx)
    try:
        data = lifecycle.export(load_catalog(c.catalog), open_vault(c, must_exist=True), service or None)
    except ERRORS as exc:
        raise fail(exc) from None
    if fmt == ExportFormat.json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    elif fmt == ExportFormat.env:
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
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON on stdout."),
) -> None:
    """Fail if plaintext secrets appear: Secret data, vault values, tokens, high-entropy credentials."""
    c = ctx_of(ctx)
    if not path.exists():
        raise fail(f"{path}: no such file or directory (nothing scanned)")
    values: list[tuple[str, str, str]] = []
    if use_vault:
        try:
            vault = open_vault(c)
            if vault.exists:
                values = lifecycle.all_values(load_catalog(c.catalog), vault)
        except VaultError as exc:
            err.print(f"note: vault not searched ({exc})", highlight=False)
        except ERRORS as exc:
            raise fail(exc) from None
    files = list(scanner.iter_files(path, True))
    if not files:
        raise fail(f"{path}: no file to scan (nothing checked)")
    findings = scanner.scan(path, values, files=files)
    note = "" if values else " (vault values not checked)"
    if as_json:
        emit_json(
            {
                "path": str(path),
                "files": len(files),
                "vault_values_checked": bool(values),
                "findings": [dataclasses.asdict(f) for f in findings],
            }
        )
    else:
        for f in findings:
            out.print(str(f), highlight=False)
        out.print(f"scan {path}: {len(files)} file(s), {len(findings)} finding(s){note}")
    if findings:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
