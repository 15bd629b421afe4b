"""storage-scaling: no ReadWriteOnce volume or SQLite in a workload with more than one replica."""

from __future__ import annotations

from rule_fixtures import Doc, deployment, findings, obj

OWUI = "ghcr.io/open-webui/open-webui:v0.6.26"


def _hpa(name: str, ns: str, maximum: int) -> Doc:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "maxReplicas": maximum,
        },
    }


def _pvc(name: str, ns: str, mode: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"accessModes": [mode], "resources": {"requests": {"storage": "1Gi"}}},
    }


def _with_volume(doc: Doc, claim: str) -> Doc:
    doc["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": claim}}
    ]
    return doc


SERVERS = [
    {"name": "DATABASE_URL", "value": "postgresql://$(U):$(P)@postgresql:5432/openwebui"},
    {"name": "VECTOR_DB", "value": "pgvector"},
]


def test_good() -> None:
    web = _with_volume(deployment("open-webui", "ai", OWUI, env=SERVERS), "files")
    assert (
        findings(
            "storage-scaling",
            obj(web),
            obj(_hpa("open-webui", "ai", 3)),
            obj(_pvc("files", "ai", "ReadWriteMany")),
        )
        == []
    )
    # one replica: RWO and SQLite are fine
    single = _with_volume(deployment("open-webui", "ai", OWUI), "files")
    assert findings("storage-scaling", obj(single), obj(_pvc("files", "ai", "ReadWriteOnce"))) == []


def test_open_webui_sqlite_on_a_shared_volume_at_three_replicas() -> None:
    """The issue's example: Open WebUI keeps SQLite (no DATABASE_URL) while its HPA scales it to 3."""
    web = _with_volume(deployment("open-webui", "ai", OWUI), "data")
    out = findings(
        "storage-scaling",
        obj(web, "platform/open-webui/open-webui.yaml", app="open-webui"),
        obj(_hpa("open-webui", "ai", 3)),
        obj(_pvc("data", "ai", "ReadWriteOnce")),
    )
    prefix = "platform/open-webui/open-webui.yaml: Deployment ai/open-webui: spec.template.spec"
    assert out == [
        f"{prefix}.volumes[0].persistentVolumeClaim: open-webui mounts PersistentVolumeClaim data "
        "(ReadWriteOnce) "
        "with up to 3 replicas: one node, one writer [storage-scaling]",
        f"{prefix}.containers[0].env[DATABASE_URL]: open-webui keeps the app database in SQLite unless "
        "DATABASE_URL "
        "names a server (postgres://, postgresql://, mysql://), with up to 3 replicas [storage-scaling]",
        f"{prefix}.containers[0].env[VECTOR_DB]: open-webui keeps the RAG vector store (Chroma on SQLite) "
        "in SQLite "
        "unless VECTOR_DB names a server (pgvector, qdrant, milvus, opensearch, elasticsearch), with up to 3 "
        "replicas [storage-scaling]",
    ]


def test_sqlite_url_with_static_replicas() -> None:
    doc = deployment("app", "ai", env=[{"name": "DB", "value": "sqlite:////data/app.db"}])
    doc["spec"]["replicas"] = 2
    [line] = findings("storage-scaling", obj(doc))
    assert (
        "spec.template.spec.containers[0].env[0].value: app keeps state in SQLite (DB) with up to 2 replicas"
        in line
    )
