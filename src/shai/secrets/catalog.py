"""The secret catalog (``secrets/catalog.yml``): schema, validation and value generators."""

from __future__ import annotations

import base64
import datetime
import difflib
import re
import secrets as _rand
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import secret_rules
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

DEFAULT_CATALOG = Path("secrets/catalog.yml")
GENERATORS = (
    "password",
    "hex",
    "base64",
    "fernet",
    "bcrypt",
    "htpasswd",
    "template",
    "timestamp",
    "supplied",
)
SCOPES = ("strict", "namespace-wide", "cluster-wide")
CHARSETS = {
    "alnum": string.ascii_letters + string.digits,
    "urlsafe": string.ascii_letters + string.digits + "-_",
    "printable": string.ascii_letters + string.digits + "!#%+,-.:=?@^_~",
}
_REF = re.compile(r"\$\{([a-z0-9][a-z0-9-]*):([A-Za-z0-9._-]+)\}")
# rotation classes (docs/secrets.md#rotation-classes)
ROTATE_CLASSES = ("online", "first-start", "never")
DOC_FIELDS = ("version", "secrets")
ENTRY_FIELDS = (
    "id",
    "service",
    "description",
    "name",
    "namespace",
    "keys",
    "scope",
    "type",
    "labels",
    "annotations",
    "credentials",
    "rotate",
    "rotate_steps",
)
KEY_FIELDS = (
    "generator",
    "sealed",
    "length",
    "charset",
    "bytes",
    "from",
    "template",
    "vault_var",
    "optional",
    "user",
    "rotate",
    "allow_empty",
)


class CatalogError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """The catalog is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class KeySpec:
    key: str
    generator: str
    sealed: bool = True
    length: int = 32
    charset: str = "alnum"
    nbytes: int = 32
    source: str | None = None  # bcrypt: key of the same entry
    template: str | None = None
    vault_var: str | None = None
    optional: bool = False
    user: str = "admin"
    rotate: str | None = None  # overrides the entry's rotation class
    allow_empty: bool = False

    def refs(self, entry_id: str) -> list[tuple[str, str]]:
        """(entry id, key) pairs this key derives from."""
        if self.generator in ("bcrypt", "htpasswd") and self.source:
            return [(entry_id, self.source)]
        if self.generator == "template" and self.template:
            return [(m.group(1), m.group(2)) for m in _REF.finditer(self.template)]
        return []


@dataclass(frozen=True)
class Entry:
    id: str
    service: str
    name: str
    namespace: str
    keys: dict[str, KeySpec]
    description: str = ""
    scope: str = "strict"
    type: str = "Opaque"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    rotate: str = "online"
    rotate_steps: str = ""

    def rotate_class(self, key: str) -> str:
        """Rotation class of one key: its own ``rotate:`` or the entry's."""
        return self.keys[key].rotate or self.rotate

    @property
    def allow_empty(self) -> bool:
        return any(spec.allow_empty for spec in self.keys.values())

    @property
    def sealed_keys(self) -> list[str]:
        return sorted(k for k, spec in self.keys.items() if spec.sealed)

    @property
    def relpath(self) -> Path:
        """Where the SealedSecret lives inside the GitOps tree (agreed with the gitops area)."""
        return Path("secrets") / self.namespace / f"{self.name}.sealedsecret.yaml"


@dataclass(frozen=True)
class Catalog:
    path: Path
    entries: dict[str, Entry]

    def get(self, entry_id: str) -> Entry:
        if entry_id in self.entries:
            return self.entries[entry_id]
        by_service = [e for e in self.entries.values() if e.service == entry_id]
        if by_service:
            return by_service[0]
        known = ", ".join(sorted(self.entries))
        raise CatalogError(f"unknown catalog entry {entry_id!r} in {self.path} (known: {known})")

    def select(self, services: list[str] | None) -> list[Entry]:
        if not services:
            return list(self.entries.values())
        out: list[Entry] = []
        for s in services:
            matched = [e for e in self.entries.values() if s in (e.id, e.service)]
            if not matched:
                self.get(s)  # raises with the list of known entries
            out.extend(e for e in matched if e not in out)
        return out

    def by_location(self, namespace: str, name: str) -> Entry | None:
        for e in self.entries.values():
            if e.namespace == namespace and e.name == name:
                return e
        return None


def unknown_fields(where: str, raw: dict[str, Any], known: tuple[str, ...]) -> None:
    """An unknown field is an error naming it and suggesting the closest known one."""
    for name in raw:
        if name in known:
            continue
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        raise CatalogError(f"{where}: unknown field {name!r}{hint}")


