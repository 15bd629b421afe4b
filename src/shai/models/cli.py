"""``shai-models`` / ``shai models``: one manifest, verified downloads, hosts in line.

Exit codes (docs/cli.md): 0 all good; 1 a mismatch / a change predicted (diff, verify) / a failed
item / bad input (manifest, repo, token, an inventory that does not exist, a target whose
``hosts:`` matches no host); 2 usage errors only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.clihelp import HelpGroup
from shai.clikit import EXIT_ERROR, MARKUP, fail, lazy_console, lazy_module

if TYPE_CHECKING:
    from shai.models import hub
    from shai.models import manifest as mf
    from shai.models import sync as syncmod
else:  # imported when a command uses them, not for --help (docs/performance.md)
    hub = lazy_module("shai.models.hub")
    mf = lazy_module("shai.models.manifest")
    syncmod = lazy_module("shai.models.sync")

app = typer.Typer(
    name="models",
    help="Models: one manifest, verified downloads from Hugging Face and mirrors, hosts in line.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=MARKUP,
    cls=HelpGroup,
)
console = lazy_console(stderr=True)
out = lazy_console()

DEFAULT_INVENTORY = Path("inventories/homelab/hosts.yml")

InventoryOpt = typer.Option(
    DEFAULT_INVENTORY,
    "--inventory",
    "-i",
    envvar="SHAI_INVENTORY",
    help="Ansible inventory: a directory or a file, as ansible-playbook -i.",
)
ManifestOpt = typer.Option(
    None,
    "--manifest",
    "-m",
    help="Models manifest (default: models.yml in the inventory directory, or next to the file).",
)
TargetOpt = typer.Option(None, "--target", "-t", help="Only this target (repeatable).")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")
TokenOverHttpOpt = typer.Option(
    False,
    "--token-over-http",
    help="Send the HF token to a plain-http endpoint (a lab mirror); default: only over https.",
)


_OPTS: dict[str, bool] = {"allow_unpinned": False}


@app.callback()
def main(
    allow_unpinned: bool = typer.Option(
        False,
        "--allow-unpinned",
        help="Accept a branch/tag as hf.revision in the manifest (default: commit).",
    ),
) -> None:
    """Models: one manifest, verified downloads from Hugging Face and mirrors, hosts in line."""
    _OPTS["allow_unpinned"] = allow_unpinned


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    return fail(message, code)  # one line on stderr, exit 1 (docs/cli.md)


def _fmt_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@app.command("download-hf")
def download_hf(
    repo: str = typer.Argument(..., help="Hugging Face repo id, e.g. coqui/XTTS-v2."),
    revision: str = typer.Option("main", "--revision", "-r", help="Branch, tag or commit (pin a commit)."),
    include: list[str] = typer.Option([], "--include", help="Glob of files to take (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Glob of files to skip (repeatable)."),
    dest: Path | None = typer.Option(None, "--dest", "-d", help="Folder (default: the Hugging Face cache)."),
    token: str | None = typer.Option(None, "--token", help="HF token (default: $HF_TOKEN, then the vault)."),
    endpoint: str | None = typer.Option(None, "--endpoint", envvar="HF_ENDPOINT", help="Hub or mirror URL."),
    repo_type: str = typer.Option("model", "--repo-type", help="model, dataset or space."),
    token_over_http: bool = TokenOverHttpOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Download a repo (or some of its files) and verify every file against the Hub's hashes."""
    try:
        tok = hub.hf_token(token)
    except Exception as exc:
        raise _fail(f"cannot read the HF token from the vault: {exc}") from None
    if dest is not None:
        dest.mkdir(parents=True, exist_ok=True)
    from shai.models.progress import Deferred, rich_tqdm

    try:
        # the bars are built on a second thread while the Hub is asked and the bytes start
        # flowing (rich costs ~0.1 s to import; the transfer need not wait for it)
        with Deferred(console) as bars:
            report = hub.download_hf(
                repo,
                revision,
                include,
                exclude,
                dest,
                tok,
                endpoint,
                repo_type,
                tqdm_class=rich_tqdm(bars.wait()) if dest is None else None,
                verify_progress=bars.verify,
                progress=bars.file,
                token_over_http=token_over_http,
            )
    except hub.HubError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        from rich.table import Table

        table = Table(title=f"{repo}@{report.commit} → {report.dest}")
        for col in ("file", "size", "check", "status"):
            table.add_column(col)
        for f in report.files:
            style = "green" if f.status == "ok" else "red"
            table.add_row(
                f.path, _fmt_size(f.size), f"{f.algorithm} {f.expected[:16]}…", f"[{style}]{f.status}[/]"
            )
        out.print(table)
    if not report.ok:
        bad = [f.path for f in report.files if f.status != "ok"]
        raise _fail(f"{len(bad)} file(s) did not match the Hub and were removed: {', '.join(bad)}", 1)


