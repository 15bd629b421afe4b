"""Dependencies honest (issue 15, item 10; ADR 0009): every runtime dependency in pyproject.toml
is imported by the toolkit or the collection, and textfile metrics have one writer."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# distribution -> import name, where they differ
IMPORT_NAME = {"pyyaml": "yaml", "ansible-core": "ansible", "huggingface-hub": "huggingface_hub"}


def _imports(*dirs: str) -> set[str]:
    found: set[str] = set()
    for d in dirs:
        for path in (ROOT / d).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def test_every_runtime_dependency_is_imported() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in deps]
    imported = _imports("src", "plugins")
    unused = [n for n in names if IMPORT_NAME.get(n, n.replace("-", "_")) not in imported]
    assert not unused, f"runtime dependencies nothing imports (drop them or use them): {unused}"


def test_one_textfile_metrics_writer() -> None:
    """The exposition text is written by module_utils/drift_metrics.py only; prometheus_client
    is a test dependency (its parser checks that text), never imported by shipped code."""
    assert "prometheus_client" not in _imports("src", "plugins")
    assert "jmespath" not in _imports("src", "plugins")
