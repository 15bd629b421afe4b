"""A scratch project ready for a first run (offline checks pass), for breaking one check at a time.

Built with the real tools: ``shai init`` writes the inventory from inventories/example,
``shai-secrets`` creates the vault, the sealing key, the values and the sealed files, git commits
them. Only the pins an operator would look up upstream (ComfyUI commit, Ollama sha256, model
revisions) are filled in with fixed test values: nothing here reaches the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from shai.init import create

ROOT = Path(__file__).resolve().parents[2]
NAME = "scratch"
CATALOG = """\
version: 1
secrets:
  - id: demo
    rotate: online
    service: demo
    description: a demo credential
    name: demo-credentials
    namespace: demo
    keys:
      password: {generator: password, length: 16}
"""
MODELS = """\
---
shai_models:
  targets:
    gpu_workstation:
      hosts: gpu_workstation
      root: /srv/models
      ollama:
        - name: llama3.1:8b
      files:
        - name: tiny
          url: https://models.example.com/tiny.gguf
          sha256: 0f2270c5666afc69279da41c606b4a1370388c4f0b6aab8f02d1f997aa611be4
          dest: llm
"""
PINS = """\
---
comfyui_version: 0123456789abcdef0123456789abcdef01234567
ollama_archive_sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
"""


def git(project: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    argv = ["git", "-C", str(project), *args]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    return done.stdout


def secrets_cli(project: Path, *args: str) -> None:
    exe = Path(sys.executable).parent / "shai-secrets"
    vault = project / "inventories" / NAME / "group_vars" / "all" / "vault.yml"
    env = {**os.environ, "ANSIBLE_VAULT_PASSWORD_FILE": str(project / "vault-pass")}
    subprocess.run(
        [str(exe), "--catalog", "secrets/catalog.yml", "--gitops", "gitops", "--vault", str(vault), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def build(project: Path) -> Path:
    """Create the ready project under ``project``; returns its inventory directory."""
    (project / "secrets").mkdir(parents=True)
    (project / "secrets" / "catalog.yml").write_text(CATALOG)
    (project / "gitops").mkdir()
    (project / "roles").symlink_to(ROOT / "roles")
    (project / "vault-pass").write_text("scratch-vault-password\n")
    (project / ".gitignore").write_text("vault-pass\n*.local.md\n")
    inventory = create(project, NAME, "example.com", "server=192.0.2.10", "gpu=192.0.2.20")
    (inventory / "models.yml").write_text(MODELS)
    (inventory / "group_vars" / "gpu_workstation" / "pins.yml").write_text(PINS)
    for line in ("comfyui_version:", "ollama_archive_sha256:"):
        for path in (inventory / "group_vars" / "gpu_workstation").glob("*.yml"):
            if path.name != "pins.yml":
                kept = [ln for ln in path.read_text().splitlines() if not ln.startswith(line)]
                path.write_text("\n".join(kept) + "\n")
    secrets_cli(project, "keygen", "--bits", "2048")
    secrets_cli(project, "generate")
    secrets_cli(project, "seal")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "ready")
    return inventory


def copy(ready: Path, dest: Path) -> Path:
    """A private copy of a ready project (symlinks kept); returns its inventory directory."""
    shutil.copytree(ready, dest, symlinks=True)
    return dest / "inventories" / NAME
