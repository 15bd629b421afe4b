"""model-pins: every Hugging Face revision in the models manifest is a commit; every url: has a sha256."""

from __future__ import annotations

from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import models_manifest as mm

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding


def _count(manifest: dict[str, Any]) -> int:
    return sum(len(t.get("files") or []) + len(t.get("ollama") or []) for t in manifest["targets"].values())


def run(ctx: Context) -> list[Finding]:
    path = ctx.inventory_dir / "models.yml"
    shown = ctx.rel(path)
    if not path.is_file():
        return [
            CHECK.fail(
                f"{shown} does not exist (the models manifest, docs/models.md)",
                f"cp {ctx.rel(ctx.project / 'inventories' / 'example' / 'models.yml')} {shown}",
            )
        ]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        mm.validate(data, shown, allow_unpinned=True)
    except mm.ManifestError as exc:
        return [
            CHECK.fail(
                f"{shown}: {'; '.join(exc.errors)}",
                f"edit {shown} (every url: file needs its sha256: `sha256sum FILE`; docs/models.md)",
            )
        ]
    try:
        manifest = mm.validate(data, shown)
    except mm.ManifestError as exc:
        return [CHECK.fail(f"{shown}: {'; '.join(exc.errors)}", f"shai-models pin -i {ctx.inventory_arg()}")]
    return [CHECK.ok(f"{shown}: {_count(manifest)} models, every revision a commit, every url with sha256")]


CHECK = Check(
    id="model-pins",
    description="every model revision is pinned to a commit and every url: file has a sha256",
    offline=True,
    run=run,
)