def _manifest_path(inventory: Path, manifest: Path | None) -> Path:
    if manifest is not None:
        return manifest
    if not inventory.exists():
        raise _fail(f"inventory {inventory} does not exist (a directory or a file, as ansible-playbook -i)")
    return (inventory if inventory.is_dir() else inventory.parent) / "models.yml"


def _load(inventory: Path, manifest: Path | None) -> dict[str, Any]:
    try:
        return mf.load(_manifest_path(inventory, manifest), _OPTS["allow_unpinned"])
    except mf.ManifestError as exc:
        raise _fail(str(exc)) from None


@app.command()
def pin(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be pinned; write nothing."),
    token: str | None = typer.Option(None, "--token", help="HF token (default: $HF_TOKEN, then the vault)."),
    endpoint: str | None = typer.Option(
        None, "--endpoint", envvar="HF_ENDPOINT", help="Hub or mirror URL (default: the manifest's)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Pin every hf.revision that names a branch or tag to the commit it points at now.

    Only those scalars change in the file (comments and layout stay); all revisions are resolved
    before anything is written, and nothing is written if one fails.
    """
    from shai.models import pin as pinmod

    path = _manifest_path(inventory, manifest)
    try:
        tok = hub.hf_token(token)
    except Exception as exc:
        raise _fail(f"cannot read the HF token from the vault: {exc}") from None
    if endpoint is None:
        try:  # the manifest's hf_endpoint, as the other commands read it (branch revisions allowed)
            endpoint = mf.load(path, allow_unpinned=True).get("hf_endpoint")
        except mf.ManifestError as exc:
            raise _fail(str(exc)) from None
    ep = endpoint

    def _resolve(repo: str, revision: str, repo_type: str) -> str:
        return hub.resolve_commit(repo, revision, tok, ep, repo_type)

    try:
        pins = pinmod.pin_file(path, _resolve, dry_run=dry_run)
    except pinmod.PinError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        out.print_json(
            json.dumps({"manifest": str(path), "dry_run": dry_run, "pins": [p.as_dict() for p in pins]})
        )
        return
    verb = "would pin" if dry_run else "pinned"
    from rich.table import Table

    table = Table(title=f"{path}{' (dry run: nothing written)' if dry_run else ''}")
    for col in ("entry", "repo", "revision", "commit", "status"):
        table.add_column(col)
    for p in pins:
        status = "already a commit" if p.status == "pinned" else verb
        table.add_row(p.entry, p.repo, p.revision, p.commit or "", status)
    out.print(table)


@app.command("list")
def list_cmd(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    target: list[str] = TargetOpt,
    as_json: bool = JsonOpt,
) -> None:
    """What the manifest declares, per target."""
    m = _load(inventory, manifest)
    try:
        selected = mf.targets(m, target or None)
    except mf.ManifestError as exc:
        raise _fail(str(exc)) from None
    rows: list[dict[str, Any]] = []
    from ansible_collections.vectorweight.shai.plugins.module_utils.models_manifest import file_dest_dir

    for tname, t in selected.items():
        for o in t["ollama"]:
            rows.append(
                {
                    "target": tname,
                    "hosts": t["hosts"],
                    "kind": "ollama",
                    "name": o["name"],
                    "source": "ollama registry",
                    "dest": t["ollama_url"],
                }
            )
        for f in t["files"]:
            src = f["url"] if "url" in f else f"hf:{f['hf']['repo']}@{f['hf']['revision'][:12]}"
            if "hf" in f and f["hf"]["include"]:
                src += " " + ",".join(f["hf"]["include"])
            rows.append(
                {
                    "target": tname,
                    "hosts": t["hosts"],
                    "kind": "file",
                    "name": f["name"],
                    "source": src,
                    "dest": file_dest_dir(t, f),
                }
            )
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from rich.table import Table

    table = Table(title=str(_manifest_path(inventory, manifest)))
    for col in ("target", "hosts", "kind", "name", "source", "dest"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("target", "hosts", "kind", "name", "source", "dest")))
    out.print(table)


def _run(
    inventory: Path,
    manifest: Path | None,
    target: list[str],
    check: bool,
    prune: bool = False,
    prune_only: bool = False,
    token: str | None = None,
    limit: str | None = None,
    quiet: bool = False,
) -> syncmod.SyncReport:
    from shai import ansible_inventory

    m = _load(inventory, manifest)
    try:
        sources = ansible_inventory.check_sources([inventory])
        _require_hosts(sources, mf.targets(m, target or None), limit)
        tok = hub.hf_token(token)
        plans = mf.plan(m, target or None, tok)
    except ShaiError as exc:
        raise _fail(str(exc)) from None
    return syncmod.run(
        plans,
        Path(sources[0]),
        check=check,
        prune=prune,
        prune_only=prune_only,
        token=tok,
        hf_endpoint=m.get("hf_endpoint"),
        limit=limit,
        stream=not quiet,
    )


def _require_hosts(sources: list[str], targets: dict[str, dict[str, Any]], limit: str | None) -> None:
    """Every target's ``hosts:`` must match a host (with --limit: at least one target must)."""
    from shai import ansible_inventory

    empty = [
        f"target {name}: hosts {t['hosts']!r} matches no host in {sources[0]}"
        + (f" with --limit {limit}" if limit else "")
        for name, t in targets.items()
        if not ansible_inventory.select(sources, t["hosts"], limit)
    ]
    if empty and (not limit or len(empty) == len(targets)):
        raise ansible_inventory.InventoryError("; ".join(empty) + ": nothing to check")


def _report(rep: syncmod.SyncReport, as_json: bool, title: str, only_problems: bool = False) -> None:
    items = [i for i in rep.items if not only_problems or i.status != "ok"]
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "items": [i.__dict__ for i in items],
                    "unreachable": rep.unreachable,
                    "changed": rep.changed,
                    "failed": rep.failed,
                }
            )
        )
        return
    from rich.table import Table

    table = Table(title=title)
    for col in ("host", "target", "kind", "name", "status", "detail"):
        table.add_column(col)
    colors = {"ok": "green", "changed": "yellow", "would-change": "yellow", "failed": "red"}
    for i in items:
        table.add_row(
            i.host, i.target, i.kind, i.name, f"[{colors.get(i.status, 'white')}]{i.status}[/]", i.detail
        )
    out.print(table)
    for u in rep.unreachable:
        console.print(f"[red]{u}[/red]")


