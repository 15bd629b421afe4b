"""Bad input and faults against ``shai-secrets`` (issue 14): each case asserts the exit code, a
message naming the problem, no traceback, nothing changed on disk (the workspace hashed before
and after) and no secret value in the output."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from shai.secrets import lifecycle
from shai.secrets.catalog import load_catalog
from shai.secrets.cli import app

REPO = Path(__file__).resolve().parents[2]
LONG = "a" * 300


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    message: str
    stdin: str | bytes | None = None
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


def _secret_file(name: str, body: dict[str, Any]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        (root / name).write_text(yaml.safe_dump(body))

    return write


def _catalog_patch(old: str, new: str) -> Callable[[Path], None]:
    def patch(root: Path) -> None:
        p = root / "secrets" / "catalog.yml"
        text = p.read_text()
        assert old in text
        p.write_text(text.replace(old, new, 1))

    return patch


def _secret(data: dict[str, str] | None = None, **meta: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "app", "namespace": "team-a", **meta},
        "stringData": data if data is not None else {"k": "v"},
    }


RAW = ["seal", "--raw", "--cert", "CERT"]
CASES = [
    # class 5: objects the cluster can never accept
    Case("raw-name-underscore", [*RAW, "-n", "a", "--name", "My_Name"], 1, "Secret name 'My_Name'", "v"),
    Case("raw-name-300", [*RAW, "-n", "a", "--name", LONG], 1, "(300 characters)' must be a DNS-1123", "v"),
    Case("raw-namespace-dotdot", [*RAW, "-n", "../../etc", "--name", "b"], 1, "namespace '../../etc'", "v"),
    Case("raw-empty-value", [*RAW, "-n", "a", "--name", "b"], 1, "has an empty value", ""),
    Case("raw-5mb-value", [*RAW, "-n", "a", "--name", "b"], 1, "1 MiB", "x" * (5 * 1024 * 1024 + 1)),
    Case(
        "manifest-key-slash",
        ["seal", "-f", "s.yaml", "--cert", "CERT"],
        1,
        "data key 'a/b'",
        setup=_secret_file("s.yaml", _secret({"a/b": "v"})),
    ),
    Case(
        "manifest-empty-value",
        ["seal", "-f", "s.yaml", "--cert", "CERT"],
        1,
        "data key 'k' has an empty value",
        setup=_secret_file("s.yaml", _secret({"k": ""})),
    ),
    Case(
        "manifest-namespace",
        ["seal", "-f", "s.yaml", "--cert", "CERT"],
        1,
        "namespace '../../etc'",
        setup=_secret_file("s.yaml", _secret(namespace="../../etc")),
    ),
    Case(
        "manifest-label",
        ["seal", "-f", "s.yaml", "--cert", "CERT"],
        1,
        "label key 'a b'",
        setup=_secret_file(
            "s.yaml", {**_secret(), "metadata": {"name": "a", "namespace": "b", "labels": {"a b": "c"}}}
        ),
    ),
    Case(
        "manifest-not-secret",
        ["seal", "-f", "s.yaml", "--cert", "CERT"],
        1,
        "not a kind: Secret",
        setup=_secret_file("s.yaml", {"kind": "ConfigMap"}),
    ),
    Case("manifest-bad-yaml", ["seal", "-f", "-", "--cert", "CERT"], 1, "not valid YAML", "kind: ["),
    Case("manifest-missing", ["seal", "-f", "nope.yaml", "--cert", "CERT"], 1, "nope.yaml"),
    Case("seal-format-toml", ["seal", "-f", "-", "--cert", "CERT", "-o", "toml"], 2, "toml", "kind: Secret"),
    Case("export-format-toml", ["export", "-o", "toml"], 2, "toml"),
    Case("seal-scope", [*RAW, "--scope", "planet-wide"], 2, "planet-wide", "v"),
    Case(
        "raw-missing-cert",
        ["seal", "--raw", "--cert", "/nonexistent/cert.pem"],
        1,
        "/nonexistent/cert.pem",
        "v",
    ),
    Case(
        "catalog-scoep",
        ["show"],
        1,
        "unknown field 'scoep'; did you mean 'scope'",
        setup=_catalog_patch("    rotate: online\n", "    rotate: online\n    scoep: strict\n"),
    ),
    Case(
        "catalog-namespace",
        ["seal"],
        1,
        "namespace '../../etc'",
        setup=_catalog_patch("namespace: argocd\n", "namespace: ../../etc\n"),
    ),
    Case(
        "catalog-rotate-typo",
        ["rotate", "--all"],
        1,
        "rotate 'sometimes'",
        setup=_catalog_patch("    rotate: online\n", "    rotate: sometimes\n"),
    ),
    Case(
        "catalog-missing",
        ["generate"],
        1,
        "does not exist",
        env={"SHAI_SECRETS_CATALOG": "/nonexistent/c.yml"},
    ),
    # class 6: rotation classes
    Case("rotate-first-start", ["rotate", "-s", "grafana-admin"], 1, "reset-admin-password"),
    Case("rotate-first-start-n8n", ["rotate", "-s", "n8n"], 1, "refusing to rotate first-start"),
    Case("rotate-supplied", ["rotate", "-s", "huggingface"], 1, "nothing to rotate"),
    Case("rotate-all-first-start", ["rotate", "--all", "--first-start"], 2, "--first-start needs --service"),
    Case("rotate-nothing", ["rotate"], 2, "say what to rotate"),
    Case("rotate-unknown", ["rotate", "-s", "grafanna"], 1, "unknown catalog entry 'grafanna'"),
    Case("keygen-1024", ["keygen", "--force", "--bits", "1024"], 1, "at least 2048 bits"),
    # class 4: an OSError must not change the vault (the key would be active but unrecorded)
    Case(
        "keygen-cert-out",
        ["keygen", "--force", "--bits", "2048", "--cert-out", "/proc/x/y.pem"],
        1,
        "/proc/x: No such file or directory: nothing was changed",
    ),
    # class 1: nothing checked is never clean
    Case("scan-typo", ["scan", "/typo/path", "--no-vault"], 1, "/typo/path: no such file"),
    Case(
        "verify-no-vault", ["verify"], 1, "does not exist", env={"SHAI_SECRETS_VAULT": "/nonexistent/v.yml"}
    ),
    Case("unseal-missing", ["unseal", "-f", "nope.yaml"], 1, "nope.yaml"),
    Case(
        "vault-wrong-password",
        ["verify"],
        1,
        "cannot decrypt",
        setup=lambda root: (root / "wrong-pass").write_text("not the password\n"),
        env={"SHAI_VAULT_PASSWORD_FILE": "wrong-pass"},
    ),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("badinput-secrets")
    (root / "secrets").mkdir()
    shutil.copy(REPO / "secrets" / "catalog.yml", root / "secrets" / "catalog.yml")
    (root / "vault-pass").write_text("correct horse battery staple\n")
    for args in (["keygen", "--bits", "2048", "--cert-out", str(root / "cert.pem")], ["generate"], ["seal"]):
        res = CliRunner().invoke(app, args, env=_env(root))
        assert res.exit_code == 0, res.output
    return root


def _env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "SHAI_VAULT_PASSWORD_FILE": str(root / "vault-pass"),
        "SHAI_SECRETS_VAULT": str(root / "vault.yml"),
        "SHAI_SECRETS_CATALOG": str(root / "secrets" / "catalog.yml"),
        "SHAI_GITOPS_DIR": str(root / "gitops"),
        "SHAI_CREDENTIALS_FILE": str(root / "ADMIN_CREDENTIALS.local.md"),
    }
    for k, v in (extra or {}).items():
        env[k] = v if v.startswith("/") else str(root / v)
    return env


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_secrets_cli_bad_input(
    case: Case, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    monkeypatch.chdir(root)
    values = [
        v
        for _e, _k, v in lifecycle.all_values(
            load_catalog(root / "secrets" / "catalog.yml"),
            lifecycle.open_vault(root / "vault.yml", root / "vault-pass", must_exist=True),
        )
        if len(v) >= 8
    ]
    if case.setup:
        case.setup(root)
    before = _hash_tree(root)
    args = [str(root / "cert.pem") if a == "CERT" else a for a in case.args]
    res = CliRunner().invoke(app, args, env=_env(root, case.env), input=case.stdin)
    output = res.output
    assert res.exit_code == case.code, output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in output
    assert case.message in " ".join(output.split()), output
    assert _hash_tree(root) == before, "the command changed files on disk"
    leaked = [v[:4] + "..." for v in values if v in output]
    assert leaked == [], f"secret values in the output: {leaked}"


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
