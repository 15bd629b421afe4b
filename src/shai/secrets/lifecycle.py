"""Secret lifecycle: generate, rotate, seal, verify, show, export, and the sealing keys.

The CLI (``shai-secrets``) is a thin layer over these functions; the crypto lives in the
collection's ``module_utils/sealing.py`` (one implementation, shared with the modules).
"""

from __future__ import annotations

import datetime
import os
import secrets as _rand
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import atomic, secret_rules
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.secrets.catalog import (
    Catalog,
    Entry,
    KeySpec,
    bcrypt_hash,
    dependency_order,
    generate_random,
    render_template,
)
from shai.secrets.vault import Vault, VaultError

if TYPE_CHECKING:
    from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
else:  # cryptography is imported when a secret is sealed, not for `shai-secrets --help`
    from shai.clikit import lazy_module

    sealing = lazy_module("ansible_collections.vectorweight.shai.plugins.module_utils.sealing")

DEFAULT_GITOPS = Path("gitops")
DEFAULT_CREDENTIALS = Path("ADMIN_CREDENTIALS.local.md")
SEALED_SUFFIX = ".sealedsecret.yaml"

Node = tuple[str, str]


MIN_KEY_BITS = 2048
RECOMMENDED_KEY_BITS = 4096
RANDOM_GENERATORS = ("password", "hex", "base64", "fernet", "timestamp")


class LifecycleError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """A lifecycle step cannot proceed; message names what is wrong, never a value."""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------


def supplied_value(vault: Vault, spec: KeySpec) -> str | None:
    if not spec.vault_var:
        return None
    value = vault.data.get(spec.vault_var)
    if value in (None, ""):
        return None
    return str(value)


def entry_values(vault: Vault, entry: Entry) -> tuple[dict[str, str], list[str]]:
    """All values of an entry (generated + supplied) and the list of missing keys."""
    stored = vault.secrets().get(entry.id) or {}
    values: dict[str, str] = {}
    missing: list[str] = []
    for key, spec in entry.keys.items():
        value = supplied_value(vault, spec) if spec.generator == "supplied" else stored.get(key)
        if value is None:
            missing.append(key)
        else:
            values[key] = str(value)
    return values, missing


@dataclass
class GenerateReport:
    generated: list[Node] = field(default_factory=list)
    missing_supplied: list[tuple[Node, str, bool]] = field(default_factory=list)  # node, vault var, optional
    kept: list[tuple[Node, str]] = field(default_factory=list)  # not rotated: node, rotation class

    @property
    def changed(self) -> bool:
        return bool(self.generated)


def rotation_plan(
    catalog: Catalog,
    rotate: list[str] | None = None,
    rotate_all: bool = False,
    first_start: bool = False,
) -> tuple[set[Node], list[tuple[Node, str]]]:
    """Which values a rotation regenerates, by rotation class (docs/secrets.md#rotation-classes).

    ``--all`` rotates only ``online`` values; naming an entry also rotates its ``first-start``
    values when the operator passes ``first_start`` (and then applies them with the entry's
    ``rotate_steps``), and refuses otherwise; ``never`` values are never regenerated.
    Returns (values to regenerate, values kept with their class). Derived values follow.
    """
    entries = list(catalog.entries.values()) if rotate_all else catalog.select(rotate)
    nodes: set[Node] = set()
    kept: list[tuple[Node, str]] = []
    refused: list[Entry] = []
    for entry in entries:
        for key, spec in entry.keys.items():
            if spec.generator not in RANDOM_GENERATORS:
                continue  # derived (follows its source) or supplied (the operator's)
            cls = entry.rotate_class(key)
            if cls == "online" or (cls == "first-start" and first_start and not rotate_all):
                nodes.add((entry.id, key))
            else:
                kept.append(((entry.id, key), cls))
                if cls == "first-start" and not rotate_all and entry not in refused:
                    refused.append(entry)
    if refused:
        lines = [
            f"{e.id}: rotate: first-start (the app reads it only on its first start). "
            f"Rotate it with --first-start, then apply the new value: {e.rotate_steps}"
            for e in refused
        ]
        raise LifecycleError("refusing to rotate first-start secrets; nothing changed.\n" + "\n".join(lines))
    if not nodes and not rotate_all:
        names = ", ".join(f"{eid}:{key} ({cls})" for (eid, key), cls in kept) or "no generated values"
        raise LifecycleError(f"nothing to rotate: {names}; nothing changed")
    return nodes, kept


