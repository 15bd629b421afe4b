"""Typed wrappers over the collection's gitops module_utils, plus inventory loading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops as _g
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm as _helm
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as _rules
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_seed as _s
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import Finding
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_seed import SeedError, SeedResult

__all__ = ["Finding", "GitopsError", "Layout", "SeedError", "SeedResult"]

VAR_PREFIXES = ("shai_", "gitops_")
TOKEN_VAR = "vault_gitops_repo_token"


def repo_root() -> Path:
    """The shai checkout holding gitops/ (this file's tree in development, else the cwd)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "gitops" / "templates").is_dir() and (parent / "galaxy.yml").is_file():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Layout:
    """Where the inputs of a render live."""

    templates: Path
    values: Path
    secrets: Path
    crds: Path

    @classmethod
    def default(cls, root: Path | None = None) -> Layout:
        base = (root or repo_root()) / "gitops"
        return cls(base / "templates", base / "values.yml", base / "secrets", base / "crds")


def _plain(data: Any) -> Any:
    """Ansible's tagged strings and lazy containers -> plain JSON types."""
    return json.loads(json.dumps(data, default=str))


def inventory_vars(inventory: Path, host: str | None = None, with_secrets: bool = False) -> dict[str, Any]:
    """The templated shai_*/gitops_* variables of the k3s server (or `host`) of an inventory.

    Vault-encrypted files are decrypted only when ANSIBLE_VAULT_PASSWORD_FILE is set.
    `with_secrets` additionally returns vault_gitops_repo_token (for the seed).
    """
    from ansible.errors import AnsibleError, AnsibleTemplatePluginError, AnsibleUndefinedVariable
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    if not inventory.exists():
        raise GitopsError(f"inventory {inventory} does not exist")
    loader = DataLoader()
    pw_file = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if pw_file:
        from ansible.cli import CLI

        CLI.setup_vault_secrets(loader, vault_ids=[], vault_password_files=[pw_file])
    inv = InventoryManager(loader=loader, sources=[str(inventory)])
    vm = VariableManager(loader=loader, inventory=inv)
    if host:
        target = inv.get_host(host)
        if target is None:
            raise GitopsError(f"host {host} is not in inventory {inventory}")
    else:
        group = inv.groups.get("k3s_server")
        hosts = group.get_hosts() if group else []
        if not hosts:
            raise GitopsError(f"inventory {inventory} has no host in group k3s_server (use --host)")
        target = hosts[0]
    hv = dict(vm.get_vars(host=target, include_hostvars=True))
    hv["hostvars"] = HostVars(inventory=inv, variable_manager=vm, loader=loader)
    templar = Templar(loader=loader, variables=hv)
    names = [k for k in hv if k.startswith(VAR_PREFIXES)]
    if with_secrets and TOKEN_VAR in hv:
        names.append(TOKEN_VAR)
    out: dict[str, Any] = {}
    for name in sorted(names):
        try:
            out[name] = _plain(templar.template(hv[name]))
        except (AnsibleUndefinedVariable, AnsibleTemplatePluginError):
            # Play-time variables (playbook_dir...) only exist in a playbook run, and lookups
            # (lookup('env', ...)) need the plugin loader a play sets up (initialising it here
            # would take over the collection imports); a template that needs such a variable
            # fails later with StrictUndefined, naming it.
            continue
        except AnsibleError as exc:
            raise GitopsError(f"inventory {inventory}: variable {name}: {exc.message}") from exc
    # The models manifest beside the inventory (docs/models.md) -> shai_models: LiteLLM's model
    # list is generated from it (ADR 0306), templated for the same host as the variables above.
    manifest = (inventory if inventory.is_dir() else inventory.parent) / "models.yml"
    if manifest.is_file() and "shai_models" not in out:
        try:
            data = loader.load_from_file(str(manifest), trusted_as_template=True) or {}
            out["shai_models"] = _plain(templar.template(data.get("shai_models") or {}))
        except AnsibleError as exc:
            raise GitopsError(f"models manifest {manifest}: {exc.message}") from exc
    return out


def load_values(layout: Layout, inventory_values: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = _g.load_values(str(layout.values), inventory_values)
    return values


def render(layout: Layout, values: dict[str, Any]) -> dict[str, bytes]:
    files: dict[str, bytes] = _g.render_tree(str(layout.templates), values, str(layout.secrets))
    return files


def write(files: dict[str, bytes], out: Path) -> list[str]:
    changed: list[str] = _g.write_tree(files, str(out))
    return changed


def read(tree: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = _g.read_tree(str(tree))
    return files


def diff(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    text: str = _g.tree_diff(before, after)
    return text


def kube_pin(root: Path | None = None) -> str:
    """The k3s pin (roles/k3s/defaults/main.yml), the default Kubernetes version of validate."""
    return str(_g.k3s_version(str(root or repo_root())))


@dataclass
class Validation:
    """What `validate --charts` checked: objects, findings, and per Application what it rendered."""

    count: int
    findings: list[Finding]
    renders: list[Any]  # gitops_helm.AppRender

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def audit(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "error"]

    @property
    def unverified(self) -> dict[str, str]:
        return dict(_helm.unverified_apps(self.renders))

    @property
    def charts(self) -> list[Any]:
        return [r for r in self.renders if r.kind == "chart" and not r.unverified]

    def as_dict(self) -> dict[str, Any]:
        return {
            "objects": self.count,
            "findings": iter_findings(self.failures),
            "audit": iter_findings(self.audit),
            "rendered": [r.as_dict() for r in self.renders if r.kind == "chart"],
            "unverified": self.unverified,
        }


def validate_charts(
    tree: Path, crds: Path, kube_version: str, charts: Path | None, jobs: int = 2
) -> Validation:
    """validate() plus, with a charts directory, every chart Application rendered by the real Helm."""
    count, findings, renders = _helm.validate_with_charts(
        str(tree), str(crds), kube_version, str(charts) if charts else None, jobs=jobs
    )
    return Validation(int(count), list(findings), list(renders))


def validate(tree: Path, crds: Path, kube_version: str) -> tuple[int, list[Finding]]:
    count, findings = _rules.validate_tree(str(tree), str(crds), kube_version)
    return int(count), list(findings)


def _kubectl() -> str:
    try:
        from shai import tools

        return str(tools.kubectl())
    except Exception:
        found = shutil.which("kubectl")
        if not found:
            raise GitopsError("kubectl not found (install the dev group: uv sync)") from None
        return found


def server_validate(
    tree: Path,
    kubeconfig: Path,
    crds: Path | None = None,
    prepare: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Server-side dry-run of every manifest (`kubectl apply --server-side --dry-run=server`).

    prepare=True first installs the CRDs of gitops/crds and creates the tree's Namespaces FOR
    REAL (a dry-run cannot create objects in a namespace that does not exist): point it only at
    a throw-away API server (tests/conftest.py's kube_apiserver, `shai kube up`).
    """
    kubectl = _kubectl()
    base = [kubectl, "--kubeconfig", str(kubeconfig)]

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(base + args, capture_output=True, text=True, timeout=300, check=False)

    findings: list[Finding] = []
    objects, parse = _rules.load_tree_objects(str(tree))
    findings.extend(parse)
    if prepare:
        if crds is not None:
            res = run(["apply", "--server-side", "--force-conflicts", "-f", str(crds)])
            if res.returncode != 0:
                raise GitopsError(f"installing the CRDs of {crds} failed: {res.stderr.strip()}")
            run(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"])
        for _rel, doc in objects:
            if isinstance(doc, dict) and doc.get("kind") == "Namespace":
                name = (doc.get("metadata") or {}).get("name")
                run(["create", "namespace", str(name)])
    files = sorted({rel for rel, _doc in objects})

    def check(rel: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        res = run(
            [
                "apply",
                "--server-side",
                "--force-conflicts",
                "--dry-run=server",
                "--field-manager=shai-gitops-validate",
                "-f",
                str(tree / rel),
            ]
        )
        return rel, res

    with ThreadPoolExecutor(max_workers=8) as pool:
        for rel, res in pool.map(check, files):
            if progress:
                progress(rel)
            if res.returncode != 0:
                for line in res.stderr.strip().splitlines():
                    if line.strip():
                        findings.append(Finding("server", rel, "(server dry-run)", "", line.strip()))
    return findings


def seed(
    files: dict[str, bytes],
    url: str,
    branch: str,
    path: str = "",
    token: str | None = None,
    username: str | None = None,
    check: bool = False,
    message: str = "shai gitops: seed rendered tree",
) -> SeedResult:
    return _s.seed(
        files,
        url,
        branch=branch,
        path=path,
        token=token,
        username=username,
        check_mode=check,
        message=message,
    )


@dataclass(frozen=True)
class Pin:
    """One pinned artifact of the tree and how to check it upstream (needs the internet)."""

    kind: str  # "chart" | "image"
    name: str
    source: str
    version: str
    verify: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def pins(values_file: Path) -> list[Pin]:
    """The chart and image pins of gitops/values.yml (unresolved: no inventory needed), each with
    the command an operator runs ONLINE to confirm the version exists upstream."""
    import yaml

    try:
        data = yaml.safe_load(values_file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GitopsError(f"{values_file}: {exc}") from exc
    charts = data.get("gitops_charts") or {}
    images = data.get("gitops_images") or {}
    if not isinstance(charts, dict) or not isinstance(images, dict):
        raise GitopsError(f"{values_file}: gitops_charts and gitops_images must be mappings")
    out: list[Pin] = []
    for name, chart in sorted(charts.items()):
        repo, chart_name, version = (
            str(chart.get("repo", "")),
            str(chart.get("chart", "")),
            str(chart.get("version", "")),
        )
        if chart.get("oci"):
            source = f"oci://{repo}/{chart_name}"
            verify = f"helm show chart {source} --version {version}"
        else:
            source = f"{repo} {chart_name}"
            verify = f"helm show chart {chart_name} --repo {repo} --version {version}"
        out.append(Pin("chart", str(name), source, version, verify))
    for name, image in sorted(images.items()):
        ref = str(image)
        repo, _, tag = ref.rpartition(":")
        out.append(Pin("image", str(name), repo, tag, f"skopeo inspect --no-tags docker://{ref}"))
    return out


def iter_findings(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [f.as_dict() for f in findings]
