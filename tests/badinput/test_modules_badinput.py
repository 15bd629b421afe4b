"""Bad input against the collection's modules (issue 14), run as on a target (a subprocess).

Each case: the task fails, the message names the problem, no traceback, nothing written or removed
outside the place asked for (the workspace hashed before and after), the token never in the result.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import run_module, tree_digest

TOKEN = "hf_module_secret_0123456789"
SHA = "ab" * 32


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Case:
    id: str
    module: str
    args: dict[str, Any]
    words: list[str]
    setup: Callable[[Path], None] | None = None
    check: bool = False


def _victim(root: Path) -> None:
    (root / "models").mkdir()
    (root / "victim.bin").write_text("keep me\n")


def _escaping_link(root: Path) -> None:
    _victim(root)
    (root / "models" / "x.bin").symlink_to("../victim.bin")


def _non_bare(root: Path) -> None:
    (root / "tree" / "apps").mkdir(parents=True)
    (root / "tree" / "apps" / "a.yaml").write_text("kind: ConfigMap\n")
    subprocess.run(["git", "init", "--quiet", "--initial-branch", "main", str(root / "work")], check=True)


URL = "http://127.0.0.1:9/x.bin"  # never contacted: every case fails before the download
CASES = [
    # class 2 (old: model_file wrote / removed outside dest)
    Case(
        "model_file-filename-dotdot",
        "model_file",
        {"url": URL, "sha256": SHA, "dest": "{ws}/models", "filename": "../victim.bin"},
        ["filename must be a single file name", "'../victim.bin'"],
        _victim,
    ),
    Case(
        "model_file-filename-abs",
        "model_file",
        {"url": URL, "sha256": SHA, "dest": "{ws}/models", "filename": "{ws}/victim.bin"},
        ["filename must be a single file name"],
        _victim,
    ),
    Case(
        "model_file-absent-dotdot",
        "model_file",
        {"dest": "{ws}/models", "filename": "../victim.bin", "state": "absent"},
        ["filename must be a single file name"],
        _victim,
    ),
    Case(
        "model_file-absent-dotdot-check",
        "model_file",
        {"dest": "{ws}/models", "filename": "..", "state": "absent"},
        ["filename must be a single file name"],
        _victim,
        check=True,
    ),
    Case(
        "model_file-symlink-out-of-dest",
        "model_file",
        {"url": URL, "sha256": SHA, "dest": "{ws}/models", "filename": "x.bin"},
        ["outside", "models"],
        _escaping_link,
    ),
    Case(
        "model_file-symlink-out-of-dest-absent",
        "model_file",
        {"dest": "{ws}/models", "filename": "x.bin", "state": "absent"},
        ["outside"],
        _escaping_link,
    ),
    Case(
        "model_file-url-name-dotdot",
        "model_file",
        {"url": "http://127.0.0.1:9/a/..", "sha256": SHA, "dest": "{ws}/models"},
        ["filename must be a single file name"],
        _victim,
    ),
    # other bad input
    Case(
        "model_file-bad-sha256",
        "model_file",
        {"url": URL, "sha256": "zz", "dest": "{ws}/models"},
        ["sha256 must be 64 hex characters", "'zz'"],
        _victim,
    ),
    Case(
        "model_file-url-without-sha256",
        "model_file",
        {"url": URL, "dest": "{ws}/models"},
        ["sha256 is required with url"],
        _victim,
    ),
    Case(
        "model_file-dest-missing",
        "model_file",
        {"url": URL, "sha256": SHA, "dest": "{ws}/nope"},
        ["destination folder", "nope does not exist"],
    ),
    Case(
        "ollama_model-unreachable",
        "ollama_model",
        {"name": ["llama3.1:8b"], "api_url": "http://127.0.0.1:{port}"},
        ["cannot reach Ollama at http://127.0.0.1:"],
    ),
    Case(
        "ollama_model-bad-name",
        "ollama_model",
        {"name": ["Not A Model!"], "api_url": "http://127.0.0.1:{port}"},
        ["invalid Ollama model name(s)", "Not A Model!"],
    ),
    Case(
        "ollama_model-digest-two-names",
        "ollama_model",
        {"name": ["a:1", "b:2"], "digest": SHA},
        ["digest needs exactly one name"],
    ),
    Case(
        "gitops_seed-src-missing",
        "gitops_seed",
        {"src": "{ws}/nope", "repo_url": "{ws}/repo.git"},
        ["nope is not a directory"],
    ),
    # old: three retries, then "the remote branch main ... kept moving"
    Case(
        "gitops_seed-non-bare-checked-out",
        "gitops_seed",
        {"src": "{ws}/tree", "repo_url": "{ws}/work"},
        ["non-bare repository with branch main checked out"],
        _non_bare,
    ),
]


def _fill(value: Any, ws: Path, port: int) -> Any:
    if isinstance(value, str):
        return value.replace("{ws}", str(ws)).replace("{port}", str(port))
    if isinstance(value, list):
        return [_fill(v, ws, port) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_module_bad_input(case: Case, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    if case.setup is not None:
        case.setup(ws)
    before = tree_digest(ws)
    args = {k: _fill(v, ws, _closed_port()) for k, v in case.args.items()}
    if case.module == "model_file":
        args["token"] = TOKEN
    result = run_module(case.module, args, check=case.check)
    text = json.dumps(result)
    assert result.get("failed") is True, text
    assert "Traceback" not in text and "module_stderr" not in result, text
    for word in case.words:
        assert word in result["msg"], text
    assert TOKEN not in text
    assert tree_digest(ws) == before, "the module changed the workspace"