def _rules(where: str, check: Any, *args: Any) -> None:
    try:
        check(*args, where=where)
    except secret_rules.InvalidSecretError as exc:
        raise CatalogError(str(exc)) from None


def _rotate_class(where: str, value: Any) -> str:
    if value not in ROTATE_CLASSES:
        raise CatalogError(f"{where}: rotate {value!r} (expected one of {', '.join(ROTATE_CLASSES)})")
    return str(value)


def _key_spec(where: str, key: str, raw: Any) -> KeySpec:
    _rules(where, secret_rules.check_data_key, key)
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: key {key!r} must be a mapping with a generator")
    unknown_fields(f"{where} key {key!r}", raw, KEY_FIELDS)
    gen = raw.get("generator")
    if gen not in GENERATORS:
        raise CatalogError(
            f"{where}: key {key!r} has generator {gen!r} (expected one of {', '.join(GENERATORS)})"
        )
    charset = str(raw.get("charset", "alnum"))
    if charset not in CHARSETS:
        raise CatalogError(
            f"{where}: key {key!r} charset {charset!r} (expected one of {', '.join(CHARSETS)})"
        )
    length = int(raw.get("length", 32))
    nbytes = int(raw.get("bytes", 32))
    if gen == "password" and length < 12:
        raise CatalogError(f"{where}: key {key!r} password length {length} < 12")
    if gen in ("hex", "base64") and nbytes < 16:
        raise CatalogError(f"{where}: key {key!r} needs at least 16 random bytes")
    if gen in ("bcrypt", "htpasswd") and not raw.get("from"):
        raise CatalogError(f"{where}: key {key!r} ({gen}) needs 'from: <key>'")
    if gen == "template" and not isinstance(raw.get("template"), str):
        raise CatalogError(f"{where}: key {key!r} (template) needs 'template: <text>'")
    if gen == "supplied" and not raw.get("vault_var"):
        raise CatalogError(f"{where}: key {key!r} (supplied) needs 'vault_var: <vault variable>'")
    return KeySpec(
        key=key,
        generator=gen,
        sealed=bool(raw.get("sealed", True)),
        length=length,
        charset=charset,
        nbytes=nbytes,
        source=raw.get("from"),
        template=raw.get("template"),
        vault_var=raw.get("vault_var"),
        optional=bool(raw.get("optional", False)),
        user=str(raw.get("user", "admin")),
        rotate=_rotate_class(f"{where} key {key!r}", raw["rotate"]) if "rotate" in raw else None,
        allow_empty=bool(raw.get("allow_empty", False)),
    )


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"catalog {path} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(f"catalog {path} is not valid YAML{at}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("secrets"), list):
        raise CatalogError(f"catalog {path}: expected a mapping with a 'secrets' list")
    unknown_fields(f"catalog {path}", doc, DOC_FIELDS)
    if doc.get("version") != 1:
        raise CatalogError(f"catalog {path}: unsupported version {doc.get('version')!r} (expected 1)")
    entries: dict[str, Entry] = {}
    locations: set[tuple[str, str]] = set()
    for i, raw in enumerate(doc["secrets"]):
        where = f"{path}: secrets[{i}]"
        if not isinstance(raw, dict):
            raise CatalogError(f"{where}: must be a mapping")
        for req in ("id", "name", "namespace", "keys"):
            if not raw.get(req):
                raise CatalogError(f"{where}: missing required field {req!r}")
        eid = str(raw["id"])
        where = f"{path}: secret {eid!r}"
        unknown_fields(where, raw, ENTRY_FIELDS)
        if not secret_rules.DNS1123_LABEL.match(eid) or len(eid) > 63:
            raise CatalogError(f"{where}: id {eid!r} {secret_rules.RULE_LABEL}")
        _rules(where, secret_rules.check_name, str(raw["name"]))
        _rules(where, secret_rules.check_namespace, str(raw["namespace"]))
        _rules(where, secret_rules.check_labels, raw.get("labels"))
        _rules(where, secret_rules.check_annotations, raw.get("annotations"))
        if "rotate" not in raw:
            raise CatalogError(
                f"{where}: missing required field 'rotate' (one of {', '.join(ROTATE_CLASSES)}; "
                "docs/secrets.md#rotation-classes)"
            )
        rotate = _rotate_class(where, raw["rotate"])
        if eid in entries:
            raise CatalogError(f"{where}: duplicate id")
        loc = (str(raw["namespace"]), str(raw["name"]))
        if loc in locations:
            raise CatalogError(f"{where}: another entry already writes {loc[0]}/{loc[1]}")
        locations.add(loc)
        scope = raw.get("scope", "strict")
        if scope not in SCOPES:
            raise CatalogError(f"{where}: scope {scope!r} (expected one of {', '.join(SCOPES)})")
        if not isinstance(raw["keys"], dict):
            raise CatalogError(f"{where}: keys must be a mapping")
        keys = {str(k): _key_spec(where, str(k), v) for k, v in raw["keys"].items()}
        first_start = rotate == "first-start" or any(k.rotate == "first-start" for k in keys.values())
        if first_start and not raw.get("rotate_steps"):
            raise CatalogError(
                f"{where}: rotate: first-start needs 'rotate_steps' (how to apply a new value in the app)"
            )
        entries[eid] = Entry(
            id=eid,
            service=str(raw.get("service", eid)),
            name=str(raw["name"]),
            namespace=str(raw["namespace"]),
            keys=keys,
            description=str(raw.get("description", "")),
            scope=scope,
            type=str(raw.get("type", "Opaque")),
            labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
            credentials={str(k): str(v) for k, v in (raw.get("credentials") or {}).items()},
            rotate=rotate,
            rotate_steps=str(raw.get("rotate_steps") or ""),
        )
    # references must resolve and must not loop
    for e in entries.values():
        for spec in e.keys.values():
            for ref_id, ref_key in spec.refs(e.id):
                target = entries.get(ref_id)
                if target is None or ref_key not in target.keys:
                    raise CatalogError(
                        f"{path}: secret {e.id!r} key {spec.key!r} refers to unknown {ref_id}:{ref_key}"
                    )
    for e in entries.values():
        for spec in e.keys.values():
            try:
                _check_cycle(entries, (e.id, spec.key), [])
            except CatalogError as exc:
                raise CatalogError(f"{path}: {exc}") from None
    return Catalog(path=path, entries=entries)