def generate(
    catalog: Catalog,
    vault: Vault,
    rotate: list[str] | None = None,
    rotate_all: bool = False,
    only: list[str] | None = None,
    first_start: bool = False,
) -> GenerateReport:
    """Fill in missing generated values; with ``rotate``/``rotate_all``, regenerate those entries.

    Derived values (bcrypt, templates) are re-derived whenever anything they depend on
    changed, across entries (rotating postgresql re-renders LiteLLM's DATABASE_URL).
    ``only`` limits generating missing random values to those entries (values derived from
    something that changed are still re-derived everywhere, to stay consistent).
    Only the in-memory vault changes; the caller saves it.
    """
    only_ids = {e.id for e in catalog.select(only)} if only else None
    report = GenerateReport()
    store = vault.secrets()
    meta = vault.meta()
    rotate_nodes: set[Node] = set()
    if rotate or rotate_all:
        rotate_nodes, report.kept = rotation_plan(catalog, rotate, rotate_all, first_start)
    changed: set[Node] = set()
    lookup: dict[Node, str] = {}
    for eid, key in dependency_order(catalog):
        entry = catalog.entries[eid]
        spec = entry.keys[key]
        current = store.get(eid, {}).get(key)
        if spec.generator == "supplied":
            value = supplied_value(vault, spec)
            if value is None:
                report.missing_supplied.append(((eid, key), spec.vault_var or "", spec.optional))
            else:
                lookup[(eid, key)] = value
            continue
        deps = spec.refs(eid)
        deps_changed = any(d in changed for d in deps)
        deps_missing = any(d not in lookup for d in deps)
        if deps_missing:
            continue  # a supplied value it derives from is missing
        allowed = only_ids is None or eid in only_ids
        if current is None and not allowed and not deps_changed:
            continue  # outside --service: left missing
        if spec.generator == "template":
            need = True  # deterministic: re-render, store only if it differs
        elif spec.generator == "bcrypt":
            need = current is None or deps_changed or not _bcrypt_matches(lookup[deps[0]], str(current))
        elif spec.generator == "htpasswd":
            user, _, hashed = str(current or "").partition(":")
            need = deps_changed or user != spec.user or not _bcrypt_matches(lookup[deps[0]], hashed)
        else:
            need = current is None or deps_changed or (eid, key) in rotate_nodes
        if need:
            if spec.generator == "bcrypt":
                value = bcrypt_hash(lookup[(eid, cast(str, spec.source))])
            elif spec.generator == "htpasswd":
                value = f"{spec.user}:{bcrypt_hash(lookup[(eid, cast(str, spec.source))])}"
            elif spec.generator == "template":
                value = render_template(cast(str, spec.template), lookup)
            else:
                value = generate_random(spec)
            if value != current:
                store.setdefault(eid, {})[key] = value
                changed.add((eid, key))
                report.generated.append((eid, key))
            lookup[(eid, key)] = value
        else:
            lookup[(eid, key)] = str(current)
    now = _now()
    for eid in {n[0] for n in changed}:
        m = meta.setdefault(eid, {})
        m.setdefault("generated", now)
        if any(n[0] == eid for n in rotate_nodes):
            m["rotated"] = now
    # drop stored keys the catalog no longer declares
    for eid in list(store):
        if eid not in catalog.entries:
            continue
        for key in list(store[eid]):
            if key not in catalog.entries[eid].keys:
                del store[eid][key]
                report.generated.append((eid, key))
    if not vault.data.get("vault_shai_secrets_digest_key"):
        vault.data["vault_shai_secrets_digest_key"] = _rand.token_hex(32)
        report.generated.append(("-", "digest-key"))
    return report


