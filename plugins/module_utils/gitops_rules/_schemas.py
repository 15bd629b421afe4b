# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Schemas of the `schema` rule: Kubernetes core kinds (kubernetes-validate, strict) and the CRDs
kept as data in gitops/crds (openAPIV3Schema, JSON schema draft 4 like the API server, strict:
unknown fields are errors instead of being pruned). Parsed CRDs are cached on disk."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

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

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError, _Loader, yaml


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
        out["additionalProperties"] = False
    return out


CACHE_FORMAT = b"strict-schema-2\0"  # bump when crd_schemas() changes what it derives


def crd_cache_path(files):
    """~/.cache/shai/gitops-crds-<sha256 of the CRD files>.json (parsing YAML is the slow part)."""
    import hashlib

    digest = hashlib.sha256(CACHE_FORMAT)
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
        with open(crd_cache_path(files)) as handle:
            data = json.load(handle)
        return dict((tuple(item["key"]), item["schema"]) for item in data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _crd_cache_store(files, schemas):
    """Best effort: a cache that cannot be written only costs time."""
    try:
        path = crd_cache_path(files)
        atomic_write(path, json.dumps([dict(key=list(k), schema=v) for k, v in sorted(schemas.items())]))
    except OSError:
        pass


def crd_schemas(crd):
    """{(group, version, kind): strict schema} of one CustomResourceDefinition document."""
    out = {}
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    for version in spec.get("versions") or []:
        if not isinstance(version, dict) or not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema and spec.get("group") and names.get("kind"):
            strict = strict_schema(schema)
            if isinstance(strict.get("properties"), dict):
                # Every object carries apiVersion/kind/metadata even when the CRD omits them.
                props = dict(strict["properties"])
                for key, kind in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
                    props.setdefault(key, {"type": kind})
                strict["properties"] = props
            out[(spec["group"], version["name"], names["kind"])] = strict
    return out


class CrdSchemas:
    """CRD openAPIV3Schemas (gitops/crds) keyed by (group, version, kind)."""

    def __init__(self, crd_dir):
        self.schemas = {}
        self.validators = {}
        files = sorted(glob.glob(os.path.join(str(crd_dir), "*.yaml"))) if crd_dir else []
        cached = _crd_cache_load(files)
        if cached is not None:
            self.schemas = cached
            return
        for full in files:
            with open(full) as handle:
                for crd in yaml.load_all(handle, Loader=_Loader):
                    if not crd or crd.get("kind") != "CustomResourceDefinition":
                        continue
                    self.schemas.update(crd_schemas(crd))
        _crd_cache_store(files, self.schemas)

    def with_extra(self, extra):
        """A copy that also knows the schemas in `extra` ({key: strict schema}, e.g. the CRDs a
        chart renders); the directory's CRDs win on a clash."""
        if not extra:
            return self
        out = CrdSchemas.__new__(CrdSchemas)
        out.schemas = dict(extra)
        out.schemas.update(self.schemas)
        out.validators = dict(self.validators)
        return out

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


SCHEMA_CACHE = {}


def schemas(crd_dir, kube_version):
    """(CoreSchemas, CrdSchemas) for a CRD directory and Kubernetes version (cached per process)."""
    key = (os.path.abspath(str(crd_dir)) if crd_dir else None, kube_version)
    if key not in SCHEMA_CACHE:
        SCHEMA_CACHE[key] = (CoreSchemas(kube_version), CrdSchemas(crd_dir))
    return SCHEMA_CACHE[key]
