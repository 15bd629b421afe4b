"""The validate rules on a tree with several GPU workstations (ADR 0310): the 2-host test tree
passes (test_render.py), and breaking ONE host's wiring is caught and named — its egress, the
models its Service declares, the Service itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from gitops_sealed import add_sealed_secrets

from shai.gitops import core


def _edit(tree: Path, rel: str, change: Callable[[dict], dict | None]) -> None:
    path = tree / rel
    docs = [change(d) for d in yaml.safe_load_all(path.read_text()) if d]
    path.write_text(yaml.safe_dump_all([d for d in docs if d is not None], explicit_start=True))


def _errors(tree: Path, layout: core.Layout) -> list[str]:
    _count, findings = core.validate(tree, layout.crds, "1.33")
    return [str(f) for f in findings if f.severity == "error"]


@pytest.fixture
def two_hosts(tmp_path: Path, gpu_trees: dict[int, tuple[dict, dict[str, bytes]]]) -> Path:
    out = tmp_path / "tree"
    core.write(gpu_trees[2][1], out)
    add_sealed_secrets(out)
    return out


def test_one_hosts_egress_missing_is_caught(two_hosts: Path, layout: core.Layout) -> None:
    def drop_b(doc: dict) -> dict:
        if doc["metadata"]["name"] == "allow-gpu-workstation":
            doc["spec"]["egress"] = [
                r for r in doc["spec"]["egress"] if r["to"] != [{"ipBlock": {"cidr": "10.213.250.21/32"}}]
            ]
        return doc

    _edit(two_hosts, "platform/network-policies/ai-services.yaml", drop_b)
    errors = _errors(two_hosts, layout)
    assert errors, "a LiteLLM route to gpu-b without egress must be a finding"
    assert all("[endpoints]" in e for e in errors), errors
    assert any("ollama-gpu-gpu-b.gpu-workloads" in e and "10.213.250.21 port 11434" in e for e in errors), (
        errors
    )
    assert not any("10.213.250.20" in e for e in errors), errors


def test_one_host_without_a_routed_model_is_caught(two_hosts: Path, layout: core.Layout) -> None:
    def narrow_b(doc: dict) -> dict:
        if doc["kind"] == "Service" and doc["metadata"]["name"] == "ollama-gpu-gpu-b":
            doc["metadata"]["annotations"]["shai.vectorweight.com/ollama-models"] = "llama3.1:8b"
        return doc

    _edit(two_hosts, "platform/ollama-gpu/ollama-gpu.yaml", narrow_b)
    errors = _errors(two_hosts, layout)
    assert len(errors) == 2 and all("[models]" in e for e in errors), errors
    assert all(
        "Service gpu-workloads/ollama-gpu-gpu-b, whose Ollama pulls only llama3.1:8b" in e for e in errors
    )


def test_one_hosts_service_missing_is_caught(two_hosts: Path, layout: core.Layout) -> None:
    def drop_b(doc: dict) -> dict | None:
        labels = doc["metadata"].get("labels") or {}
        return None if labels.get("shai.vectorweight.com/gpu-host") == "gpu-b" else doc

    _edit(two_hosts, "platform/ollama-gpu/ollama-gpu.yaml", drop_b)
    errors = _errors(two_hosts, layout)
    assert any("[models]" in e and "ollama-gpu-gpu-b" in e for e in errors), errors
    assert any(
        "[endpoints]" in e and "Service gpu-workloads/ollama-gpu-gpu-b is not in the tree" in e
        for e in errors
    )
