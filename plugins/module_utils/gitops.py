# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render and validate the GitOps tree (docs/gitops.md).

One implementation, used by the modules (gitops_render) and by `shai gitops render|validate`.

Render: gitops/templates/**.j2 (Jinja2, StrictUndefined) + values (gitops/values.yml merged
with the inventory's gitops_*/shai_* variables) -> parsed YAML -> canonical YAML (sorted keys,
indented sequences, literal blocks for multi-line strings). Same input, byte-identical output.

Validate: core kinds against the Kubernetes JSON schemas shipped by kubernetes-validate; custom
resources against the openAPIV3Schema of the CRDs kept as data in gitops/crds (JSON schema draft
4, like the API server); then policy checks. Every finding names file, object and field.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import copy
import glob
import ipaddress
import json
import os
import re
import shutil
import tempfile

try:
    import yaml

    HAS_YAML = True
    try:
        _Loader = yaml.CSafeLoader  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover
        _Loader = yaml.SafeLoader
except ImportError:  # pragma: no cover
    HAS_YAML = False

try:
    import jinja2

    HAS_JINJA2 = True
except ImportError:  # pragma: no cover
    HAS_JINJA2 = False

try:
    import jsonschema

    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover
    HAS_JSONSCHEMA = False

try:
    import kubernetes_validate.utils as _kv_utils
    from referencing import Registry, Resource

    HAS_KUBERNETES_VALIDATE = True
except ImportError:  # pragma: no cover
    HAS_KUBERNETES_VALIDATE = False

