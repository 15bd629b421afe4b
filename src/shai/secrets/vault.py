"""The ansible-vault encrypted vault: the only place plaintext secrets live (besides the
operator's ADMIN_CREDENTIALS.local.md).

The vault is an ordinary Ansible vars file (by default
``inventories/homelab/group_vars/all/vault.yml``) encrypted as a whole with ansible-core's
VaultLib, so playbooks read it like any group_vars file.  shai manages these variables and
keeps every other variable in it untouched:

* ``vault_shai_secrets``: ``{catalog id: {key: value}}`` generated values
* ``vault_shai_secrets_meta``: ``{catalog id: {"generated": iso, "rotated": iso}}``
* ``vault_shai_secrets_digest_key``: HMAC key of the digest annotation (docs/adr/0200)
* ``vault_sealed_secrets_private_key`` / ``vault_sealed_secrets_certificate``: the active
  sealing key pair; ``vault_sealed_secrets_keys``: every key pair ever used (for unsealing)
* operator-supplied values under the variables the catalog names (``vault_hf_token`` ...)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.clikit import lazy_module

if TYPE_CHECKING:
    import yaml
else:  # `shai-models download-hf` reads DEFAULT_VAULT/PASSWORD_ENV only, without a vault
    yaml = lazy_module("yaml")

__all__ = ["DEFAULT_VAULT", "PASSWORD_ENV", "Vault", "VaultError", "atomic_write", "password_file"]

DEFAULT_VAULT = Path("inventories/homelab/group_vars/all/vault.yml")
PASSWORD_ENV = ("SHAI_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE")


class VaultError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """Vault cannot be read or written; message names the file, never a value."""


def password_file(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    for env in PASSWORD_ENV:
        value = os.environ.get(env)
        if value:
            return Path(value).expanduser()
    raise VaultError(
        "no vault password: pass --vault-password-file or set SHAI_VAULT_PASSWORD_FILE / "
        "ANSIBLE_VAULT_PASSWORD_FILE"
    )


def _vaultlib(pw_file: Path) -> Any:
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, get_file_vault_secret

    if not pw_file.is_file():
        raise VaultError(f"vault password file {pw_file} does not exist")
    secret = get_file_vault_secret(filename=str(pw_file), vault_id="default", loader=DataLoader())
    secret.load()
    return VaultLib([("default", secret)])


class Vault:
    """Load, change and atomically save the encrypted vars file."""

    def __init__(self, path: Path, pw_file: Path | None = None) -> None:
        self.path = path
        self.pw_file = password_file(pw_file)
        self._lib = _vaultlib(self.pw_file)
        self.data: dict[str, Any] = {}
        self.exists = path.exists()
        if self.exists:
            self.data = self._load()

    def _load(self) -> dict[str, Any]:
        raw = self.path.read_bytes()
        if not raw.lstrip().startswith(b"$ANSIBLE_VAULT"):
            raise VaultError(
                f"{self.path} is not ansible-vault encrypted; refusing to read or rewrite a plaintext "
                f"vault (encrypt it: ansible-vault encrypt {self.path})"
            )
        try:
            plain = self._lib.decrypt(raw)
        except Exception as exc:
            raise VaultError(
                f"cannot decrypt {self.path}: {type(exc).__name__} (wrong vault password?)"
            ) from None
        try:
            doc = yaml.safe_load(plain) or {}
        except yaml.YAMLError as exc:
            raise VaultError(
                f"{self.path}: decrypted content is not valid YAML ({exc.__class__.__name__})"
            ) from None
        if not isinstance(doc, dict):
            raise VaultError(f"{self.path}: decrypted content is not a mapping of variables")
        return doc

    def encrypted(self) -> bytes:
        """The file content :meth:`save` writes (encrypted)."""
        text = "---\n# Managed by shai-secrets (ansible-vault encrypted). Edit with ansible-vault edit.\n"
        text += yaml.safe_dump(self.data, sort_keys=True, default_flow_style=False, width=1000)
        return bytes(self._lib.encrypt(text.encode("utf-8")))

    def save(self) -> None:
        atomic_write(str(self.path), self.encrypted(), 0o600)
        self.exists = True

    # -- typed accessors --------------------------------------------------------------

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.setdefault(name, {})
        if not isinstance(value, dict):
            raise VaultError(f"{self.path}: variable {name} must be a mapping")
        return value

    def secrets(self) -> dict[str, dict[str, str]]:
        return self.section("vault_shai_secrets")

    def meta(self) -> dict[str, dict[str, str]]:
        return self.section("vault_shai_secrets_meta")