@app.command()
def diff(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    target: list[str] = TargetOpt,
    limit: str | None = typer.Option(None, "--limit", "-l", help="ansible --limit."),
    token: str | None = typer.Option(None, "--token", help="HF token (default: $HF_TOKEN, then the vault)."),
    as_json: bool = JsonOpt,
) -> None:
    """Manifest vs what each host has (a check-mode run: nothing changes). Exit 1 on any difference."""
    rep = _run(inventory, manifest, target, check=True, token=token, limit=limit, quiet=as_json)
    _report(rep, as_json, "manifest vs hosts (check mode)")
    if rep.failed or rep.changed:
        raise typer.Exit(1)


@app.command()
def verify(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    target: list[str] = TargetOpt,
    limit: str | None = typer.Option(None, "--limit", "-l", help="ansible --limit."),
    token: str | None = typer.Option(None, "--token", help="HF token (default: $HF_TOKEN, then the vault)."),
    local: Path | None = typer.Option(
        None, "--local", help="Verify a local download folder instead of hosts."
    ),
    repo: str | None = typer.Option(None, "--repo", help="With --local: the Hub repo the folder came from."),
    revision: str = typer.Option("main", "--revision", help="With --local: the revision."),
    as_json: bool = JsonOpt,
) -> None:
    """Hash the model files on disk and compare with the manifest / the Hub. Exit 1 on mismatch."""
    if local is not None:
        if not repo:
            raise _fail("--local needs --repo")
        if not local.is_dir():
            raise _fail(f"--local {local} is not a directory")
        try:
            commit, files = hub.remote_files(repo, revision, hub.hf_token(token))
        except hub.HubError as exc:
            raise _fail(str(exc)) from None
        present = [f for f in files if (local / f.path).is_file()]
        checks = hub.verify_files(local, present, remove_bad=False)
        if as_json:
            out.print_json(json.dumps({"commit": commit, "files": [c.__dict__ for c in checks]}))
        else:
            from rich.table import Table

            table = Table(title=f"{local} vs {repo}@{commit}")
            for col in ("file", "algorithm", "status"):
                table.add_column(col)
            for c in checks:
                table.add_row(c.path, c.algorithm, c.status)
            out.print(table)
        if not checks:
            raise _fail(f"no file of {repo}@{commit[:12]} is in {local}: nothing verified")
        if any(c.status != "ok" for c in checks):
            raise typer.Exit(1)
        return
    rep = _run(inventory, manifest, target, check=True, token=token, limit=limit, quiet=as_json)
    rep.items = [i for i in rep.items if i.kind == "file"]
    _report(rep, as_json, "model files on hosts vs manifest (sha256)")
    if rep.failed or rep.changed:
        raise typer.Exit(1)