FILE_DIRECTIVE = "#@file:"
HEADER = (
    "# Rendered by `shai gitops render` from {source}. Do not edit: change the template or the inventory.\n"
    "# yamllint disable rule:indentation rule:line-length\n"
)
SEALED_SECRET_SUFFIX = ".sealedsecret.yaml"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
PROVIDES_ANNOTATION = "shai.vectorweight.com/provides-crds"
# API groups served by Kubernetes itself or by k3s out of the box (no Application installs them).
BUILTIN_GROUPS = frozenset(
    [
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "node.k8s.io",
        "helm.cattle.io",
        "k3s.cattle.io",
    ]
)
WORKLOAD_KINDS = frozenset(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"])
SYSTEM_NAMESPACES = frozenset(["kube-system", "kube-public", "kube-node-lease", "default"])
_UNPINNED_CHART = re.compile(r"^(|\*|latest|HEAD|master|main|stable)$|[*x^~<>|]|\|\|")


STATIC_FILES = {
    "README.md": (
        b"# Platform GitOps tree (generated)\n\n"
        b"Rendered by `shai gitops render` from the shai repository (gitops/templates + the inventory)\n"
        b"and pushed here by `shai gitops seed` / the vectorweight.shai.gitops_seed module.\n"
        b"Do not edit by hand: the next seed overwrites every change. See docs/gitops.md in shai.\n\n"
        b"- bootstrap/  the root Application (applied once by the argocd_bootstrap role)\n"
        b"- apps/       one ArgoCD Application per component (the root Application syncs this)\n"
        b"- platform/   manifests of the components this tree declares itself\n"
        b"- secrets/    SealedSecrets only (synced by the sealed-secrets-data Application)\n"
    ),
    "secrets/README.md": (
        b"# SealedSecrets\n\nOnly `SealedSecret` objects live here, as `<namespace>/<name>.sealedsecret.yaml`,\n"
        b"written by the shai secrets tooling. `shai gitops validate` rejects anything else.\n"
    ),
}


class GitopsError(Exception):
    """A problem with the inputs (template, values, files) that stops the render."""


# --------------------------------------------------------------------------------------------
# YAML: canonical dump
# --------------------------------------------------------------------------------------------

if HAS_YAML:
    try:
        _DumperBase = yaml.CSafeDumper  # type: ignore[attr-defined]  # libyaml: ~10x faster
    except AttributeError:  # pragma: no cover
        _DumperBase = yaml.SafeDumper

    class _Dumper(_DumperBase):  # type: ignore[misc,valid-type]
        """Safe dumper without anchors/aliases, literal blocks for multi-line strings."""

        def ignore_aliases(self, data):  # type: ignore[no-untyped-def]
            return True

    def _str_representer(dumper, data):  # type: ignore[no-untyped-def]
        if "\n" in data:
            text = data if data.endswith("\n") else data + "\n"
            # Literal blocks cannot carry trailing spaces on a line; fall back to quoting.
            if not any(line != line.rstrip() for line in text.splitlines()):
                return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    _Dumper.add_representer(str, _str_representer)


def dump_yaml(data):
    """Canonical YAML text of one document."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=4096
    )


def dump_documents(docs):
    """Canonical multi-document YAML (`---` before every document)."""
    return "".join("---\n" + dump_yaml(doc) for doc in docs)


def load_documents(text, source):
    """All non-empty documents of a YAML stream; GitopsError names the source on a syntax error."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise GitopsError("%s: invalid YAML: %s" % (source, exc))


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def deep_merge(base, override):
    """Merge override into a copy of base: dicts key by key, everything else replaced."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _environment(template_dir=None):
    loader = jinja2.FileSystemLoader(template_dir) if template_dir else None
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["to_yaml"] = lambda data, indent=0: _indent(dump_yaml(data), indent)
    env.filters["to_json"] = lambda data: json.dumps(data, sort_keys=True)
    env.filters["from_yaml"] = lambda text: yaml.load(text, Loader=_Loader)
    env.filters["quote"] = lambda data: json.dumps(str(data))
    env.tests["ip_address"] = _is_ip
    env.filters["host_cidr"] = _host_cidr
    env.filters["net_cidr"] = _net_cidr
    env.filters["ip_block"] = lambda cidr: {"ipBlock": {"cidr": cidr}}
    env.filters["tcp_ports"] = lambda ports: json.dumps([{"protocol": "TCP", "port": int(p)} for p in ports])
    return env


def _indent(text, width):
    if not width:
        return text
    pad = " " * width
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _host_cidr(value):
    addr = ipaddress.ip_address(str(value))
    return "%s/%d" % (addr, addr.max_prefixlen)


def _net_cidr(value):
    """An address (-> /32 or /128) or a network in CIDR notation, normalised; anything else is an
    error naming the value (NetworkPolicy ipBlocks take no host names)."""
    text = str(value).strip()
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return _host_cidr(text)
    except ValueError:
        raise jinja2.TemplateRuntimeError(
            "%r is not an IP address or CIDR (NetworkPolicy ipBlocks need addresses, not host names)" % text
        )


def resolve_values(values, max_passes=5):
    """Template every string that still holds `{{ }}` against the values themselves."""
    env = _environment()
    resolved = copy.deepcopy(values)

    def walk(node, path):
        if isinstance(node, dict):
            return dict((k, walk(v, path + [str(k)])) for k, v in node.items())
        if isinstance(node, list):
            return [walk(v, path + [str(i)]) for i, v in enumerate(node)]
        if isinstance(node, str) and ("{{" in node or "{%" in node):
            try:
                return env.from_string(node).render(resolved)
            except jinja2.TemplateError as exc:
                raise GitopsError("value %s: cannot resolve %r: %s" % (".".join(path), node, exc))
        return node

    for dummy in range(max_passes):
        new = walk(resolved, [])
        if new == resolved:
            break
        resolved = new
    return resolved


def load_values(defaults_file, overrides):
    """gitops/values.yml merged with the inventory's variables, then resolved."""
    with open(defaults_file) as handle:
        defaults = yaml.load(handle, Loader=_Loader) or {}
    if not isinstance(defaults, dict):
        raise GitopsError("%s: must be a mapping" % defaults_file)
    return resolve_values(deep_merge(defaults, overrides or {}))


# --------------------------------------------------------------------------------------------
# Render
# --------------------------------------------------------------------------------------------


def _split_files(text, default_path):
    """Split a rendered template on `#@file: PATH` lines into {path: text}."""
    files = {}
    current = default_path
    chunks = {current: []}
    for line in text.splitlines(True):
        if line.startswith(FILE_DIRECTIVE):
            current = line[len(FILE_DIRECTIVE):].strip()
            if not current or current.startswith("/") or ".." in current.split("/"):
                raise GitopsError("%s: bad %s target %r" % (default_path, FILE_DIRECTIVE, current))
            chunks.setdefault(current, [])
            continue
        chunks[current].append(line)
    for path, lines in chunks.items():
        files[path] = "".join(lines)
    return files


_ENV_CACHE = {}


def _component_enabled(rel, values):
    """templates/platform/<component>/... render only when the component is enabled."""
    parts = rel.split("/")
    components = values.get("gitops_components") or {}
    if len(parts) > 2 and parts[0] == "platform" and parts[1] in components:
        return bool(components[parts[1]].get("enabled", True))
    return True


def render_tree(template_dir, values, secrets_dir=None):
    """Render the whole tree in memory: {relative path: bytes}. Deterministic."""
    if not (HAS_YAML and HAS_JINJA2):
        raise GitopsError("rendering needs the Python packages PyYAML and Jinja2")
    if not os.path.isdir(template_dir):
        raise GitopsError("template directory %s does not exist" % template_dir)
    key = os.path.abspath(template_dir)
    env = _ENV_CACHE.get(key)
    if env is None:
        env = _ENV_CACHE[key] = _environment(template_dir)  # compiled templates are reused
    docs_by_file = {}
    sources = {}
    names = sorted(
        os.path.relpath(p, template_dir)
        for p in glob.glob(os.path.join(template_dir, "**", "*.j2"), recursive=True)
    )
    for name in names:
        rel = name.replace(os.sep, "/")
        if os.path.basename(rel).startswith("_"):
            continue  # macros / partials
        if not _component_enabled(rel, values):
            continue
        try:
            text = env.get_template(rel).render(values)
        except jinja2.TemplateError as exc:
            lineno = getattr(exc, "lineno", None)
            where = "%s:%s" % (rel, lineno) if lineno else rel
            raise GitopsError("templates/%s: %s" % (where, exc))
        for path, chunk in _split_files(text, rel[: -len(".j2")]).items():
            docs = load_documents(chunk, "templates/%s (rendered, target %s)" % (rel, path))
            if path in sources and sources[path] != rel:
                raise GitopsError("%s is produced by both templates/%s and templates/%s" % (path, sources[path], rel))
            sources[path] = rel
            docs_by_file.setdefault(path, []).extend(docs)
    if secrets_dir and os.path.isdir(secrets_dir):
        for full in sorted(glob.glob(os.path.join(secrets_dir, "**", "*" + SEALED_SECRET_SUFFIX), recursive=True)):
            rel = os.path.relpath(full, secrets_dir).replace(os.sep, "/")
            with open(full) as handle:
                docs = load_documents(handle.read(), full)
            for doc in docs:
                if not isinstance(doc, dict) or doc.get("kind") != "SealedSecret":
                    raise GitopsError(
                        "%s: only SealedSecret objects may live in the secrets directory, found kind %r"
                        % (full, doc.get("kind") if isinstance(doc, dict) else type(doc).__name__)
                    )
            path = "secrets/" + rel
            sources[path] = "secrets/" + rel
            docs_by_file[path] = docs
    out = dict(STATIC_FILES)
    for path in sorted(docs_by_file):
        docs = docs_by_file[path]
        if not docs:
            continue
        source = sources[path]
        origin = ("templates/" + source) if not source.startswith("secrets/") else ("gitops/" + source)
        out[path] = (HEADER.format(source=origin) + dump_documents(docs)).encode("utf-8")
    return out


def write_tree(files, out_dir):
    """Replace out_dir with exactly `files` (atomic per directory swap). Returns the change list."""
    out_dir = os.path.abspath(out_dir)
    before = read_tree(out_dir) if os.path.isdir(out_dir) else {}
    changed = sorted(set(p for p in files if before.get(p) != files[p]) | (set(before) - set(files)))
    if not changed:
        return []
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    staging = tempfile.mkdtemp(prefix=".gitops-render-", dir=parent)
    try:
        for path, data in files.items():
            full = os.path.join(staging, path)
            if not os.path.isdir(os.path.dirname(full)):
                os.makedirs(os.path.dirname(full))
            with open(full, "wb") as handle:
                handle.write(data)
            os.chmod(full, 0o644)
        os.chmod(staging, 0o755)
        old = None
        if os.path.exists(out_dir):
            old = out_dir + ".old-%d" % os.getpid()
            os.rename(out_dir, old)
        os.rename(staging, out_dir)
        if old:
            shutil.rmtree(old)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return changed


def read_tree(root, skip_git=True):
    """{relative path: bytes} of every file below root (the .git directory skipped)."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip_git and ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as handle:
                tree[os.path.relpath(full, root).replace(os.sep, "/")] = handle.read()
    return tree


def tree_diff(before, after):
    """Unified diff text between two {path: bytes} trees."""
    import difflib

    chunks = []
    for path in sorted(set(before) | set(after)):
        a = before.get(path)
        b = after.get(path)
        if a == b:
            continue
        a_lines = a.decode("utf-8", "replace").splitlines(True) if a is not None else []
        b_lines = b.decode("utf-8", "replace").splitlines(True) if b is not None else []
        chunks.extend(
            difflib.unified_diff(
                a_lines,
                b_lines,
                "a/" + path if a is not None else "/dev/null",
                "b/" + path if b is not None else "/dev/null",
            )
        )
    return "".join(chunks)


# --------------------------------------------------------------------------------------------
# Validate
# --------------------------------------------------------------------------------------------


class Finding:
    """One validation problem: file, object, field, message."""

    __slots__ = ("file", "obj", "field", "message", "check")

    def __init__(self, file, obj, field, message, check):
        self.file = file
        self.obj = obj
        self.field = field
        self.message = message
        self.check = check

    def __str__(self):
        return "%s: %s: %s: %s [%s]" % (self.file, self.obj, self.field or "(object)", self.message, self.check)

    def as_dict(self):
        return dict(file=self.file, object=self.obj, field=self.field, message=self.message, check=self.check)


def object_id(doc):
    if not isinstance(doc, dict):
        return "(not a mapping)"
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return "%s %s%s" % (doc.get("kind", "?"), (ns + "/") if ns else "", name or "?")


def _group_version(api_version):
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def _json_path(path):
    out = ""
    for item in path:
        if isinstance(item, int):
            out += "[%d]" % item
        else:
            out += ("." if out else "") + str(item)
    return out


def strict_schema(schema):
    """Copy of a structural schema that rejects unknown fields (the API server would silently
    prune them): additionalProperties false on every object with properties, unless it keeps
    unknown fields."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict((k, strict_schema(v)) for k, v in schema.items())
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        props = dict(out["properties"])
        # Every object may carry apiVersion/kind/metadata even when the CRD omits them.
        out["properties"] = props
        out["additionalProperties"] = False
    return out


def _crd_cache_path(files):
    """~/.cache/shai/gitops-crds-<sha256 of the CRD files>.json (parsing YAML is the slow part)."""
    import hashlib

    digest = hashlib.sha256()
    for full in files:
        digest.update(os.path.basename(full).encode("utf-8") + b"\0")
        with open(full, "rb") as handle:
            digest.update(handle.read())
    base = os.environ.get("SHAI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shai"
    )
    return os.path.join(base, "gitops-crds-%s.json" % digest.hexdigest()[:24])


def _crd_cache_load(files):
    try:
        with open(_crd_cache_path(files)) as handle:
            data = json.load(handle)
        return dict((tuple(item["key"]), item["schema"]) for item in data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _crd_cache_store(files, schemas):
    """Best effort: a cache that cannot be written only costs time."""
    try:
        path = _crd_cache_path(files)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".gitops-crds-")
        with os.fdopen(fd, "w") as handle:
            json.dump([dict(key=list(k), schema=v) for k, v in sorted(schemas.items())], handle)
        os.rename(tmp, path)
    except OSError:
        pass


class CrdSchemas:
    """CRD openAPIV3Schemas (gitops/crds) keyed by (group, version, kind)."""

    def __init__(self, crd_dir):
        self.schemas = {}
        self.validators = {}
        files = sorted(glob.glob(os.path.join(crd_dir, "*.yaml")))
        cached = _crd_cache_load(files)
        if cached is not None:
            self.schemas = cached
            return
        for full in files:
            with open(full) as handle:
                for crd in yaml.load_all(handle, Loader=_Loader):
                    if not crd or crd.get("kind") != "CustomResourceDefinition":
                        continue
                    spec = crd["spec"]
                    for version in spec.get("versions", []):
                        if not version.get("served", True):
                            continue
                        schema = (version.get("schema") or {}).get("openAPIV3Schema")
                        if schema:
                            key = (spec["group"], version["name"], spec["names"]["kind"])
                            self.schemas[key] = strict_schema(schema)
        _crd_cache_store(files, self.schemas)

    def known_group(self, group):
        return any(key[0] == group for key in self.schemas)

    def validator(self, key):
        if key not in self.validators:
            schema = self.schemas[key]
            # Draft 4, like the API server; a non-Python regex (RE2-only) is tolerated below.
            self.validators[key] = jsonschema.Draft4Validator(schema)
        return self.validators[key]


class CoreSchemas:
    """Kubernetes core-kind JSON schemas from kubernetes-validate, cached per kind (strict)."""

    def __init__(self, kube_version):
        if not HAS_KUBERNETES_VALIDATE:
            raise GitopsError("validation needs the Python package kubernetes-validate")
        version = kube_version.lstrip("v")
        versions = [v for v in _kv_utils.all_versions() if _kv_utils.major_minor(v) <= _kv_utils.major_minor(version)]
        if not versions:
            raise GitopsError("kubernetes-validate has no schemas for Kubernetes %s" % kube_version)
        self.version = versions[-1]
        self.schema_dir = "kubernetes-json-schema/v%s-local-strict" % self.version
        self.registry = None
        self.validators = {}

    def validator(self, api_version, kind):
        key = (api_version, kind)
        if key not in self.validators:
            api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                schema = _kv_utils.schema_contents(
                    "%s/%s-%s.json" % (self.schema_dir, kind.lower(), api), self.version
                )
            except (FileNotFoundError, OSError):
                self.validators[key] = None
                return None
            if self.registry is None:
                defs = _kv_utils.schema_contents("%s/_definitions.json" % self.schema_dir, self.version)
                self.registry = Resource.from_contents(defs) @ Registry()
            registry = Resource.from_contents(schema) @ self.registry
            self.validators[key] = jsonschema.Draft202012Validator(schema, registry=registry)
        return self.validators[key]


_SCHEMA_CACHE = {}


def _schemas(crd_dir, kube_version):
    key = (os.path.abspath(crd_dir), kube_version)
    if key not in _SCHEMA_CACHE:
        _SCHEMA_CACHE[key] = (CoreSchemas(kube_version), CrdSchemas(crd_dir))
    return _SCHEMA_CACHE[key]


def load_tree_objects(tree_dir):
    """[(relative file, document)] for every YAML file of the tree, plus parse findings."""
    objects = []
    findings = []
    for full in sorted(glob.glob(os.path.join(tree_dir, "**", "*.y*ml"), recursive=True)):
        rel = os.path.relpath(full, tree_dir).replace(os.sep, "/")
        if rel.startswith(".git/"):
            continue
        with open(full) as handle:
            text = handle.read()
        try:
            docs = load_documents(text, rel)
        except GitopsError as exc:
            findings.append(Finding(rel, "(file)", "", str(exc).split(": ", 1)[-1], "yaml"))
            continue
        for doc in docs:
            objects.append((rel, doc))
    return objects, findings


def _schema_findings(rel, doc, core, crds):
    oid = object_id(doc)
    findings = []
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str) or not doc.get(key):
            findings.append(Finding(rel, oid, key, "missing or not a string", "schema"))
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        findings.append(Finding(rel, oid, "metadata.name", "missing", "schema"))
    if findings:
        return findings
    group, version = _group_version(doc["apiVersion"])
    kind = doc["kind"]
    if (group, version, kind) in crds.schemas:
        validator = crds.validator((group, version, kind))
        try:
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        except re.error as exc:  # RE2-only pattern in the CRD (gitops/crds/README.md)
            return [Finding(rel, oid, "", "CRD schema pattern not checkable in Python: %s" % exc, "crd-schema")]
        for err in errors:
            findings.append(Finding(rel, oid, _json_path(err.absolute_path), err.message, "crd-schema"))
        return findings
    if group in BUILTIN_GROUPS:
        validator = core.validator(doc["apiVersion"], kind)
        if validator is None:
            return [Finding(rel, oid, "apiVersion", "no Kubernetes %s schema for %s %s" % (core.version, doc["apiVersion"], kind), "schema")]
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            findings.append(Finding(rel, oid, _json_path(err.absolute_path), err.message, "schema"))
        return findings
    if crds.known_group(group):
        return [Finding(rel, oid, "apiVersion", "%s/%s %s is not served by the CRDs in gitops/crds" % (group, version, kind), "crd-schema")]
    return [Finding(rel, oid, "apiVersion", "no schema for API group %r (add its CRD to gitops/crds)" % group, "crd-schema")]


