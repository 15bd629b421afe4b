"""shai-secrets lifecycle end to end in a scratch workspace (real vault, real catalog)."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from typer.testing import CliRunner

from shai.secrets import lifecycle
from shai.secrets.catalog import CatalogError, load_catalog
from shai.secrets.cli import app


def run(ws: Any, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=ws.env(), input=input)


def ok(ws: Any, *args: str) -> Any:
    res = run(ws, *args)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def sealed(workspace: Any) -> Any:
    ok(workspace, "keygen", "--bits", "2048")
    ok(workspace, "generate")
    ok(workspace, "seal")
    return workspace


def vault_of(ws: Any) -> lifecycle.Vault:
    return lifecycle.open_vault(ws.vault, ws.password_file, must_exist=True)


def snapshot(ws: Any) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(ws.gitops.rglob("*.yaml"))}


def test_generate_seal_verify_idempotent(sealed: Any) -> None:
    ws = sealed
    assert ws.vault.read_bytes().startswith(b"$ANSIBLE_VAULT")
    assert stat.S_IMODE(ws.vault.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.credentials.stat().st_mode) == 0o600
    files = sorted(ws.gitops.rglob("*.sealedsecret.yaml"))
    assert {str(p.relative_to(ws.gitops)) for p in files} >= {
        "secrets/argocd/argocd-secret.sealedsecret.yaml",
        "secrets/ai-services/litellm-secrets.sealedsecret.yaml",
        "secrets/automation/n8n-secrets.sealedsecret.yaml",
    }
    before = snapshot(ws)
    vault_before = ws.vault.read_bytes()
    res = ok(ws, "generate")  # nothing missing: nothing generated, vault untouched
    assert "0 value(s) generated" in res.output
    assert ws.vault.read_bytes() == vault_before
    res = ok(ws, "seal")
    assert "sealed " not in res.output
    assert snapshot(ws) == before  # not rewritten (same bytes, same mtime)
    assert "0 problem(s)" in ok(ws, "verify").output


def test_generate_service_only_fills_that_entry(workspace: Any) -> None:
    ok(workspace, "generate", "--service", "grafana")
    store = vault_of(workspace).secrets()
    assert set(store) == {"grafana-admin"}
    ok(workspace, "generate")
    assert {"redis", "litellm", "argocd-admin"} <= set(vault_of(workspace).secrets())


def test_argocd_bcrypt_and_derived_values(sealed: Any) -> None:
    import bcrypt

    v = vault_of(sealed)
    argo = v.secrets()["argocd-admin"]
    assert bcrypt.checkpw(argo["admin-password"].encode(), argo["admin.password"].encode())
    obj = yaml.safe_load((sealed.gitops / "secrets/argocd/argocd-secret.sealedsecret.yaml").read_text())
    assert "admin-password" not in obj["spec"]["encryptedData"]  # vault-only key is never sealed
    auth = v.secrets()["admin-auth"]
    user, _, hashed = auth["users"].partition(":")
    assert user == "admin" and hashed.startswith("$2a$")
    assert bcrypt.checkpw(auth["password"].encode(), hashed.encode())
    pg, llm = v.secrets()["postgresql"], v.secrets()["litellm"]
    assert f":{pg['password']}@" in llm["DATABASE_URL"]
    assert llm["master-key"] == "sk-" + llm["master-key-raw"]


def test_rotate_service_rederives_and_reseals_only_what_changed(sealed: Any) -> None:
    ws = sealed
    before = snapshot(ws)
    old = {k: dict(v) for k, v in vault_of(ws).secrets().items()}
    refused = run(ws, "rotate", "--service", "postgresql")  # rotate: first-start
    assert refused.exit_code == 1 and "first-start" in refused.output and "ALTER USER" in refused.output
    assert snapshot(ws) == before
    res = ok(ws, "rotate", "--service", "postgresql", "--first-start")
    assert "apply in the app:" in res.output and "ALTER USER" in res.output
    new = vault_of(ws).secrets()
    assert new["postgresql"]["password"] != old["postgresql"]["password"]
    assert new["litellm"]["DATABASE_URL"] != old["litellm"]["DATABASE_URL"]  # derived across entries
    assert new["litellm"]["master-key"] == old["litellm"]["master-key"]
    assert new["grafana-admin"] == old["grafana-admin"]
    after = snapshot(ws)
    changed = {Path(p).name for p in after if after[p] != before.get(p)}
    assert changed == {"postgresql-credentials.sealedsecret.yaml", "litellm-secrets.sealedsecret.yaml"}
    # in litellm only DATABASE_URL was re-sealed; master-key kept its ciphertext
    p = str(ws.gitops / "secrets/ai-services/litellm-secrets.sealedsecret.yaml")
    b, a = yaml.safe_load(before[p][0]), yaml.safe_load(after[p][0])
    assert a["spec"]["encryptedData"]["master-key"] == b["spec"]["encryptedData"]["master-key"]
    assert a["spec"]["encryptedData"]["DATABASE_URL"] != b["spec"]["encryptedData"]["DATABASE_URL"]
    assert "~DATABASE_URL" in res.output
    assert new["postgresql"]["password"] in ws.credentials.read_text()
    assert "0 problem(s)" in ok(ws, "verify").output


def test_rotate_all_and_requires_a_target(sealed: Any) -> None:
    old = {k: dict(v) for k, v in vault_of(sealed).secrets().items()}
    assert run(sealed, "rotate").exit_code == 2
    res = ok(sealed, "rotate", "--all")
    new = vault_of(sealed).secrets()
    for eid in ("redis", "searxng", "argocd-admin", "admin-auth", "litellm"):  # rotate: online
        assert new[eid] != old[eid], eid
    # first-start (the app ignores a new value) and never (n8n's key encrypts its stored credentials)
    for eid in ("grafana-admin", "gitlab-root", "postgresql", "n8n"):
        assert new[eid] == old[eid], eid
    assert new["open-webui"]["admin-password"] == old["open-webui"]["admin-password"]
    assert new["open-webui"]["WEBUI_SECRET_KEY"] != old["open-webui"]["WEBUI_SECRET_KEY"]
    assert "kept     n8n:N8N_ENCRYPTION_KEY (rotate: never)" in res.output
    assert "kept     grafana-admin:admin-password (rotate: first-start)" in res.output
    assert old["litellm"]["DATABASE_URL"] == new["litellm"]["DATABASE_URL"]  # postgresql kept
    res = run(sealed, "rotate", "-s", "n8n", "--first-start")
    assert res.exit_code == 0 and "kept     n8n:N8N_ENCRYPTION_KEY (rotate: never)" in res.output
    assert vault_of(sealed).secrets()["n8n"]["N8N_ENCRYPTION_KEY"] == old["n8n"]["N8N_ENCRYPTION_KEY"]
    assert run(sealed, "rotate", "-s", "huggingface").exit_code == 1  # supplied: nothing to rotate
    assert "0 problem(s)" in ok(sealed, "verify").output


def test_supplied_value_gets_sealed_once_present(sealed: Any) -> None:
    ws = sealed
    assert not (ws.gitops / "secrets/ai-services/huggingface-token.sealedsecret.yaml").exists()
    v = vault_of(ws)
    v.data["vault_hf_token"] = "hf_" + "a1B2" * 9  # shai-scan: allow (test value)
    v.save()
    ok(ws, "seal")
    obj = yaml.safe_load((ws.gitops / "secrets/ai-services/huggingface-token.sealedsecret.yaml").read_text())
    assert sealing.unseal_sealed_secret(lifecycle.private_keys(vault_of(ws)), obj) == {
        "HF_TOKEN": ("hf_" + "a1B2" * 9).encode()
    }


def test_verify_detects_tampering_and_strays(sealed: Any) -> None:
    ws = sealed
    p = ws.gitops / "secrets/monitoring/grafana-admin.sealedsecret.yaml"
    obj = yaml.safe_load(p.read_text())
    other = yaml.safe_load(
        (ws.gitops / "secrets/gitlab/gitlab-initial-root-password.sealedsecret.yaml").read_text()
    )
    obj["spec"]["encryptedData"]["admin-password"] = other["spec"]["encryptedData"]["password"]  # wrong label
    p.write_text(sealing.dump_yaml(obj))
    stray = ws.gitops / "secrets/default/stray.sealedsecret.yaml"
    stray.parent.mkdir(parents=True)
    stray.write_text(
        sealing.dump_yaml(
            sealing.build_sealed_secret(
                sealing.load_certificate(vault_of(ws).data["vault_sealed_secrets_certificate"]).public_key(),
                "stray",
                "default",
                {"k": "v"},
            )
        )
    )
    res = run(ws, "verify")
    assert res.exit_code == 1
    assert "grafana-admin" in res.output and "no key could decrypt secret" in res.output
    assert "stray" in res.output and "not in the catalog" in res.output


def test_failed_seal_leaves_previous_files_intact(sealed: Any) -> None:
    ws = sealed
    ok(ws, "rotate", "--service", "redis", "--no-seal")
    before = snapshot(ws)
    # break one file that sorts late: planning fails before anything is written
    bad = ws.gitops / "secrets/gitlab/gitlab-initial-root-password.sealedsecret.yaml"
    bad.write_text("kind: [unclosed\n")
    before[str(bad)] = (bad.read_bytes(), bad.stat().st_mtime_ns)
    res = run(ws, "seal")
    assert res.exit_code == 1 and "not valid YAML" in res.output and str(bad) in res.output
    assert snapshot(ws) == before  # redis (planned earlier) was NOT written either
    assert not list(ws.gitops.rglob(".*.tmp"))


def test_show_masks_and_reveal(sealed: Any) -> None:
    pw = vault_of(sealed).secrets()["grafana-admin"]["admin-password"]
    assert pw not in run(sealed, "show").output
    assert pw in run(sealed, "show", "--service", "grafana", "--reveal").output
    assert pw in run(sealed, "export", "--service", "grafana", "-o", "env").output


def test_unknown_catalog_entry(sealed: Any) -> None:
    res = run(sealed, "rotate", "--service", "nope")
    assert res.exit_code == 1
    assert "unknown catalog entry 'nope'" in res.output and "grafana-admin" in res.output


def test_keygen_refuses_to_overwrite_and_key_is_only_in_vault(workspace: Any) -> None:
    res = ok(workspace, "keygen", "--bits", "2048", "--cert-out", str(workspace.root / "cert.pem"))
    assert "valid until" in res.output
    assert run(workspace, "keygen", "--bits", "2048").exit_code == 1
    v = vault_of(workspace)
    key = sealing.load_private_key(v.data["vault_sealed_secrets_private_key"])
    assert sealing.key_matches_cert(key, sealing.load_certificate((workspace.root / "cert.pem").read_bytes()))
    for p in workspace.root.rglob("*"):
        if p.is_file() and p != workspace.vault:
            assert b"PRIVATE KEY" not in p.read_bytes(), p


def test_keygen_default_is_rsa_4096(workspace: Any) -> None:
    ok(workspace, "keygen")
    cert = sealing.load_certificate(vault_of(workspace).data["vault_sealed_secrets_certificate"])
    assert cert.public_key().key_size == 4096
    assert cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=3600)


def test_reencrypt_after_key_renewal(sealed: Any) -> None:
    ws = sealed
    old_cert = sealing.load_certificate(vault_of(ws).data["vault_sealed_secrets_certificate"])
    ok(ws, "keygen", "--bits", "2048", "--force")
    res = ok(ws, "reencrypt")
    assert "10 file(s) re-sealed" in res.output
    new_cert = sealing.load_certificate(vault_of(ws).data["vault_sealed_secrets_certificate"])
    new_key = [k for k in lifecycle.private_keys(vault_of(ws)) if sealing.key_matches_cert(k, new_cert)]
    assert sealing.cert_fingerprint(new_cert) != sealing.cert_fingerprint(old_cert)
    for p in ws.gitops.rglob("*.sealedsecret.yaml"):
        sealing.unseal_sealed_secret(new_key, yaml.safe_load(p.read_text()))  # opens with the NEW key alone
    assert "0 file(s) re-sealed" in ok(ws, "reencrypt").output  # idempotent
    assert "0 problem(s)" in ok(ws, "verify").output


def test_wrong_vault_password_and_plaintext_vault(sealed: Any) -> None:
    ws = sealed
    wrong = ws.root / "wrong-pass"
    wrong.write_text("nope\n")
    res = CliRunner().invoke(app, ["--vault-password-file", str(wrong), "show"], env=ws.env())
    assert res.exit_code == 1 and "cannot decrypt" in res.output
    ws.vault.write_text("vault_x: plaintext\n")
    res = run(ws, "show")
    assert res.exit_code == 1 and "not ansible-vault encrypted" in res.output


def test_expired_and_non_rsa_certificates(workspace: Any, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    _k, expired = sealing.generate_key_pair(
        bits=2048, days=1, now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=5)
    )
    (tmp_path / "expired.pem").write_text(expired)
    res = run(
        workspace,
        "seal",
        "--raw",
        "--cert",
        str(tmp_path / "expired.pem"),
        "-n",
        "a",
        "--name",
        "b",
        input="v",
    )
    assert res.exit_code == 1 and "failed to encrypt using an expired certificate" in res.output
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "ec.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    res = run(
        workspace, "seal", "--raw", "--cert", str(tmp_path / "ec.pem"), "-n", "a", "--name", "b", input="v"
    )
    assert res.exit_code == 1 and "expected RSA public key" in res.output
    res = run(
        workspace,
        "seal",
        "--raw",
        "--cert",
        str(tmp_path / "missing.pem"),
        "-n",
        "a",
        "--name",
        "b",
        input="v",
    )
    assert res.exit_code == 1 and "does not exist" in res.output


def test_wrong_scope_inputs(keypair: Any, workspace: Any) -> None:
    res = run(
        workspace,
        "seal",
        "--raw",
        "--cert",
        str(keypair.cert_path),
        "-n",
        "a",
        "--name",
        "b",
        "--scope",
        "planet-wide",
        input="v",
    )
    assert res.exit_code == 2 and "planet-wide" in res.output
    res = run(workspace, "seal", "--raw", "--cert", str(keypair.cert_path), "-n", "a", input="v")
    assert res.exit_code == 1 and "strict scope needs both a namespace and a name" in res.output


def test_manifest_mode_and_unseal(keypair: Any, workspace: Any, tmp_path: Path) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "m", "namespace": "ns"},
        "stringData": {"a": "alpha"},
    }
    res = run(workspace, "seal", "-f", "-", "--cert", str(keypair.cert_path), input=yaml.safe_dump(secret))
    assert res.exit_code == 0, res.output
    (tmp_path / "m.yaml").write_text(res.stdout)
    res = run(
        workspace,
        "unseal",
        "-f",
        str(tmp_path / "m.yaml"),
        "--private-key",
        str(keypair.key_path),
        "--reveal",
    )
    assert res.exit_code == 0 and yaml.safe_load(res.stdout) == {"a": "alpha"}
    res = run(workspace, "seal", "-f", "-", "--cert", str(keypair.cert_path), input="kind: [")
    assert res.exit_code == 1 and "not valid YAML" in res.output


HEAD = "version: 1\nsecrets:\n  - "
ENTRY_A = HEAD + "{id: a, rotate: online, name: a, namespace: n, "


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("version: 2\nsecrets: []\n", "unsupported version"),
        ("version: 1\nsecrets: [\n", "not valid YAML"),
        (
            ENTRY_A + "keys: {k: {generator: magic}}}\n",
            "magic",
        ),
        (
            ENTRY_A + "keys: {k: {generator: password, length: 4}}}\n",
            "length 4 < 12",
        ),
        (
            ENTRY_A + "keys: {k: {generator: template, template: '${b:x}'}}}\n",
            "unknown b:x",
        ),
        (
            ENTRY_A + "keys: {k: {generator: template, "
            "template: '${a:j}'}, j: {generator: template, template: '${a:k}'}}}\n",
            "cycle",
        ),
        (
            HEAD + "{id: a, rotate: online, name: Bad_Name, namespace: n, keys: {k: {generator: hex}}}\n",
            "DNS-1123",
        ),
        (
            ENTRY_A + "keys: {k: {generator: hex}}}\n"
            "  - {id: b, rotate: online, name: a, namespace: n, keys: {k: {generator: hex}}}\n",
            "already writes",
        ),
        # issue 14 class 5: unknown fields name the key and suggest the known one
        (
            ENTRY_A + "scoep: strict, keys: {k: {generator: hex}}}\n",
            "unknown field 'scoep'; did you mean 'scope'",
        ),
        (ENTRY_A + "keys: {k: {genrator: hex}}}\n", "unknown field 'genrator'; did you mean 'generator'"),
        ("version: 1\nsecret: []\nsecrets: []\n", "unknown field 'secret'; did you mean 'secrets'"),
        (
            HEAD + "{id: a, name: a, namespace: n, keys: {k: {generator: hex}}}\n",
            "missing required field 'rotate'",
        ),
        (
            HEAD + "{id: a, rotate: sometimes, name: a, namespace: n, keys: {k: {generator: hex}}}\n",
            "sometimes",
        ),
        (
            HEAD + "{id: a, rotate: first-start, name: a, namespace: n, keys: {k: {generator: hex}}}\n",
            "rotate_steps",
        ),
        (
            HEAD + "{id: a, rotate: online, name: a, namespace: ../../etc, keys: {k: {generator: hex}}}\n",
            "DNS-1123 label",
        ),
        (ENTRY_A + "keys: {a/b: {generator: hex}}}\n", "data key 'a/b' must consist of"),
        (ENTRY_A + "labels: {'bad label': x}, keys: {k: {generator: hex}}}\n", "label key 'bad label'"),
    ],
)
def test_catalog_errors(tmp_path: Path, patch: str, message: str) -> None:
    p = tmp_path / "catalog.yml"
    p.write_text(patch)
    with pytest.raises(CatalogError, match=message) as exc:
        load_catalog(p)
    assert str(p) in str(exc.value)


def test_repo_catalog_is_valid_and_complete() -> None:
    """The catalog covers the issue's list and every Secret the GitOps tree references
    (gitops/values.yml gitops_secret_refs), in namespaces the tree creates."""
    repo = Path(__file__).resolve().parents[2]
    cat = load_catalog(repo / "secrets" / "catalog.yml")
    for needed in (
        "argocd-admin", "litellm", "open-webui", "postgresql", "redis", "n8n", "searxng",
        "grafana-admin", "gitlab-root", "huggingface", "gitlab-mirror", "arc-github-app",
    ):  # fmt: skip
        assert needed in cat.entries
    values_file = repo / "gitops" / "values.yml"
    if not values_file.exists():
        pytest.skip("gitops/values.yml not present")
    values = yaml.safe_load(values_file.read_text())
    namespaces = set(values.get("gitops_namespaces") or {}) | {"kube-system"}
    for e in cat.entries.values():
        assert e.namespace in namespaces, f"{e.id}: namespace {e.namespace} is not created by the GitOps tree"
    by_name = {e.name: e for e in cat.entries.values()}
    for ref, spec in (values.get("gitops_secret_refs") or {}).items():
        assert spec["name"] in by_name, f"gitops_secret_refs.{ref}: no catalog entry named {spec['name']}"
        entry = by_name[spec["name"]]
        for field in ("key", "user_key", "password_key"):
            if field in spec:
                assert spec[field] in entry.sealed_keys, f"gitops_secret_refs.{ref}.{field}={spec[field]}"


def test_scan_findings(workspace: Any, sealed: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: leak}\ndata: {k: dg==}\n"
    )
    pem = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE\n"
    (tree / "key.txt").write_text(pem)
    (tree / "conf.ini").write_text("api_key = 8fJ2kq9Lx0PzR3mN7vWb\n")  # shai-scan: allow
    (tree / "gh.md").write_text("token ghp_" + "A1b2C3d4" * 5 + "\n")
    (tree / "fixture.yml").write_text(
        "fixture_token: tok-0123456789abcdef\nref: {secretKeyRef: refs.n8n_key}\n"
    )
    pw = vault_of(sealed).secrets()["redis"]["redis-password"]
    (tree / "notes.md").write_text(f"the redis password is {pw}\n")
    (tree / "ok.yaml").write_text("password: '{{ vault_redis_password }}'\nimage: ghcr.io/x/y:1.2.3\n")
    res = run(sealed, "scan", str(tree))
    assert res.exit_code == 1
    out = res.output
    assert "secret.yaml" in out and "k8s-secret" in out
    assert "key.txt" in out and "private-key" in out
    assert "conf.ini" in out and "high-entropy" in out
    assert "gh.md" in out and "github-token" in out
    assert "notes.md" in out and "catalog-value" in out and "redis:redis-password" in out
    assert "ok.yaml" not in out and "fixture.yml" not in out
    assert pw not in out  # the scanner never prints the value it found
    # the sealed tree itself is clean
    assert ok(sealed, "scan", str(sealed.gitops)).exit_code == 0
