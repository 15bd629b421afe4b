# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Schema validation of the models manifest (``inventories/<env>/models.yml``).

The manifest is an Ansible vars file with one top-level key, ``shai_models``::

    shai_models:
      hf_endpoint: https://huggingface.co      # optional; a mirror for air-gapped sites
      targets:
        gpu_workstation:                       # target name (free, e.g. gpu_workstation, cpu_ollama, comfyui)
          hosts: gpu_workstation               # inventory group (or host) the target lives on
          ollama_url: http://127.0.0.1:11434   # where ollama_model talks to Ollama (optional)
          ollama_registry: mirror.lan:5000     # pull library models from a mirror (optional)
          ollama_insecure: true                # plain-http mirror (optional)
          root: /srv/models                    # base of relative `dest` folders (needed if files)
          ollama:
            - name: llama3.1:8b                # name[:tag], tag defaults to latest
              litellm: chat                    # LiteLLM group it serves (optional; docs/gitops.md)
          files:
            - name: xtts-v2                    # unique within the target
              hf: {repo: coqui/XTTS-v2, revision: <40-hex commit>, include: ["*.pth", "*.json"]}
              dest: tts/xtts-v2
            - name: 4x-ultrasharp
              url: https://example.org/4x-UltraSharp.pth
              sha256: <64 hex>
              dest: upscale_models

Standard library only: the same check runs in the CLI, in tests and wherever a role wants it.
Every error names the entry (``targets.comfyui.files[2] (sdxl-vae): ...``) and all errors are
reported at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
OLLAMA_NAME = re.compile(r"^(?:[A-Za-z0-9.\-]+(?::[0-9]+)?/)?(?:[a-z0-9][a-z0-9._\-]*/)?[a-z0-9][a-z0-9._\-]*(?::[A-Za-z0-9._\-]+)?$")
HF_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*/[A-Za-z0-9][A-Za-z0-9._\-]*$")

_TOP_KEYS = {"hf_endpoint", "targets"}
_TARGET_KEYS = {
    "hosts",
    "ollama_url",
    "ollama_registry",
    "ollama_insecure",
    "root",
    "owner",
    "group",
    "ollama",
    "files",
    "prune",
}
_OLLAMA_KEYS = {"name", "digest", "insecure", "litellm"}  # litellm: the LiteLLM group it serves (gitops)
_FILE_KEYS = {"name", "url", "sha256", "hf", "dest", "filename", "mode", "token_over_http"}
_HF_KEYS = {"repo", "revision", "include", "exclude", "repo_type", "path"}


class ManifestError(ShaiError, ValueError):
    """The manifest is invalid; ``errors`` lists every problem, each naming its entry."""

    def __init__(self, source, errors):
        self.source = source
        self.errors = list(errors)
        super(ManifestError, self).__init__(
            "%s is not a valid models manifest:\n  - %s" % (source, "\n  - ".join(self.errors))
        )


def filename_problem(value):
    """Why ``value`` cannot be a file name inside a model folder, or None if it can.

    A file name is exactly one path component: not empty, not ``.``/``..``, no ``/``, ``\\`` or
    NUL - so ``dest/filename`` can never point outside ``dest``. The model_file module checks
    the same (and that the resolved path stays under ``dest``).
    """
    if not isinstance(value, str) or not value:
        return "must be a non-empty file name"
    if value in (".", "..") or "/" in value or "\\" in value or "\0" in value:
        return "must be a single file name without '/', '\\' or '..', got %r" % (value,)
    return None