def _containers(doc):
    """(json path prefix, container) for every container of a workload."""
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        pod, prefix = spec, "spec"
    elif kind == "CronJob":
        pod = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
        prefix = "spec.jobTemplate.spec.template.spec"
    else:
        pod = (spec.get("template") or {}).get("spec") or {}
        prefix = "spec.template.spec"
    out = []
    for field in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(field) or []):
            out.append(("%s.%s[%d]" % (prefix, field, i), container))
    return out


def _image_pinned(image):
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest"


def _wave(doc):
    raw = ((doc.get("metadata") or {}).get("annotations") or {}).get(WAVE_ANNOTATION, "0")
    try:
        return int(str(raw))
    except ValueError:
        return None


def _sources(app):
    spec = app.get("spec") or {}
    if spec.get("sources"):
        return [("spec.sources[%d]" % i, s) for i, s in enumerate(spec["sources"])]
    if spec.get("source"):
        return [("spec.source", spec["source"])]
    return []


def policy_findings(objects):
    """Policy checks over the whole tree: [(file, doc)] -> [Finding]."""
    findings = []
    namespaces = {}
    quotas = set()
    limitranges = set()
    default_deny = set()
    apps = []
    for rel, doc in objects:
        if not isinstance(doc, dict):
            findings.append(Finding(rel, "(document)", "", "not a mapping", "yaml"))
            continue
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        ns = meta.get("namespace")
        oid = object_id(doc)
        if kind == "Namespace":
            namespaces[meta.get("name")] = rel
        elif kind == "ResourceQuota":
            quotas.add(ns)
        elif kind == "LimitRange":
            limitranges.add(ns)
        elif kind == "NetworkPolicy" and _is_default_deny(doc):
            default_deny.add(ns)
        elif kind == "Secret":
            if doc.get("data") or doc.get("stringData"):
                findings.append(
                    Finding(rel, oid, "data" if doc.get("data") else "stringData",
                            "plaintext Secret: seal it (gitops/secrets/<namespace>/<name>.sealedsecret.yaml)",
                            "no-plaintext-secret")
                )
        elif kind == "Application" and str(doc.get("apiVersion", "")).startswith("argoproj.io/"):
            apps.append((rel, doc))
        if kind in WORKLOAD_KINDS:
            for prefix, container in _containers(doc):
                cname = container.get("name", "?")
                image = container.get("image") or ""
                if not _image_pinned(image):
                    findings.append(Finding(rel, oid, prefix + ".image",
                                            "container %s: image %r is not pinned (tag or digest, never latest)" % (cname, image),
                                            "pinned-images"))
                resources = container.get("resources") or {}
                for section in ("requests", "limits"):
                    for res in ("cpu", "memory"):
                        if not (resources.get(section) or {}).get(res):
                            findings.append(Finding(rel, oid, "%s.resources.%s.%s" % (prefix, section, res),
                                                    "container %s has no %s %s" % (cname, res, section[:-1]),
                                                    "resources"))
    for name, rel in sorted(namespaces.items()):
        if name in SYSTEM_NAMESPACES:
            continue
        if name not in quotas:
            findings.append(Finding(rel, "Namespace %s" % name, "", "namespace has no ResourceQuota", "namespace-quota"))
        if name not in limitranges:
            findings.append(Finding(rel, "Namespace %s" % name, "", "namespace has no LimitRange", "namespace-limitrange"))
        if name not in default_deny:
            findings.append(Finding(rel, "Namespace %s" % name, "",
                                    "namespace %s has no default-deny NetworkPolicy (podSelector {}, policyTypes "
                                    "[Ingress, Egress], no rules)" % name, "namespace-default-deny"))
    findings.extend(_application_findings(objects, apps, namespaces))
    findings.extend(_secret_ref_findings(objects))
    return findings


