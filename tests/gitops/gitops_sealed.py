"""SealedSecrets for a scratch copy of a rendered tree: one per entry of secrets/catalog.yml, with
its sealed keys, labels and annotations, and placeholder ciphertext (what the secret-refs check
looks at: namespace, name, keys, annotations; nothing decrypts them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shai.gitops import core
from shai.secrets.catalog import load_catalog

CATALOG = core.repo_root() / "secrets" / "catalog.yml"


def sealed_docs(catalog: Path = CATALOG) -> list[dict[str, Any]]:
    docs = []
    for entry in load_catalog(catalog).entries.values():
        meta: dict[str, Any] = {"name": entry.name, "namespace": entry.namespace}
        if entry.labels:
            meta["labels"] = dict(entry.labels)
        if entry.annotations:
            meta["annotations"] = dict(entry.annotations)
        docs.append(
            {
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "metadata": {"name": entry.name, "namespace": entry.namespace},
                "spec": {
                    "encryptedData": {key: "AgBplaceholder==" for key in sorted(entry.sealed_keys)},
                    "template": {"metadata": meta},
                },
            }
        )
    return docs


def add_sealed_secrets(tree: Path, catalog: Path = CATALOG) -> int:
    """Write the catalog's SealedSecrets into tree/secrets/<namespace>/<name>.sealedsecret.yaml."""
    docs = sealed_docs(catalog)
    for doc in docs:
        meta = doc["metadata"]
        path = tree / "secrets" / meta["namespace"] / f"{meta['name']}.sealedsecret.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=True))
    return len(docs)
