# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run `helm template` the way ArgoCD's repo-server does, through a content-hash cache (ADR 0304).

The helm binary (tools/build.sh helm), the arguments ArgoCD builds from an Application's Helm
source, the parse of Helm's output into (file, document) pairs and the on-disk cache
``${SHAI_CACHE:-~/.cache/shai}/helm-render/`` keyed by (helm binary, chart files, arguments,
values). gitops_helm.py applies this to a whole tree.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError, _Loader, dump_yaml, yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._load import expand_documents

HELM_VERSION = "v4.3.2"  # tools/helm/go.mod (tools/build.sh helm)
HELM_TIMEOUT = 300
SOURCE_PREFIX = "# Source: "


# --------------------------------------------------------------------------------------------
# Helm binary, cache
# --------------------------------------------------------------------------------------------


def cache_root():
    base = os.environ.get("SHAI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shai"
    )
    return base


def find_helm(helm=None):
    """The helm binary: `helm`, $SHAI_HELM, ${SHAI_CACHE}/bin/helm (tools/build.sh helm), PATH."""
    for candidate in (helm, os.environ.get("SHAI_HELM"), os.path.join(cache_root(), "bin", "helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("helm")
    if found:
        return found
    raise GitopsError("helm not found: build it with `tools/build.sh helm` (make tools) or set SHAI_HELM")


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_DIR_DIGESTS = {}


def chart_digest(chart_dir):
    """sha256 of every file of a chart directory (names and contents), once per process."""
    key = os.path.abspath(chart_dir)
    if key not in _DIR_DIGESTS:
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(chart_dir):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                digest.update(os.path.relpath(full, chart_dir).encode("utf-8") + b"\0")
                digest.update(_file_digest(full).encode("ascii"))
        _DIR_DIGESTS[key] = digest.hexdigest()
    return _DIR_DIGESTS[key]


_HELM_DIGESTS = {}


def _helm_digest(helm):
    st = os.stat(helm)
    key = (os.path.abspath(helm), st.st_size, st.st_mtime_ns)
    if key not in _HELM_DIGESTS:
        _HELM_DIGESTS[key] = _file_digest(helm)
    return _HELM_DIGESTS[key]


def _cache_path(key):
    return os.path.join(cache_root(), "helm-render", key[:2], key + ".json")


def _cache_get(key):
    try:
        with open(_cache_path(key)) as handle:
            return [tuple(item) for item in json.load(handle)]
    except (OSError, ValueError, TypeError):
        return None


def _cache_put(key, pairs):
    """Best effort (a cache that cannot be written only costs time). Parsed documents are kept
    as JSON: reading them back is ~20x faster than parsing Helm's YAML again."""
    path = _cache_path(key)
    try:
        atomic_write(path, json.dumps([list(item) for item in pairs]))
    except (OSError, TypeError, ValueError):
        pass


_USES_CAPABILITIES = {}


def uses_api_versions(chart_dir):
    """Whether any template of the chart (or its subcharts) looks at .Capabilities.APIVersions:
    only then can --api-versions change its output (and belong in its cache key)."""
    key = os.path.abspath(chart_dir)
    if key not in _USES_CAPABILITIES:
        found = False
        for dirpath, _dirnames, filenames in os.walk(chart_dir):
            for name in filenames:
                if name.endswith((".yaml", ".yml", ".tpl", ".txt")):
                    with open(os.path.join(dirpath, name), "rb") as handle:
                        if b"APIVersions" in handle.read():
                            found = True
                            break
            if found:
                break
        _USES_CAPABILITIES[key] = found
    return _USES_CAPABILITIES[key]


# --------------------------------------------------------------------------------------------
# ArgoCD's helm template invocation
# --------------------------------------------------------------------------------------------


def chart_dir_of(charts_dir, chart, version):
    """<charts_dir>/<chart>/<version>/<chart> (the layout of `helm pull --untar --untardir`)."""
    return os.path.join(str(charts_dir), chart, str(version), chart)


def helm_values_text(helm_spec):
    """The values ArgoCD passes: valuesObject when set, else the values string."""
    if isinstance(helm_spec.get("valuesObject"), dict):
        return dump_yaml(helm_spec["valuesObject"])
    values = helm_spec.get("values")
    if isinstance(values, dict):  # older ArgoCD accepted an object here too
        return dump_yaml(values)
    return values if isinstance(values, str) and values.strip() else None


def template_args(release, chart_dir, namespace, kube_version, api_versions, helm_spec):
    """`helm template` arguments (without binary and values file) and the value files, as
    ArgoCD's repo-server builds them."""
    args = ["template", release, chart_dir, "--namespace", namespace or "default"]
    if kube_version:
        args += ["--kube-version", str(kube_version)]
    for api in sorted(api_versions or ()):
        args += ["--api-versions", api]
    if not helm_spec.get("skipCrds"):
        args.append("--include-crds")
    if helm_spec.get("skipTests"):
        args.append("--skip-tests")
    for name in helm_spec.get("valueFiles") or []:
        if str(name).startswith("$"):
            raise GitopsError("valueFiles %s refers to another source (multi-source refs are not rendered)" % name)
        args += ["-f", os.path.join(chart_dir, str(name))]
    for param in helm_spec.get("parameters") or []:
        flag = "--set-string" if param.get("forceString") else "--set"
        args += [flag, "%s=%s" % (param.get("name"), param.get("value"))]
    return args


def _run_helm(helm, args, values_text):
    """stdout of helm, or raises GitopsError with its stderr."""
    with tempfile.TemporaryDirectory(prefix="shai-helm-") as tmp:
        cmd = [helm] + list(args)
        if values_text is not None:
            values_file = os.path.join(tmp, "values.yaml")
            with open(values_file, "w") as handle:
                handle.write(values_text)
            cmd += ["--values", values_file]
        env = dict(os.environ)
        # Offline and hermetic: no repository index, plugins or registry config of the user.
        for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
            env[var] = os.path.join(tmp, sub)
        # Controller-side (the CLI and the gitops_render module both run here): no AnsibleModule.
        res = subprocess.run(  # pylint: disable=ansible-bad-function
            cmd, capture_output=True, text=True, timeout=HELM_TIMEOUT, env=env, check=False
        )
    if res.returncode != 0:
        raise GitopsError((res.stderr or res.stdout).strip() or "helm exited %d" % res.returncode)
    return res.stdout


_MEMO = {}


def render_chart(helm, args, values_text, chart_dir, app, chart):
    """([(file, doc)], cached) of one `helm template`, through the content-hash cache (disk and
    process). The --api-versions flags are part of the key only for charts that read them."""
    keyed = args
    if not uses_api_versions(chart_dir):
        keyed = [a for i, a in enumerate(args) if a != "--api-versions" and (i == 0 or args[i - 1] != "--api-versions")]
    key = hashlib.sha256(
        json.dumps([_helm_digest(helm), chart_digest(chart_dir), keyed, values_text, app, chart], sort_keys=True).encode("utf-8")
    ).hexdigest()
    if key in _MEMO:
        return _MEMO[key], True
    pairs = _cache_get(key)
    cached = pairs is not None
    if pairs is None:
        pairs = parse_helm_output(_run_helm(helm, args, values_text), app, chart)
        _cache_put(key, pairs)
    _MEMO[key] = pairs
    return pairs, cached


def parse_helm_output(text, app, chart):
    """[(file, doc)] of helm template's output; file is "<app>:<Source path>"."""
    out = []
    source = None
    for chunk in text.split("\n---"):
        # Templates get a Source line per document; a crds/ file is emitted whole, once.
        for line in chunk.splitlines():
            if line.startswith(SOURCE_PREFIX):
                source = line[len(SOURCE_PREFIX):].strip()
                break
        rel = "%s:%s" % (app, source or chart)
        try:
            docs = [d for d in yaml.load_all(chunk, Loader=_Loader) if d is not None]
        except yaml.YAMLError as exc:
            raise GitopsError("%s: helm rendered invalid YAML: %s" % (rel, exc))
        docs, bad = expand_documents(docs, rel)
        if bad:
            raise GitopsError("%s: helm rendered a document that is not a mapping" % rel)
        out.extend((rel, d) for d in docs)
    return out