def _check_cycle(entries: dict[str, Entry], node: tuple[str, str], stack: list[tuple[str, str]]) -> None:
    if node in stack:
        chain = " -> ".join(f"{a}:{b}" for a, b in [*stack, node])
        raise CatalogError(f"catalog reference cycle: {chain}")
    spec = entries[node[0]].keys[node[1]]
    for ref in spec.refs(node[0]):
        _check_cycle(entries, ref, [*stack, node])


# ---------------------------------------------------------------------------------------
# generators
# ---------------------------------------------------------------------------------------


def generate_random(spec: KeySpec) -> str:
    if spec.generator == "password":
        alphabet = CHARSETS[spec.charset]
        while True:
            value = "".join(_rand.choice(alphabet) for _ in range(spec.length))
            # at least one lower, upper and digit: satisfies every service's policy
            if (
                any(c.islower() for c in value)
                and any(c.isupper() for c in value)
                and any(c.isdigit() for c in value)
            ):
                return value
    if spec.generator == "hex":
        return _rand.token_hex(spec.nbytes)
    if spec.generator == "base64":
        return base64.b64encode(_rand.token_bytes(spec.nbytes)).decode("ascii")
    if spec.generator == "fernet":
        return base64.urlsafe_b64encode(_rand.token_bytes(32)).decode("ascii")
    if spec.generator == "timestamp":
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise CatalogError(f"generator {spec.generator!r} is not random")


def bcrypt_hash(plaintext: str) -> str:
    import bcrypt

    # $2a$: understood by ArgoCD, Traefik (htpasswd) and every other bcrypt consumer
    return bcrypt.hashpw(plaintext.encode("utf-8"), bcrypt.gensalt(rounds=10, prefix=b"2a")).decode("ascii")


def render_template(template: str, lookup: dict[tuple[str, str], str]) -> str:
    return _REF.sub(lambda m: lookup[(m.group(1), m.group(2))], template)


def dependency_order(catalog: Catalog) -> list[tuple[str, str]]:
    """Every (entry id, key) in an order where references come first."""
    done: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def visit(node: tuple[str, str]) -> None:
        if node in seen:
            return
        seen.add(node)
        for ref in catalog.entries[node[0]].keys[node[1]].refs(node[0]):
            visit(ref)
        done.append(node)

    for e in catalog.entries.values():
        for k in e.keys:
            visit((e.id, k))
    return done