@app.command()
def sync(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    target: list[str] = TargetOpt,
    limit: str | None = typer.Option(None, "--limit", "-l", help="ansible --limit."),
    token: str | None = typer.Option(None, "--token", help="HF token (default: $HF_TOKEN, then the vault)."),
    check: bool = typer.Option(False, "--check", help="Predict only."),
    as_json: bool = JsonOpt,
) -> None:
    """Bring every host in line with the manifest (model_file + ollama_model over SSH)."""
    rep = _run(inventory, manifest, target, check=check, token=token, limit=limit, quiet=as_json)
    _report(rep, as_json, "sync" + (" (check mode)" if check else ""))
    if rep.failed:
        raise typer.Exit(1)


@app.command()
def prune(
    inventory: Path = InventoryOpt,
    manifest: Path | None = ManifestOpt,
    target: list[str] = TargetOpt,
    limit: str | None = typer.Option(None, "--limit", "-l", help="ansible --limit."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = JsonOpt,
) -> None:
    """Remove model files and Ollama models the manifest no longer lists (asks first)."""
    preview = _run(
        inventory, manifest, target, check=True, prune=True, prune_only=True, limit=limit, quiet=True
    )
    victims = [i for i in preview.items if i.status == "would-change"]
    _report(preview, as_json, "would be removed", only_problems=True)
    if preview.failed:
        raise typer.Exit(1)
    if not victims:
        console.print("nothing to prune")
        return
    if not yes and not typer.confirm(f"remove {len(victims)} item(s)?", default=False):
        raise typer.Exit(1)
    rep = _run(
        inventory, manifest, target, check=False, prune=True, prune_only=True, limit=limit, quiet=as_json
    )
    _report(rep, as_json, "pruned", only_problems=True)
    if rep.failed:
        raise typer.Exit(1)
