"""Everything a doctor check reads, loaded once: the inventory (as Ansible sees it), the vault,
the project tree around the inventory, and the role defaults an inventory falls back to.

The inventory is loaded with Ansible's own InventoryManager and VariableManager, so ``-i`` takes a
directory or a file exactly as ``ansible-playbook -i`` does and variables are templated the way a
play would see them. A vault that cannot be decrypted does not stop the other checks: its file is
read as empty (the ``vault`` check reports why).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.secrets.vault import PASSWORD_ENV, Vault, VaultError

# Groups the platform's plays target (site.yml).
REQUIRED_GROUPS = ("k3s_server", "gpu_workstation", "shai_control")


class DoctorError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """The inventory cannot be read at all."""


@dataclass
class VaultState:
    path: Path
    password_file: Path | None
    password_source: str
    exists: bool = False
    encrypted: bool = False
    error: str = ""
    data: dict[str, Any] | None = None
    vault: Vault | None = None


def password_source(explicit: Path | None = None) -> tuple[Path | None, str]:
    """The vault password file and where it was configured (flag, environment, ansible.cfg)."""
    if explicit is not None:
        return explicit.expanduser(), "--vault-password-file"
    for env in PASSWORD_ENV:
        if os.environ.get(env):
            return Path(os.environ[env]).expanduser(), f"${env}"
    from ansible import constants as C

    configured = getattr(C, "DEFAULT_VAULT_PASSWORD_FILE", None)
    if configured:
        first = configured[0] if isinstance(configured, list | tuple) else configured
        return Path(str(first)).expanduser(), "ansible.cfg vault_password_file"
    return None, ""


def load_vault(path: Path, explicit_password: Path | None = None) -> VaultState:
    pw_file, source = password_source(explicit_password)
    state = VaultState(path=path, password_file=pw_file, password_source=source)
    state.exists = path.is_file()
    if not state.exists:
        return state
    state.encrypted = path.read_bytes().lstrip().startswith(b"$ANSIBLE_VAULT")
    if not state.encrypted:
        state.error = f"{path} is not encrypted"
        return state
    if pw_file is None:
        state.error = "no vault password configured"
        return state
    try:
        state.vault = Vault(path, pw_file)
    except VaultError as exc:
        state.error = str(exc)
        return state
    state.data = state.vault.data
    return state


def collection_root() -> Path:
    """The vectorweight.shai collection this shai runs with (the checkout, or the installed copy)."""
    spec = importlib.util.find_spec("ansible_collections.vectorweight.shai")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - packaging bug
        raise DoctorError("the vectorweight.shai collection is not importable")
    return Path(next(iter(spec.submodule_search_locations)))


def project_root(inventory_dir: Path) -> Path:
    """The project the inventory belongs to: the nearest ancestor with secrets/catalog.yml."""
    for parent in [inventory_dir, *inventory_dir.parents]:
        if (parent / "secrets" / "catalog.yml").is_file():
            return parent
    return Path.cwd()


def _trusted(value: Any) -> Any:
    """Role defaults are templates Ansible trusts (it reads them from the role); so do we."""
    from ansible.template import trust_as_template

    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


@dataclass
class Context:
    inventory: Path
    offline: bool
    vault_password_file: Path | None = None
    inventory_dir: Path = field(init=False)
    project: Path = field(init=False)

    def __post_init__(self) -> None:
        if not self.inventory.exists():
            raise DoctorError(f"inventory {self.inventory} does not exist")
        self.inventory_dir = (self.inventory if self.inventory.is_dir() else self.inventory.parent).resolve()
        self.project = project_root(self.inventory_dir)
        self._vars: dict[str, dict[str, Any]] = {}

    # -- vault -----------------------------------------------------------------------------

    @cached_property
    def vault(self) -> VaultState:
        return load_vault(self.inventory_dir / "group_vars" / "all" / "vault.yml", self.vault_password_file)

    # -- inventory -------------------------------------------------------------------------

    @cached_property
    def _ansible(self) -> tuple[Any, Any, Any]:
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        from ansible.utils.display import Display
        from ansible.vars.manager import VariableManager

        Display().verbosity = 0
        vault = self.vault
        vault_path = str(vault.path)

        class _Loader(DataLoader):  # type: ignore[misc]
            """Reads an undecryptable vault as empty: the vault check says why."""

            def load_from_file(self, file_name: str, *args: Any, **kwargs: Any) -> Any:
                if os.path.realpath(file_name) == os.path.realpath(vault_path) and vault.data is None:
                    return {}
                return super().load_from_file(file_name, *args, **kwargs)

        loader = _Loader()
        if vault.vault is not None:
            loader.set_vault_secrets(vault.vault._lib.secrets)
        try:
            inventory = InventoryManager(loader=loader, sources=[str(self.inventory)])
        except Exception as exc:
            raise DoctorError(f"inventory {self.inventory}: {exc}") from None
        return loader, inventory, VariableManager(loader=loader, inventory=inventory)

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        _loader, inventory, _vm = self._ansible
        return {name: sorted(h.name for h in g.get_hosts()) for name, g in inventory.groups.items()}

    @property
    def hosts(self) -> list[str]:
        return self.groups.get("all", [])

    def role_defaults(self, role: str) -> dict[str, Any]:
        for roles in (self.project / "roles", collection_root() / "roles"):
            path = roles / role / "defaults" / "main.yml"
            if path.is_file():
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                return {k: _trusted(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return {}

    def var(self, host: str, name: str, role: str | None = None, default: Any = None) -> Any:
        """``name`` as a play on ``host`` would see it (inventory over ``role``'s defaults)."""
        from ansible.template import Templar
        from ansible.vars.hostvars import HostVars

        loader, inventory, vm = self._ansible
        if host not in self._vars:
            variables = vm.get_vars(host=inventory.get_host(host), include_hostvars=True)
            variables["hostvars"] = HostVars(inventory=inventory, variable_manager=vm, loader=loader)
            self._vars[host] = variables
        variables = self._vars[host]
        defaults = self.role_defaults(role) if role else {}
        if name not in variables and name not in defaults:
            return default
        merged = {**defaults, **variables}
        try:
            return Templar(loader, variables=merged).template(merged[name])
        except Exception as exc:
            raise DoctorError(f"{host}: cannot resolve {name}: {' '.join(str(exc).split())}") from None

    # -- fix commands ----------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """``path`` as the operator types it (relative to the current directory when inside it)."""
        try:
            return str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def inventory_arg(self) -> str:
        return self.rel(self.inventory)

    def secrets_cmd(self, command: str) -> str:
        """The shai-secrets command line for this inventory's vault and project."""
        parts = ["shai-secrets"]
        if self.project.resolve() != Path.cwd().resolve():
            parts += ["--catalog", self.rel(self.project / "secrets" / "catalog.yml")]
            parts += ["--gitops", self.rel(self.project / "gitops")]
        parts += ["--vault", self.rel(self.vault.path), command]
        return " ".join(parts)

    def defined_in(self, name: str, fallback: str = "group_vars/all/main.yml") -> str:
        """The inventory file that sets ``name`` (where the fix goes), else where it should go."""
        for sub in ("host_vars", "group_vars"):
            for path in sorted((self.inventory_dir / sub).rglob("*.y*ml")):
                text = path.read_text(encoding="utf-8", errors="replace")
                if any(line.startswith(f"{name}:") for line in text.splitlines()):
                    return self.rel(path)
        return self.rel(self.inventory_dir / fallback)
