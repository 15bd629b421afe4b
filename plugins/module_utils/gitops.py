# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the GitOps tree (docs/gitops.md).

One implementation, used by the modules (gitops_render) and by `shai gitops render`.

Render: gitops/templates/**.j2 (Jinja2, StrictUndefined) + values (gitops/values.yml merged
with the inventory's gitops_*/shai_* variables) -> parsed YAML -> canonical YAML (sorted keys,
indented sequences, literal blocks for multi-line strings). Same input, byte-identical output.

Validation lives in gitops_rules/ (one module per check, a registry, run()); Helm rendering of
the chart Applications in gitops_helm.py.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import copy
import glob
import ipaddress
import json
import os
import shutil
import tempfile

try:
    import yaml

    HAS_YAML = True
    try:
        _LoaderBase = yaml.CSafeLoader  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover
        _LoaderBase = yaml.SafeLoader

    class _Loader(_LoaderBase):  # type: ignore[misc,valid-type]
        """Safe loader that reads a plain `=` as the string it is (YAML 1.1's value tag has no
        constructor in PyYAML; Kubernetes and Helm read it as "=", e.g. in label selectors)."""

    _Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
except ImportError:  # pragma: no cover
    HAS_YAML = False
    yaml = None
    _Loader = None

try:
    import jinja2

    HAS_JINJA2 = True
except ImportError:  # pragma: no cover
    HAS_JINJA2 = False

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_gpu_hosts
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_values_check import check_values

FILE_DIRECTIVE = "#@file:"
HEADER = (
    "# Rendered by `shai gitops render` from {source}. Do not edit: change the template or the inventory.\n"
    "# yamllint disable rule:indentation rule:line-length\n"
)
SEALED_SECRET_SUFFIX = ".sealedsecret.yaml"

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


class GitopsError(ShaiError):
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
    env.tests["ip_address"] = gitops_gpu_hosts.is_ip
    env.filters["host_cidr"] = _host_cidr
    env.filters["net_cidr"] = _net_cidr
    env.filters["ip_block"] = lambda cidr: {"ipBlock": {"cidr": cidr}}
    env.filters["tcp_ports"] = lambda ports: json.dumps([{"protocol": "TCP", "port": int(p)} for p in ports])
    if loader is not None:
        # A file under the template directory, verbatim (not rendered): programs shipped in
        # ConfigMaps. Jinja's loader refuses paths that leave the directory.
        env.globals["raw_file"] = lambda rel: loader.get_source(env, rel)[0]
    return env


def _indent(text, width):
    if not width:
        return text
    pad = " " * width
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


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
    errors = check_values(defaults, overrides or {})
    if errors:
        raise GitopsError("%s + inventory: %d unknown key(s):\n  - %s" % (defaults_file, len(errors), "\n  - ".join(errors)))
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
    if gitops_gpu_hosts.VARIABLE not in values and gitops_gpu_hosts.OLD_VARIABLE in values:
        raise GitopsError(gitops_gpu_hosts.OLD_MESSAGE)
    if gitops_gpu_hosts.VARIABLE in values:
        # Checked once, with the DNS label of each host added (`slug`); a missing variable is
        # left to the templates (StrictUndefined names it with the template).
        try:
            hosts = gitops_gpu_hosts.check(values[gitops_gpu_hosts.VARIABLE])
        except gitops_gpu_hosts.GpuHostsError as exc:
            raise GitopsError(str(exc))
        values = dict(values)
        values[gitops_gpu_hosts.VARIABLE] = hosts
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


def k3s_version(collection_root):
    """The k3s pin (roles/k3s/defaults/main.yml `k3s_version`, its one place, ADR 0504), e.g.
    "v1.37.0+k3s1": the Kubernetes version the tree is validated and rendered for by default."""
    path = os.path.join(str(collection_root), "roles", "k3s", "defaults", "main.yml")
    try:
        with open(path) as handle:
            data = yaml.load(handle, Loader=_Loader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GitopsError("cannot read the k3s pin from %s: %s" % (path, exc))
    version = data.get("k3s_version") if isinstance(data, dict) else None
    if not version:
        raise GitopsError("%s sets no k3s_version" % path)
    return str(version)