def _is_default_deny(doc):
    """A NetworkPolicy that selects every pod and isolates both directions without allowing
    anything: the base the namespace's allow-policies add to."""
    spec = doc.get("spec") or {}
    selector = spec.get("podSelector")
    if not isinstance(selector, dict) or any(selector.get(k) for k in ("matchLabels", "matchExpressions")):
        return False
    types = set(spec.get("policyTypes") or [])
    return {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


def _secret_refs(container):
    """(field suffix, secret name, key or None) of every Secret a container reads."""
    refs = []
    for i, env in enumerate(container.get("env") or []):
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if ref and not ref.get("optional"):
            refs.append(("env[%d].valueFrom.secretKeyRef" % i, ref.get("name"), ref.get("key")))
    for i, env in enumerate(container.get("envFrom") or []):
        ref = env.get("secretRef")
        if ref and not ref.get("optional"):
            refs.append(("envFrom[%d].secretRef" % i, ref.get("name"), None))
    return refs


def _secret_ref_findings(objects):
    """Once the tree carries SealedSecrets, every Secret a workload reads must be one of them,
    in the workload's namespace, with the key it reads (catches namespace/key mismatches
    between the templates and the secrets catalog before the pods crash-loop)."""
    sealed = {}
    for _rel, doc in objects:
        if isinstance(doc, dict) and doc.get("kind") == "SealedSecret":
            meta = doc.get("metadata") or {}
            spec = doc.get("spec") or {}
            keys = set()
            for source in (spec.get("encryptedData"), (spec.get("template") or {}).get("data")):
                if isinstance(source, dict):
                    keys |= set(source)
            sealed[(meta.get("namespace"), meta.get("name"))] = keys
    if not sealed:
        return []
    findings = []
    for rel, doc in objects:
        if not isinstance(doc, dict) or doc.get("kind") not in WORKLOAD_KINDS:
            continue
        ns = (doc.get("metadata") or {}).get("namespace")
        for prefix, container in _containers(doc):
            for suffix, name, key in _secret_refs(container):
                field = "%s.%s" % (prefix, suffix)
                if (ns, name) not in sealed:
                    elsewhere = sorted(n for n, s in sealed if s == name)
                    hint = " (sealed in namespace %s)" % ", ".join(elsewhere) if elsewhere else ""
                    findings.append(Finding(rel, object_id(doc), field,
                                            "reads Secret %s/%s, which is not a SealedSecret of the tree%s" % (ns, name, hint),
                                            "secret-refs"))
                elif key and key not in sealed[(ns, name)]:
                    findings.append(Finding(rel, object_id(doc), field,
                                            "Secret %s/%s has no key %r (keys: %s)" % (ns, name, key, ", ".join(sorted(sealed[(ns, name)]))),
                                            "secret-refs"))
    return findings


def _application_findings(objects, apps, namespaces):
    findings = []
    # Which wave installs each API group (Applications annotated with provides-crds).
    providers = {}
    # Which Application owns each directory of the tree (directory sources).
    owners = []
    for rel, app in apps:
        oid = object_id(app)
        meta = app.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        wave = _wave(app)
        if wave is None:
            findings.append(Finding(rel, oid, "metadata.annotations[%s]" % WAVE_ANNOTATION, "not an integer", "waves"))
            continue
        for group in str(annotations.get(PROVIDES_ANNOTATION, "")).split(","):
            if group.strip():
                providers.setdefault(group.strip(), (wave, meta.get("name")))
        spec = app.get("spec") or {}
        is_root = meta.get("labels", {}).get("shai.vectorweight.com/root") == "true"
        sync = spec.get("syncPolicy") or {}
        options = sync.get("syncOptions") or []
        if "CreateNamespace=false" not in options:
            findings.append(Finding(rel, oid, "spec.syncPolicy.syncOptions", "must contain CreateNamespace=false (namespaces are declared)", "sync-policy"))
        if not (sync.get("retry") or {}).get("limit"):
            findings.append(Finding(rel, oid, "spec.syncPolicy.retry.limit", "no retry policy", "sync-policy"))
        if is_root and (sync.get("automated") or {}).get("prune"):
            findings.append(Finding(rel, oid, "spec.syncPolicy.automated.prune", "the root Application must never auto-prune", "sync-policy"))
        dest_ns = (spec.get("destination") or {}).get("namespace")
        if dest_ns and dest_ns not in namespaces and dest_ns not in SYSTEM_NAMESPACES:
            findings.append(Finding(rel, oid, "spec.destination.namespace",
                                    "namespace %r is not declared by the tree (CreateNamespace=false)" % dest_ns, "namespaces"))
        for prefix, source in _sources(app):
            if source.get("chart"):
                rev = str(source.get("targetRevision", ""))
                if _UNPINNED_CHART.search(rev):
                    findings.append(Finding(rel, oid, prefix + ".targetRevision",
                                            "chart %s version %r is not pinned (exact version, never latest/ranges)" % (source["chart"], rev),
                                            "pinned-charts"))
            elif source.get("path") is not None:
                owners.append((source["path"].strip("/"), wave, meta.get("name")))
    # Waves: nothing consumes a CRD before (or in) the wave that installs it.
    for rel, doc in objects:
        if not isinstance(doc, dict) or not isinstance(doc.get("apiVersion"), str):
            continue
        group = _group_version(doc["apiVersion"])[0]
        if group in BUILTIN_GROUPS or group == "argoproj.io":
            continue  # argoproj.io: ArgoCD is installed by the bootstrap, before any wave
        owner = None
        for path, wave, name in owners:
            if path and (rel == path or rel.startswith(path + "/")) and (owner is None or len(path) > len(owner[0])):
                owner = (path, wave, name)
        if owner is None:
            continue
        provider = providers.get(group)
        if provider is None:
            findings.append(Finding(rel, object_id(doc), "apiVersion",
                                    "API group %s is installed by no Application (add it to a chart's crds)" % group, "waves"))
        elif provider[0] >= owner[1]:
            findings.append(Finding(rel, object_id(doc), "apiVersion",
                                    "uses %s (installed by %s at wave %d) from Application %s at wave %d: must be a later wave"
                                    % (group, provider[1], provider[0], owner[2], owner[1]), "waves"))
    return findings


def validate_objects(objects, crd_dir, kube_version):
    core, crds = _schemas(crd_dir, kube_version)
    findings = []
    for rel, doc in objects:
        if isinstance(doc, dict):
            findings.extend(_schema_findings(rel, doc, core, crds))
    findings.extend(policy_findings(objects))
    return findings


def validate_tree(tree_dir, crd_dir, kube_version):
    """Validate every manifest of a rendered tree. Returns (object count, [Finding])."""
    if not (HAS_YAML and HAS_JSONSCHEMA):
        raise GitopsError("validation needs the Python packages PyYAML and jsonschema")
    if not os.path.isdir(tree_dir):
        raise GitopsError("%s is not a directory" % tree_dir)
    objects, findings = load_tree_objects(tree_dir)
    findings.extend(validate_objects(objects, crd_dir, kube_version))
    return len(objects), findings
