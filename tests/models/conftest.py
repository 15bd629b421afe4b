"""Fixtures for the models tests: the Hugging Face Hub TEST DOUBLE on loopback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hub_double import HubDouble

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubDouble]:
    """A running Hub test double; HF_ENDPOINT points at it, HF_HOME is private to the test."""
    with HubDouble() as h:
        monkeypatch.setenv("HF_ENDPOINT", h.endpoint)
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.delenv("HF_TOKEN", raising=False)
        yield h


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """A small model repo: two LFS weights, a config and a nested text file."""
    d = tmp_path / "repo-src"
    (d / "sub").mkdir(parents=True)
    (d / "model.safetensors").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (d / "speakers.pth").write_bytes(os.urandom(512 * 1024))
    (d / "config.json").write_text('{"model_type": "xtts"}\n')
    (d / "sub" / "vocab.txt").write_text("a\nb\nc\n")
    return d