def _bcrypt_matches(plaintext: str, hashed: str) -> bool:
    import bcrypt

    try:
        return bool(bcrypt.checkpw(plaintext.encode("utf-8"), hashed.encode("ascii")))
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------
# sealing keys
# ---------------------------------------------------------------------------------------


def keygen(vault: Vault, bits: int = 4096, force: bool = False) -> str:
    """Create the controller key pair offline; private key only into the vault. Returns cert PEM."""
    if bits < MIN_KEY_BITS:
        raise LifecycleError(
            f"--bits {bits}: a sealing key needs at least {MIN_KEY_BITS} bits "
            f"({RECOMMENDED_KEY_BITS} recommended)"
        )
    if vault.data.get("vault_sealed_secrets_private_key") and not force:
        raise LifecycleError(
            f"{vault.path} already holds a sealing key; use --force to add a new one "
            "(then `shai-secrets reencrypt`)"
        )
    key_pem, cert_pem = sealing.generate_key_pair(bits=bits)
    fp = sealing.cert_fingerprint(sealing.load_certificate(cert_pem))
    add_key(vault, str(key_pem), str(cert_pem), name=key_secret_name(str(fp)))
    return str(cert_pem)


def key_secret_name(fingerprint: str) -> str:
    """Name of the controller key Secret for a key pair: like the controller's own
    ``sealed-secrets-keyXXXXX``, but derived from the key so restore is idempotent."""
    return "sealed-secrets-key" + fingerprint[:5]


def add_key(vault: Vault, key_pem: str, cert_pem: str, name: str, active: bool = True) -> bool:
    """Record a key pair in the vault (deduplicated). Returns True when it was new."""
    key = sealing.load_private_key(key_pem, source=f"key {name}")
    cert = sealing.load_certificate(cert_pem, source=f"certificate {name}")
    if not sealing.key_matches_cert(key, cert):
        raise LifecycleError(f"key {name}: private key does not match its certificate")
    keys = vault.data.setdefault("vault_sealed_secrets_keys", [])
    fp = sealing.cert_fingerprint(cert)
    new = all(k.get("fingerprint") != fp for k in keys)
    if new:
        keys.append(
            {
                "name": name,
                "fingerprint": fp,
                "certificate": cert_pem,
                "private_key": key_pem,
                "added": _now(),
            }
        )
    if active:
        vault.data["vault_sealed_secrets_private_key"] = key_pem
        vault.data["vault_sealed_secrets_certificate"] = cert_pem
    return new


def private_keys(vault: Vault) -> list[Any]:
    pems: list[str] = []
    if vault.data.get("vault_sealed_secrets_private_key"):
        pems.append(str(vault.data["vault_sealed_secrets_private_key"]))
    for k in vault.data.get("vault_sealed_secrets_keys") or []:
        if k.get("private_key") and k["private_key"] not in pems:
            pems.append(str(k["private_key"]))
    return [sealing.load_private_key(p, source=f"{vault.path} sealing key") for p in pems]


def active_certificate(vault: Vault) -> str:
    cert = vault.data.get("vault_sealed_secrets_certificate")
    if not cert:
        raise LifecycleError(
            f"{vault.path} holds no sealing certificate: run `shai-secrets keygen` or pass --cert"
        )
    return str(cert)


def fetch_cert(
    cert: str | None,
    vault: Vault | None,
    kubeconfig: str | None = None,
    controller_namespace: str = "kube-system",
    controller_name: str = "sealed-secrets-controller",
) -> tuple[Any, str]:
    """Load the sealing certificate from a file, an http(s) URL, ``cluster``, or the vault.

    Returns (x509 certificate, description of the source).
    """
    if cert in (None, "", "vault"):
        if vault is None:
            raise LifecycleError("no certificate: pass --cert FILE|URL|cluster")
        return sealing.load_certificate(
            active_certificate(vault), source=f"{vault.path} certificate"
        ), "vault"
    assert cert is not None
    if cert == "cluster":
        from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient

        pem = KubeClient(kubeconfig=kubeconfig).controller_cert(controller_namespace, controller_name)
        return sealing.load_certificate(
            pem, source=f"controller {controller_namespace}/{controller_name}"
        ), "cluster"
    if cert.startswith(("http://", "https://")):
        import requests

        try:
            resp = requests.get(cert, timeout=30)
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise LifecycleError(f"cannot fetch certificate {cert}: {exc}") from None
        return sealing.load_certificate(resp.content, source=cert), cert
    path = Path(cert)
    if not path.is_file():
        raise LifecycleError(f"certificate file {cert} does not exist")
    return sealing.load_certificate(path.read_bytes(), source=str(path)), str(path)


