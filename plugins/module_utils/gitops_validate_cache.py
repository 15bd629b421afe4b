# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A validation result of a rendered GitOps tree, reused while none of its inputs changed.

Validating the tree (schemas, every rule, the charts' renders) is deterministic in its inputs:
the rendered files, the CRDs, the Kubernetes version, the chart sources, the helm binary and the
code of the validator itself. ``inputs_key`` hashes all of them; the gitops_render module keeps
the last passing result beside the rendered tree (``<dest>.validated.json``) and, when the key is
the same, reports that result again instead of validating again (a no-op converge, a scheduled
drift run). Any change of any input — a template, a value, a chart file, a rule's code — gives
another key and a full validation. Only passing results are kept: a failing tree is always
validated again.

Chart directories are keyed by every file's path, size and modification time (as make does),
not by content: the chart sources are hundreds of files, and reading them all would cost what
the cache saves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import json
import os
import sys

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_helm_run import _file_digest

FORMAT = 1
# The packages whose code decides a validation result.
_CODE_PREFIX = "ansible_collections.vectorweight.shai.plugins.module_utils."
_CODE_MODULES = ("gitops", "_schemas", "gitops_helm", "gitops_helm_run", "gitops_rules", "gitops_values_check", "gitops_gpu_hosts")
_LIBRARIES = ("jsonschema", "kubernetes_validate", "yaml", "jinja2")


def stamp_path(dest):
    """Where the last passing result of the tree rendered into ``dest`` is kept."""
    return os.path.normpath(dest) + ".validated.json"


def _stat_walk(digest, top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            digest.update(("%s\0%d\0%d\n" % (os.path.relpath(full, top), st.st_size, st.st_mtime_ns)).encode("utf-8"))


def _code_digest(digest):
    """The source of the validator's own modules (also inside an AnsiballZ payload)."""
    for name in sorted(sys.modules):
        if not name.startswith(_CODE_PREFIX):
            continue
        short = name[len(_CODE_PREFIX):]
        if short.split(".")[0] not in _CODE_MODULES and not short.startswith("gitops_rules"):
            continue
        module = sys.modules[name]
        source = None
        loader = getattr(module, "__loader__", None)
        try:
            source = loader.get_source(name) if loader is not None else None
        except (ImportError, OSError):
            source = None
        if source is None:
            # Unreadable source: no stable key for this code, so never reuse a result.
            return False
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(source.encode("utf-8")).digest())
    for lib in _LIBRARIES:
        module = sys.modules.get(lib)
        digest.update(("%s=%s\n" % (lib, getattr(module, "__version__", "?"))).encode("utf-8"))
    return True


def inputs_key(files, crd_dir, kube_version, charts_dir=None, helm=None):
    """sha256 over everything a validation result depends on; None when it cannot be known."""
    digest = hashlib.sha256(("shai-gitops-validate/%d\n" % FORMAT).encode("utf-8"))
    for path in sorted(files):
        data = files[path]
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    for full in sorted(glob.glob(os.path.join(str(crd_dir), "*.yaml"))):
        digest.update(os.path.basename(full).encode("utf-8") + b"\0" + _file_digest(full).encode("ascii"))
    digest.update(("kube=%s\n" % kube_version).encode("utf-8"))
    if charts_dir:
        if not os.path.isdir(charts_dir):
            return None
        digest.update(("charts=%s\n" % os.path.abspath(charts_dir)).encode("utf-8"))
        _stat_walk(digest, charts_dir)
        if not helm or not os.path.isfile(helm):
            return None
        st = os.stat(helm)
        digest.update(("helm=%s\0%d\0%d\n" % (os.path.abspath(helm), st.st_size, st.st_mtime_ns)).encode("utf-8"))
    if not _code_digest(digest):
        return None
    return digest.hexdigest()


def load(dest, key):
    """The kept result for ``key`` (a dict), or None."""
    if key is None:
        return None
    try:
        with open(stamp_path(dest)) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("result"), dict):
        return None
    return data["result"]


def store(dest, key, result):
    """Keep a passing ``result`` for ``key`` (best effort: a cache that cannot be written is no error)."""
    if key is None:
        return
    try:
        atomic_write(stamp_path(dest), json.dumps(dict(key=key, result=result), sort_keys=True), mode=0o644)
    except (OSError, TypeError, ValueError):
        pass
