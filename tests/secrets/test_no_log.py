"""Every module and role option that carries a secret is ``no_log`` (issue 14, class 6).

An option "looks secret" by its name (token, password, secret, credential, private key, ...);
options that only name *where* a secret lives (``*_file``, ``*_path``), say *whether* (bool) or
*how long* (int), and the few listed in ALLOW are not secrets themselves."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(
    r"token|passw|secret|credential|private_key|api_key|apikey|_key$|^key$|sealing_key|digest_key|auth",
    re.IGNORECASE,
)
NOT_A_SECRET_SUFFIX = ("_file", "_path", "_dir", "_url", "_name", "_var", "_namespace", "_label")
NOT_A_SECRET_TYPES = ("bool", "int", "float")
# name -> why it is not a secret
ALLOW = {
    "sealed_secret.cert_source": "where the public certificate comes from (auto, file, ...)",
    "argocd_bootstrap_sealing_key_required": "bool (typed as such)",
    "k3s_secrets_encryption": "bool (typed as such)",
    "k3s_token_length": "int (typed as such)",
    "base_admin_authorized_keys": "public SSH keys",
}


def looks_secret(qualified: str, name: str, spec: dict[str, Any]) -> bool:
    if qualified in ALLOW or name in ALLOW:
        return False
    if str(spec.get("type", "str")) in NOT_A_SECRET_TYPES or name.endswith(NOT_A_SECRET_SUFFIX):
        return False
    return bool(SECRET_NAME.search(name))


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def module_options(path: Path) -> dict[str, dict[str, Any]]:
    """The argument_spec=dict(name=dict(...), ...) of a module, read from its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg != "argument_spec":
            continue
        if isinstance(node.value, ast.Call):
            opts = {}
            for kw in node.value.keywords:
                spec: dict[str, Any] = {}
                if isinstance(kw.value, ast.Call):
                    spec = {k.arg: _literal(k.value) for k in kw.value.keywords if k.arg}
                opts[str(kw.arg)] = spec
            return opts
    return {}


def role_options() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for entry in (doc.get("argument_specs") or {}).values():
            for name, spec in (entry.get("options") or {}).items():
                out[f"{f.parts[-3]}:{name}"] = spec or {}
    return out


def test_the_audit_sees_options() -> None:
    mods = {p.stem: module_options(p) for p in (REPO / "plugins" / "modules").glob("*.py")}
    assert "private_key" in mods["sealed_secret"] and len(role_options()) > 50


def test_every_secret_module_option_is_no_log() -> None:
    missing = []
    for path in sorted((REPO / "plugins" / "modules").glob("*.py")):
        for name, spec in module_options(path).items():
            if looks_secret(f"{path.stem}.{name}", name, spec) and spec.get("no_log") is not True:
                missing.append(f"{path.stem}.{name}")
    assert missing == [], f"secret-looking module options without no_log=True: {missing}"


def test_every_secret_role_option_is_no_log() -> None:
    missing = [
        q
        for q, spec in role_options().items()
        if looks_secret(q, q.partition(":")[2], spec) and spec.get("no_log") is not True
    ]
    assert missing == [], f"secret-looking role options without no_log: true: {missing}"


def test_the_audit_catches_a_missing_no_log() -> None:
    assert looks_secret("x:comfyui_hf_token", "comfyui_hf_token", {"type": "str"})
    assert looks_secret("x:argocd_bootstrap_sealing_key", "argocd_bootstrap_sealing_key", {"type": "str"})
    assert not looks_secret("x:drift_schedule_vault_password_file", "drift_schedule_vault_password_file", {})
