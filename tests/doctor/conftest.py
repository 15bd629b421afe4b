from __future__ import annotations

from pathlib import Path

import pytest

from . import scratch


@pytest.fixture(scope="session")
def ready_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("doctor") / "project"
    scratch.build(project)
    return project


@pytest.fixture
def project(ready_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the ready project, the working directory, no vault password in the env."""
    dest = tmp_path / "project"
    scratch.copy(ready_project, dest)
    for env in ("SHAI_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.chdir(dest)
    return dest