# ---------------------------------------------------------------------------------------
# seal / verify
# ---------------------------------------------------------------------------------------


@dataclass
class SealResult:
    entry: Entry
    path: Path
    changed: bool
    added: list[str]
    removed: list[str]
    modified: list[str]
    text: str = ""
    skipped: str = ""


def read_sealed(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        obj = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise LifecycleError(f"{path} is not valid YAML; fix or delete it and seal again") from None
    try:
        sealing.validate_sealed_secret(obj, source=str(path))
    except sealing.SealingError as exc:
        raise LifecycleError(str(exc)) from None
    return cast(dict[str, Any], obj)


def seal(
    catalog: Catalog,
    vault: Vault,
    gitops: Path,
    cert: Any,
    services: list[str] | None = None,
    force: bool = False,
    rand: Callable[[int], bytes] | None = None,
    progress: Callable[[str], None] | None = None,
    write: bool = True,
) -> list[SealResult]:
    """Plan every SealedSecret first, then write the changed ones (each atomically).

    Nothing is written if any entry fails to plan.  ``force`` re-seals unchanged values.
    """
    digest_key = vault.data.get("vault_shai_secrets_digest_key")
    if not digest_key:
        raise LifecycleError(f"{vault.path} has no digest key: run `shai-secrets generate` first")
    results: list[SealResult] = []
    for entry in catalog.select(services):
        values, missing = entry_values(vault, entry)
        path = gitops / entry.relpath
        data = {k: values[k] for k in entry.sealed_keys if k in values}
        required_missing = [
            k for k in missing if not entry.keys[k].optional or entry.keys[k].generator != "supplied"
        ]
        if required_missing:
            raise LifecycleError(
                f"secret {entry.id!r}: no value for {', '.join(sorted(required_missing))} "
                "(run `shai-secrets generate`, or fill the vault variable for supplied keys)"
            )
        if missing:
            results.append(
                SealResult(
                    entry,
                    path,
                    False,
                    [],
                    [],
                    [],
                    skipped=f"supplied value missing: {', '.join(sorted(missing))}",
                )
            )
            continue
        empty_not_allowed = {k: v for k, v in data.items() if v == "" and not entry.keys[k].allow_empty}
        try:
            secret_rules.check_data(empty_not_allowed, where=f"secret {entry.id!r}")
        except secret_rules.InvalidSecretError as exc:
            raise LifecycleError(str(exc)) from None
        existing = None if force else read_sealed(path)
        plan = sealing.reconcile_sealed_secret(
            cert,
            entry.name,
            entry.namespace,
            data,
            scope=entry.scope,
            secret_type=entry.type,
            labels=entry.labels or None,
            annotations=entry.annotations or None,
            existing=existing,
            digest_key=str(digest_key).encode(),
            rand=rand,
            allow_empty=True,  # empty values were checked per key above
        )
        results.append(
            SealResult(
                entry,
                path,
                bool(plan["changed"]),
                plan["added"],
                plan["removed"],
                plan["modified"],
                text=str(sealing.dump_yaml(plan["object"])),
            )
        )
        if progress:
            progress(entry.id)
    if write:
        for r in results:
            if r.changed:
                atomic.atomic_write(str(r.path), r.text, 0o644)
    return results


@dataclass
class VerifyProblem:
    path: str
    message: str


def sealed_files(gitops: Path) -> list[Path]:
    root = gitops / "secrets"
    return sorted(root.rglob(f"*{SEALED_SUFFIX}")) if root.is_dir() else []


def leftover_temps(gitops: Path, *files: Path) -> list[Path]:
    """Temporary files an interrupted write left: under gitops/secrets, and next to ``files``."""
    found = [Path(p) for p in atomic.leftover_temps(str(gitops / "secrets"), recursive=True)]
    for f in files:
        found += [
            Path(p) for p in atomic.leftover_temps(str(f.parent)) if Path(p).name.startswith(f".{f.name}.")
        ]
    return sorted(set(found))


def verify(
    catalog: Catalog, vault: Vault, gitops: Path, credentials: Path | None = None
) -> tuple[int, list[VerifyProblem]]:
    """Every SealedSecret under gitops/secrets opens with a vault key and matches the catalog;
    the credentials file (when given and present) says what the vault says; no temporary file
    of an interrupted write is left."""
    keys = private_keys(vault)
    if not keys:
        raise LifecycleError(f"{vault.path} holds no sealing private key (run keygen or backup)")
    problems: list[VerifyProblem] = []
    seen: set[str] = set()
    files = sealed_files(gitops)
    for path in files:
        try:
            obj = read_sealed(path)
        except LifecycleError as exc:
            problems.append(VerifyProblem(str(path), str(exc)))
            continue
        assert obj is not None
        meta = obj["metadata"]
        entry = catalog.by_location(str(meta.get("namespace")), str(meta.get("name")))
        if entry is None:
            problems.append(VerifyProblem(str(path), "not in the catalog"))
            continue
        seen.add(entry.id)
        if path != gitops / entry.relpath:
            problems.append(VerifyProblem(str(path), f"expected at {gitops / entry.relpath}"))
        if sealing.sealed_secret_scope(obj) != entry.scope:
            problems.append(
                VerifyProblem(
                    str(path), f"scope is {sealing.sealed_secret_scope(obj)}, catalog says {entry.scope}"
                )
            )
            continue
        try:
            opened = sealing.unseal_sealed_secret(keys, obj)
        except sealing.SealingError as exc:
            problems.append(VerifyProblem(str(path), str(exc)))
            continue
        values, _missing = entry_values(vault, entry)
        want = set(entry.sealed_keys)
        got = set(opened)
        if want - got:
            problems.append(VerifyProblem(str(path), f"missing keys: {', '.join(sorted(want - got))}"))
        if got - want:
            problems.append(VerifyProblem(str(path), f"keys not in catalog: {', '.join(sorted(got - want))}"))
        stale = sorted(k for k in want & got if k in values and opened[k] != values[k].encode("utf-8"))
        if stale:
            problems.append(
                VerifyProblem(str(path), f"sealed value differs from the vault for: {', '.join(stale)}")
            )
    for entry in catalog.entries.values():
        if entry.id not in seen:
            _v, missing = entry_values(vault, entry)
            if not missing:
                problems.append(
                    VerifyProblem(str(gitops / entry.relpath), f"secret {entry.id!r} is not sealed yet")
                )
    if credentials is not None and credentials_current(credentials, catalog, vault) is False:
        problems.append(
            VerifyProblem(
                str(credentials),
                "does not match the vault (an interrupted rotate?); `shai-secrets seal` rewrites it",
            )
        )
    for tmp in leftover_temps(gitops, *([vault.path] + ([credentials] if credentials else []))):
        problems.append(
            VerifyProblem(str(tmp), "temporary file of an interrupted write; `shai-secrets seal` removes it")
        )
    return len(files), problems


def reencrypt(gitops: Path, vault: Vault, cert: Any) -> list[Path]:
    """Re-seal every SealedSecret in the tree against ``cert`` (after key renewal), from the
    files themselves: opened with any vault key, sealed again, digest refreshed. Atomic per file,
    all planned before any is written."""
    keys = private_keys(vault)
    digest_key = vault.data.get("vault_shai_secrets_digest_key")
    planned: list[tuple[Path, str]] = []
    for path in sealed_files(gitops):
        obj = read_sealed(path)
        assert obj is not None
        meta = obj["metadata"]
        tmpl = (obj.get("spec") or {}).get("template") or {}
        tmeta = tmpl.get("metadata") or {}
        scope = sealing.sealed_secret_scope(obj)
        opened = sealing.unseal_sealed_secret(keys, obj)
        ann = {
            k: v
            for k, v in (tmeta.get("annotations") or {}).items()
            if k not in (sealing.ANNOTATION_CLUSTER_WIDE, sealing.ANNOTATION_NAMESPACE_WIDE)
        }
        plan = sealing.reconcile_sealed_secret(
            cert,
            meta["name"],
            meta.get("namespace"),
            opened,
            scope=scope,
            secret_type=tmpl.get("type") or "Opaque",
            labels=tmeta.get("labels"),
            annotations=ann or None,
            existing=obj,
            digest_key=str(digest_key).encode() if digest_key else None,
            private_keys=keys,
            allow_empty=True,  # re-sealing what is already sealed
        )
        if plan["changed"]:
            planned.append((path, str(sealing.dump_yaml(plan["object"]))))
    for path, text in planned:
        atomic.atomic_write(str(path), text, 0o644)
    return [p for p, _ in planned]


# ---------------------------------------------------------------------------------------
# show / export / credentials file
# ---------------------------------------------------------------------------------------


def mask(value: str) -> str:
    return "*" * 8 if value else ""


CREDENTIALS_STAMP = "Generated by `shai-secrets` on "


def credentials_markdown(catalog: Catalog, vault: Vault) -> str:
    lines = [
        "# ADMIN CREDENTIALS (local only, never commit)",
        "",
        f"{CREDENTIALS_STAMP}{_now()} from the vault. Mode 0600, gitignored.",
        "",
        "| Service | URL | User | Password |",
        "|---|---|---|---|",
    ]
    for e in catalog.entries.values():
        if not e.credentials:
            continue
        values, _ = entry_values(vault, e)
        user = e.credentials.get("user") or values.get(e.credentials.get("user_key", ""), "")
        pw = values.get(e.credentials.get("password_key", ""), "")
        lines.append(f"| {e.service} | {e.credentials.get('url', '')} | `{user}` | `{pw}` |")
    lines += ["", "## All values", ""]
    for e in catalog.entries.values():
        values, _missing = entry_values(vault, e)
        lines.append(f"### {e.id} ({e.namespace}/{e.name})")
        for k in sorted(e.keys):
            lines.append(f"- `{k}`: " + (f"`{values[k]}`" if k in values else "(missing)"))
        lines.append("")
    return "\n".join(lines) + "\n"


def _without_stamp(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(CREDENTIALS_STAMP)]


def credentials_current(path: Path, catalog: Catalog, vault: Vault) -> bool | None:
    """Whether the credentials file says what the vault says (None: there is no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return _without_stamp(text) == _without_stamp(credentials_markdown(catalog, vault))


def export(catalog: Catalog, vault: Vault, services: list[str] | None = None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for e in catalog.select(services):
        values, _ = entry_values(vault, e)
        out[e.id] = values
    return out


def all_values(catalog: Catalog, vault: Vault) -> list[tuple[str, str, str]]:
    """(entry id, key, value) for every known value; used by the scanner and the leak test."""
    out: list[tuple[str, str, str]] = []
    for e in catalog.entries.values():
        values, _ = entry_values(vault, e)
        for k, v in values.items():
            spec = e.keys[k]
            constant = spec.generator == "timestamp" or (spec.generator == "template" and not spec.refs(e.id))
            if not constant:
                out.append((e.id, k, v))
    for k in vault.data.get("vault_sealed_secrets_keys") or []:
        out.append(("sealing-key", str(k.get("name")), str(k.get("private_key"))))
    if vault.data.get("vault_shai_secrets_digest_key"):
        out.append(("-", "digest-key", str(vault.data["vault_shai_secrets_digest_key"])))
    return out


def open_vault(path: Path, pw_file: Path | None, must_exist: bool = False) -> Vault:
    vault = Vault(path, pw_file)
    if must_exist and not vault.exists:
        raise VaultError(f"vault {path} does not exist (run `shai-secrets generate` or `keygen` first)")
    return vault


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default
