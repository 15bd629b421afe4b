"""secrets: every catalog secret is generated, sealed (and opens with the vault's key), and committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

# Catalog entries with this annotation are for the operator only: no workload of the tree reads them.
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules.secret_refs import OPERATOR_ONLY

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding
from shai.secrets import lifecycle
from shai.secrets.catalog import load_catalog

# A value that cannot exist before the first run (e.g. a token of an app the platform deploys):
# its readers reference it as optional, so a first run does not need it.
SUPPLIED_LATER = "shai.vectorweight.com/supplied-later"


def _uncommitted(project: Path, paths: list[Path]) -> list[str] | None:
    """Sealed files git does not have as committed (untracked or modified); None outside a git tree."""
    if not paths:
        return []
    rels = [str(p.resolve().relative_to(project.resolve())) for p in paths]
    probe = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return None
    status = subprocess.run(
        ["git", "-C", str(project), "status", "--porcelain", "--untracked-files=all", "--", *rels],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(line[3:] for line in status.stdout.splitlines() if line.strip())


def _commit(ctx: Context) -> str:
    where = ctx.rel(ctx.project)
    git = "git" if where == "." else f"git -C {where}"
    return f"{git} add gitops/secrets && {git} commit -m 'Seal the platform secrets'"


def run(ctx: Context) -> list[Finding]:
    if not ctx.vault.exists:
        count = len(load_catalog(ctx.project / "secrets" / "catalog.yml").entries)
        return [
            CHECK.fail(
                f"no vault yet: none of the {count} catalog secrets is generated or sealed",
                f"{ctx.secrets_cmd('generate')} && {ctx.secrets_cmd('seal')} && {_commit(ctx)}",
            )
        ]
    if ctx.vault.vault is None:
        return [CHECK.skip("the vault cannot be read (see the vault check)")]
    catalog_path = ctx.project / "secrets" / "catalog.yml"
    gitops = ctx.project / "gitops"
    catalog = load_catalog(catalog_path)
    vault = ctx.vault.vault
    findings: list[Finding] = []
    generated: dict[str, list[str]] = {}
    supplied: list[str] = []
    read_by_the_platform: dict[str, list[str]] = {}
    for entry in catalog.entries.values():
        for key in lifecycle.entry_values(vault, entry)[1]:
            spec = entry.keys[key]
            if spec.generator != "supplied":
                generated.setdefault(entry.id, []).append(key)
            elif not spec.optional:
                supplied.append(str(spec.vault_var))
            elif OPERATOR_ONLY not in entry.annotations and SUPPLIED_LATER not in entry.annotations:
                # Optional to generate, but a workload of the tree reads this Secret: unsealed, the
                # GitOps render fails validation (secret-refs) on the first run.
                read_by_the_platform.setdefault(entry.id, []).append(str(spec.vault_var))
    if read_by_the_platform:
        names = sorted(v for values in read_by_the_platform.values() for v in values)
        entries = ", ".join(f"{i} ({', '.join(v)})" for i, v in sorted(read_by_the_platform.items()))
        findings.append(
            CHECK.fail(
                f"the platform reads these Secrets but their values are not in the vault: {entries}",
                f"ansible-vault edit {ctx.rel(ctx.vault.path)}  # add {', '.join(names)}; then "
                f"{ctx.secrets_cmd('seal')} (or turn off the component that reads them: gitops_components)",
            )
        )
    if generated:
        ids = ", ".join(f"{i} ({', '.join(keys)})" for i, keys in sorted(generated.items()))
        findings.append(CHECK.fail(f"not generated yet: {ids}", ctx.secrets_cmd("generate")))
    if supplied:
        findings.append(
            CHECK.fail(
                f"values only you can supply are not in the vault: {', '.join(sorted(supplied))}",
                f"ansible-vault edit {ctx.rel(ctx.vault.path)}  # add {', '.join(sorted(supplied))}",
            )
        )
    if not lifecycle.private_keys(vault):
        return [*findings, CHECK.skip("no sealing key to verify sealed files with (see sealing-key)")]
    count, problems = lifecycle.verify(catalog, vault, gitops)
    if problems:
        detail = "; ".join(f"{ctx.rel(Path(p.path))}: {p.message}" for p in problems)
        findings.append(CHECK.fail(f"sealed secrets out of date: {detail}", ctx.secrets_cmd("seal")))
    uncommitted = _uncommitted(ctx.project, lifecycle.sealed_files(gitops))
    if uncommitted is None:
        findings.append(CHECK.warn(f"{ctx.project} is not a git work tree: cannot tell what is committed"))
    elif uncommitted:
        findings.append(
            CHECK.fail(
                f"sealed files not committed: {', '.join(uncommitted)}",
                _commit(ctx),
            )
        )
    if not findings:
        findings.append(
            CHECK.ok(
                f"{len(catalog.entries)} catalog secrets generated; {count} sealed files verified, committed"
            )
        )
    return findings


CHECK = Check(
    id="secrets",
    description="every catalog secret is generated, sealed with the vault's key, its sealed file committed",
    offline=True,
    run=run,
)
