# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage-scaling: a workload that runs more than one replica (HPA max > 1, or replicas > 1)
keeps no state where replicas would fight over it: no ReadWriteOnce PersistentVolumeClaim (the
second pod cannot attach it on another node, or both corrupt it on one), no SQLite. SQLite is
recognised by an env value naming sqlite, and by the images in SQLITE_UNLESS that fall back to
SQLite unless the named environment variable points at a server (ADR 0305)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules.quota_at_max import max_replicas

# image (without registry/tag) -> [(env var, accepted value prefixes, what falls back to SQLite)]
SQLITE_UNLESS = {
    "open-webui/open-webui": [
        ("DATABASE_URL", ("postgres://", "postgresql://", "mysql://"), "the app database"),
        ("VECTOR_DB", ("pgvector", "qdrant", "milvus", "opensearch", "elasticsearch"), "the RAG vector store (Chroma on SQLite)"),
    ],
    "n8nio/n8n": [("DB_TYPE", ("postgresdb", "mysqldb", "mariadb"), "workflows and credentials")],
}


def _repo(image):
    name = str(image or "").split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    parts = name.split("/")
    if len(parts) > 2 or (len(parts) == 2 and ("." in parts[0] or ":" in parts[0])):
        parts = parts[1:]
    return "/".join(parts)


class StorageScaling(Rule):
    id = "storage-scaling"
    description = "no ReadWriteOnce volume or SQLite in a workload with more than one replica"

    def check(self, ctx):
        hpas = max_replicas(ctx)
        for obj in ctx.workloads():
            if obj.kind not in ("Deployment", "StatefulSet", "ReplicaSet"):
                continue
            spec = obj.doc.get("spec") or {}
            replicas = hpas.get((obj.namespace, obj.kind, obj.name), spec.get("replicas", 1))
            if not isinstance(replicas, int) or replicas <= 1:
                continue
            why = "up to %d replicas" % replicas
            pod = ctx.pod_spec(obj) or {}
            base = ctx.pod_spec_path(obj)
            for i, volume in enumerate(pod.get("volumes") or []):
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                pvc = ctx.get("PersistentVolumeClaim", obj.namespace, claim) if claim else None
                modes = set(((pvc.doc.get("spec") or {}).get("accessModes") or [])) if pvc else set()
                if modes & {"ReadWriteOnce", "ReadWriteOncePod"} and "ReadWriteMany" not in modes:
                    yield obj.finding(self.id, "%s.volumes[%d].persistentVolumeClaim" % (base, i),
                                      "%s mounts PersistentVolumeClaim %s (%s) with %s: one node, one writer"
                                      % (obj.name, claim, ", ".join(sorted(modes)), why))
            for prefix, container in ctx.containers(obj):
                env = dict((e.get("name"), e) for e in container.get("env") or [] if isinstance(e, dict))
                for i, item in enumerate(container.get("env") or []):
                    if "sqlite" in str(item.get("value", "")).lower():
                        yield obj.finding(self.id, "%s.env[%d].value" % (prefix, i),
                                          "%s keeps state in SQLite (%s) with %s" % (obj.name, item.get("name"), why))
                for var, accepted, what in SQLITE_UNLESS.get(_repo(container.get("image")), []):
                    item = env.get(var)
                    value = str((item or {}).get("value", "")) if item and "valueFrom" not in item else None
                    if item is None or (value is not None and not value.lower().startswith(accepted)):
                        yield obj.finding(self.id, "%s.env[%s]" % (prefix, var),
                                          "%s keeps %s in SQLite unless %s names a server (%s), with %s"
                                          % (obj.name, what, var, ", ".join(accepted), why))


RULE = StorageScaling()
