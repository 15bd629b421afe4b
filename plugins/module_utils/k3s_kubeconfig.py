# -*- coding: utf-8 -*-
# Copyright: vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge a k3s kubeconfig into an existing kubeconfig without clobbering other contexts.

The one implementation used by the ``vectorweight.shai.k3s_kubeconfig`` module and by
anything in ``src/shai`` that needs the same behaviour. Pure functions on dicts, no I/O.
"""

from __future__ import annotations

import copy
import hashlib

SECTIONS = ("clusters", "users", "contexts")
_SECRET_KEYS = frozenset(
    (
        "client-key-data",
        "client-certificate-data",
        "token",
        "password",
        "certificate-authority-data",
    )
)


class KubeconfigError(ValueError):
    """The kubeconfig content is not usable (names the reason)."""


def empty_kubeconfig():
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": "",
    }


def _single(cfg, section):
    items = cfg.get(section) or []
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise KubeconfigError(
            "the k3s kubeconfig must hold exactly one entry in '%s' (found %d)"
            % (section, len(items) if isinstance(items, list) else 0)
        )
    return copy.deepcopy(items[0])


def rename(new, name, server=None):
    """Return the single cluster/user/context of a k3s kubeconfig renamed to ``name``.

    ``server`` (when given) replaces ``clusters[0].cluster.server``.
    """
    if not isinstance(new, dict):
        raise KubeconfigError("the k3s kubeconfig is not a YAML mapping")
    if not name:
        raise KubeconfigError("the context name must not be empty")
    cluster = _single(new, "clusters")
    user = _single(new, "users")
    context = _single(new, "contexts")
    if not isinstance(cluster.get("cluster"), dict):
        raise KubeconfigError("clusters[0] has no 'cluster' mapping")
    cluster["name"] = name
    if server:
        cluster["cluster"]["server"] = server
    user["name"] = name
    ctx = context.get("context") or {}
    ctx["cluster"] = name
    ctx["user"] = name
    context["context"] = ctx
    context["name"] = name
    return {"clusters": cluster, "users": user, "contexts": context}


def merge(existing, new, name, server=None, set_current=True):
    """Merge the k3s kubeconfig ``new`` into ``existing`` under ``name``.

    Entries of other names are kept untouched and in order; an entry of the same name is
    replaced in place. ``current-context`` is set to ``name`` when ``set_current`` is true
    or when the existing file has none.
    """
    result = copy.deepcopy(existing) if existing else empty_kubeconfig()
    if not isinstance(result, dict):
        raise KubeconfigError("the existing kubeconfig is not a YAML mapping")
    entries = rename(new, name, server)
    for section in SECTIONS:
        items = result.get(section)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise KubeconfigError("the existing kubeconfig's '%s' is not a list" % section)
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("name") == name:
                items[index] = entries[section]
                break
        else:
            items.append(entries[section])
        result[section] = items
    result.setdefault("apiVersion", "v1")
    result.setdefault("kind", "Config")
    if set_current or not result.get("current-context"):
        result["current-context"] = name
    return result


def remove(existing, name):
    """Remove the cluster/user/context called ``name``; other entries are kept."""
    if not existing:
        return existing
    result = copy.deepcopy(existing)
    for section in SECTIONS:
        items = result.get(section)
        if isinstance(items, list):
            result[section] = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
    if result.get("current-context") == name:
        result["current-context"] = ""
    return result


def redact(cfg):
    """A copy safe to show in a diff: secret values replaced by a short fingerprint."""

    def _walk(value):
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in _SECRET_KEYS and isinstance(item, str):
                    digest = hashlib.sha256(item.encode("utf-8")).hexdigest()[:12]
                    out[key] = "<redacted sha256:%s>" % digest
                else:
                    out[key] = _walk(item)
            return out
        if isinstance(value, list):
            return [_walk(i) for i in value]
        return value

    return _walk(cfg)
