# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load a rendered tree into Objs and build the rules' Context.

Reads every ``.yaml``, ``.yml`` and ``.json`` file (what an ArgoCD directory source applies),
expands ``kind: List`` into its items (a Secret inside a List is a Secret), and says which
Application deploys each object (the longest directory-source path that contains its file).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError, load_documents
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import (
    Context,
    Finding,
    Obj,
    WAVE_ANNOTATION,
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def is_application(doc):
    return (
        isinstance(doc, dict)
        and doc.get("kind") == "Application"
        and str(doc.get("apiVersion", "")).startswith("argoproj.io/")
    )


def app_sources(doc):
    """(json path, source) of an Application's source(s)."""
    spec = doc.get("spec") or {}
    if spec.get("sources"):
        return [("spec.sources[%d]" % i, s) for i, s in enumerate(spec["sources"]) if isinstance(s, dict)]
    if isinstance(spec.get("source"), dict):
        return [("spec.source", spec["source"])]
    return []


def app_wave(doc):
    """The integer sync wave of an object (0 when unset), None when it is not an integer."""
    raw = ((doc.get("metadata") or {}).get("annotations") or {}).get(WAVE_ANNOTATION, "0")
    try:
        return int(str(raw))
    except ValueError:
        return None


def expand_documents(docs, rel):
    """[(doc, field prefix)]: `kind: List` (and *List) documents expanded into their items,
    anything that is not a mapping reported. Returns (docs, findings)."""
    out = []
    findings = []
    for doc in docs:
        if not isinstance(doc, dict):
            findings.append(Finding("yaml", rel, "(document)", "", "not a mapping"))
            continue
        kind = str(doc.get("kind") or "")
        if kind.endswith("List") and isinstance(doc.get("items"), list) and doc.get("apiVersion") == "v1":
            for i, item in enumerate(doc["items"]):
                if isinstance(item, dict):
                    out.append(item)
                else:
                    findings.append(Finding("yaml", rel, "%s items[%d]" % (kind, i), "", "not a mapping"))
            continue
        out.append(doc)
    return out, findings


def parse_file(text, rel):
    """The documents of one manifest file (YAML stream or one JSON document)."""
    if rel.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise GitopsError("%s: invalid JSON: %s" % (rel, exc))
        return data if isinstance(data, list) else [data]
    return load_documents(text, rel)


def load_tree_objects(tree_dir):
    """([(relative file, document)], [Finding]) for every manifest file of a tree."""
    objects = []
    findings = []
    for dirpath, dirnames, filenames in os.walk(tree_dir):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, tree_dir).replace(os.sep, "/")
            with open(full) as handle:
                text = handle.read()
            try:
                docs = parse_file(text, rel)
            except GitopsError as exc:
                findings.append(Finding("yaml", rel, "(file)", "", str(exc).split(": ", 1)[-1]))
                continue
            docs, bad = expand_documents(docs, rel)
            findings.extend(bad)
            objects.extend((rel, doc) for doc in docs)
    objects.sort(key=lambda item: item[0])
    return objects, findings


def directory_owners(docs):
    """[(path, Application name)] of the directory sources of the tree's Applications."""
    owners = []
    for doc in docs:
        if not is_application(doc):
            continue
        for _prefix, source in app_sources(doc):
            if source.get("path") is not None and not source.get("chart"):
                owners.append((str(source["path"]).strip("/"), (doc.get("metadata") or {}).get("name")))
    return owners


def owner_of(rel, owners):
    """The Application whose directory source holds file rel (longest path wins), or None."""
    best = None
    for path, name in owners:
        if path and (rel == path or rel.startswith(path + "/")) and (best is None or len(path) > len(best[0])):
            best = (path, name)
    return best[1] if best else None


def tree_objs(pairs):
    """[(rel, doc)] -> [Obj] with the deploying Application of each object."""
    owners = directory_owners(doc for _rel, doc in pairs)
    return [Obj(doc, rel, owner_of(rel, owners), False) for rel, doc in pairs]


def build_context(objects, kube_version, crd_dir=None, unverified=None):
    """The Context of a list of Objs (tree + rendered)."""
    apps = {}
    for obj in objects:
        if is_application(obj.doc) and obj.name and not obj.rendered:
            apps.setdefault(obj.name, obj)
    return Context(
        objects=list(objects),
        applications=apps,
        unverified=dict(unverified or {}),
        kube_version=kube_version,
        crd_dir=crd_dir,
    )