def relpath_problem(value):
    """Why ``value`` cannot be a relative path inside a folder (every component checked), or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty relative path"
    if value.startswith("/"):
        return "must be relative, got %r" % (value,)
    for part in value.split("/"):
        if filename_problem(part) is not None:
            return "must not contain an empty, '.' or '..' component, got %r" % (value,)
    return None


def _str_list(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _unknown(where, value, allowed, errors):
    for key in sorted(set(value) - allowed):
        errors.append("%s: unknown key %r (allowed: %s)" % (where, key, ", ".join(sorted(allowed))))


def _check_ollama(where, entry, errors):
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        errors.append("%s: must be a mapping or a model name" % where)
        return None
    name = entry.get("name")
    label = "%s (%s)" % (where, name) if name else where
    _unknown(label, entry, _OLLAMA_KEYS, errors)
    if not isinstance(name, str) or not OLLAMA_NAME.match(name):
        errors.append("%s: name must be an Ollama model name like llama3.1:8b, got %r" % (label, name))
        return None
    digest = entry.get("digest")
    if digest is not None and not (isinstance(digest, str) and HEX64.match(digest.replace("sha256:", ""))):
        errors.append("%s: digest must be 64 hex characters (sha256), got %r" % (label, digest))
    out = dict(entry)
    if ":" not in name.rsplit("/", 1)[-1]:
        out["name"] = name + ":latest"
    return out


def _is_url(value):
    """An http(s) URL, or a Jinja expression Ansible resolves on the host (lab mirror address)."""
    return isinstance(value, str) and (re.match(r"^https?://", value) is not None or value.startswith("{{"))


def _check_file(where, entry, has_root, errors, allow_unpinned=False):
    if not isinstance(entry, dict):
        errors.append("%s: must be a mapping" % where)
        return None
    name = entry.get("name")
    label = "%s (%s)" % (where, name) if name else where
    _unknown(label, entry, _FILE_KEYS, errors)
    ok = True
    if not isinstance(name, str) or not name:
        errors.append("%s: name is required (a short unique label)" % label)
        ok = False
    has_url = "url" in entry
    has_hf = "hf" in entry
    if has_url == has_hf:
        errors.append("%s: exactly one of url or hf is required" % label)
        return None
    sha = entry.get("sha256")
    if sha is not None and not (isinstance(sha, str) and HEX64.match(sha)):
        errors.append("%s: sha256 must be 64 lowercase hex characters, got %r" % (label, sha))
        ok = False
    if has_url:
        url = entry.get("url")
        if not _is_url(url):
            errors.append("%s: url must be an http(s) URL, got %r" % (label, url))
            ok = False
        if sha is None:
            errors.append("%s: sha256 is required for a url file (it is what makes the download verifiable)" % label)
            ok = False
    else:
        hf = entry["hf"]
        if not isinstance(hf, dict):
            errors.append("%s: hf must be a mapping with repo and revision" % label)
            return None
        _unknown(label + ".hf", hf, _HF_KEYS, errors)
        repo = hf.get("repo")
        if not isinstance(repo, str) or not HF_REPO.match(repo):
            errors.append("%s: hf.repo must look like org/name, got %r" % (label, repo))
            ok = False
        rev = hf.get("revision")
        if not isinstance(rev, str) or not rev:
            errors.append("%s: hf.revision is required (a 40-hex commit id)" % label)
            ok = False
        elif not HEX40.match(rev) and not allow_unpinned:
            errors.append(
                "%s: hf.revision must be a pinned 40-hex commit id, got %r "
                "(`shai-models download-hf %s` prints it)" % (label, rev, repo)
            )
            ok = False
        for key in ("include", "exclude"):
            if key in hf and _str_list(hf[key]) is None:
                errors.append("%s: hf.%s must be a glob or a list of globs" % (label, key))
                ok = False
        if "path" in hf and not isinstance(hf["path"], str):
            errors.append("%s: hf.path must be a file path inside the repo" % label)
            ok = False
        if hf.get("repo_type", "model") not in ("model", "dataset", "space"):
            errors.append("%s: hf.repo_type must be model, dataset or space" % label)
            ok = False
    if "filename" in entry and filename_problem(entry["filename"]) is not None:
        errors.append("%s: filename %s" % (label, filename_problem(entry["filename"])))
        ok = False
    hf_path = entry["hf"].get("path") if isinstance(entry.get("hf"), dict) else None
    if isinstance(hf_path, str) and relpath_problem(hf_path):
        errors.append("%s: hf.path %s" % (label, relpath_problem(hf_path)))
        ok = False
    if not isinstance(entry.get("token_over_http", False), bool):
        errors.append("%s: token_over_http must be true or false" % label)
        ok = False
    dest = entry.get("dest")
    if not isinstance(dest, str) or not dest:
        errors.append("%s: dest (the folder the file goes to) is required" % label)
        ok = False
    elif not dest.startswith("/") and not has_root:
        errors.append("%s: dest %r is relative but the target has no root" % (label, dest))
        ok = False
    elif ".." in dest.split("/") or "." in dest.split("/") or "\0" in dest:
        errors.append("%s: dest must not contain a '.' or '..' component" % label)
        ok = False
    if not ok:
        return None
    out = dict(entry)
    if has_hf:
        hf = dict(entry["hf"])
        hf["include"] = _str_list(hf.get("include", [])) or []
        hf["exclude"] = _str_list(hf.get("exclude", [])) or []
        if hf.get("path"):
            hf["include"] = [hf["path"]]
        hf.setdefault("repo_type", "model")
        out["hf"] = hf
    return out


def validate(data, source="models.yml", allow_unpinned=False):
    """Validate a loaded manifest (the whole vars file or just its ``shai_models`` value).

    ``allow_unpinned`` accepts a branch or tag as ``hf.revision`` (default: a commit is required).
    Returns the normalised ``shai_models`` mapping (ollama names with a tag, hf include/exclude
    as lists) or raises :class:`ManifestError` listing every problem.
    """
    errors = []
    if isinstance(data, dict) and "shai_models" in data:
        extra = sorted(set(data) - {"shai_models"})
        if extra:
            errors.append("top level: unknown key(s) %s (only shai_models)" % ", ".join(extra))
        data = data["shai_models"]
    if not isinstance(data, dict):
        raise ManifestError(source, ["top level: shai_models must be a mapping"])
    _unknown("shai_models", data, _TOP_KEYS, errors)
    targets = data.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise ManifestError(source, errors + ["shai_models.targets: must be a non-empty mapping of targets"])
    out_targets = {}
    for tname, target in targets.items():
        where = "targets.%s" % tname
        if not isinstance(target, dict):
            errors.append("%s: must be a mapping" % where)
            continue
        _unknown(where, target, _TARGET_KEYS, errors)
        hosts = target.get("hosts")
        if not isinstance(hosts, str) or not hosts:
            errors.append("%s: hosts (an inventory group or host) is required" % where)
        root = target.get("root")
        if root is not None and not (isinstance(root, str) and root.startswith("/")):
            errors.append("%s: root must be an absolute path, got %r" % (where, root))
        url = target.get("ollama_url", "http://127.0.0.1:11434")
        if not _is_url(url):
            errors.append("%s: ollama_url must be an http(s) URL, got %r" % (where, url))
        reg = target.get("ollama_registry")
        if reg is not None and not (isinstance(reg, str) and reg and "/" not in reg.split("://")[-1]):
            errors.append("%s: ollama_registry must be host[:port], got %r" % (where, reg))
        if not isinstance(target.get("ollama_insecure", False), bool):
            errors.append("%s: ollama_insecure must be true or false" % where)
        models = []
        seen = set()
        ollama = target.get("ollama", []) or []
        if not isinstance(ollama, list):
            errors.append("%s.ollama: must be a list" % where)
            ollama = []
        for i, entry in enumerate(ollama):
            norm = _check_ollama("%s.ollama[%d]" % (where, i), entry, errors)
            if norm is not None:
                if norm["name"] in seen:
                    errors.append("%s.ollama[%d] (%s): listed twice" % (where, i, norm["name"]))
                seen.add(norm["name"])
                models.append(norm)
        files = []
        seen = set()
        raw_files = target.get("files", []) or []
        if not isinstance(raw_files, list):
            errors.append("%s.files: must be a list" % where)
            raw_files = []
        for i, entry in enumerate(raw_files):
            norm = _check_file("%s.files[%d]" % (where, i), entry, isinstance(root, str), errors, allow_unpinned)
            if norm is not None:
                if norm["name"] in seen:
                    errors.append("%s.files[%d] (%s): name used twice" % (where, i, norm["name"]))
                seen.add(norm["name"])
                files.append(norm)
        t = dict(target)
        t["ollama_url"] = url
        t["ollama"] = models
        t["files"] = files
        t.setdefault("prune", False)
        out_targets[tname] = t
    endpoint = data.get("hf_endpoint")
    if endpoint is not None and not (isinstance(endpoint, str) and re.match(r"^https?://", endpoint)):
        errors.append("shai_models.hf_endpoint: must be an http(s) URL, got %r" % (endpoint,))
    if errors:
        raise ManifestError(source, errors)
    out = dict(data)
    out["targets"] = out_targets
    return out


def contained_path(dest, filename):
    """``dest/filename`` if ``filename`` is one safe component and the resolved path (symlinks
    followed) stays under the resolved ``dest``; raises ManifestError otherwise."""
    problem = filename_problem(filename)
    if problem is not None:
        raise ManifestError("model_file", ["filename %s" % problem])
    import os

    path = os.path.join(dest, filename)
    real_dest = os.path.realpath(dest)
    real = os.path.realpath(path)
    if os.path.dirname(real) != real_dest and not real.startswith(real_dest.rstrip(os.sep) + os.sep):
        raise ManifestError("model_file", ["%s resolves to %s, outside %s" % (path, real, real_dest)])
    return path


def file_dest_dir(target, entry):
    """Absolute destination folder of a file entry."""
    dest = entry["dest"]
    if dest.startswith("/"):
        return dest.rstrip("/") or "/"
    return "%s/%s" % (target["root"].rstrip("/"), dest.strip("/"))
