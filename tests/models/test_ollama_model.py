"""ollama_model against the REAL Ollama (built by tools/build.sh), serving on loopback.

A tiny llama GGUF (written with the gguf package) becomes a model through the real
``ollama create``; pulls come from the Ollama registry TEST DOUBLE (registry.ollama.ai is
unreachable here), which serves what ``ollama create`` wrote.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from modrun import run_module
from ollama_registry_double import OllamaRegistryDouble
from ollama_serve import ollama_with_tiny_model


def _ollama_binary() -> Path:
    try:
        from shai.tools import binary

        return Path(binary("ollama"))
    except Exception as exc:
        if os.environ.get("SHAI_REQUIRE_PEERS"):
            raise
        pytest.skip(f"ollama binary not built: {exc}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ollama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    exe = _ollama_binary()
    tmp = tmp_path_factory.mktemp("ollama")
    with ollama_with_tiny_model(exe, tmp, _free_port()) as served:
        yield served


def test_present_absent_idempotent_check_mode(ollama: tuple[str, Path, dict[str, str]]) -> None:
    url, models, _ = ollama
    with OllamaRegistryDouble(models) as reg:
        args = {"name": ["shai-tiny:latest"], "api_url": url, "registry": reg.host, "insecure": True}
        pulled_name = f"{reg.host}/library/shai-tiny:latest"

        pred = run_module("ollama_model", args, check=True, diff=True)
        assert pred["changed"] and pred["pulled"] == [pulled_name]
        assert pulled_name not in run_module("ollama_model", dict(args, pull=False))["models"]

        first = run_module("ollama_model", args)
        assert first["changed"] and first["pulled"] == [pulled_name], first
        prog = first["progress"][pulled_name]
        assert prog["statuses"][-1] == "success" and prog["layers"]
        assert any(line.startswith("GET /v2/library/shai-tiny/manifests/latest") for line in reg.log)
        assert pulled_name in first["models"]

        again = run_module("ollama_model", args)
        assert again["changed"] is False and again["pulled"] == []

        # already-present model by its plain name: no pull at all
        assert run_module("ollama_model", {"name": ["shai-tiny"], "api_url": url})["changed"] is False

        gone_pred = run_module("ollama_model", dict(args, state="absent"), check=True)
        assert gone_pred["changed"] and gone_pred["removed"] == [pulled_name]
        gone = run_module("ollama_model", dict(args, state="absent"))
        assert gone["changed"] and pulled_name not in gone["models"]
        assert run_module("ollama_model", dict(args, state="absent"))["changed"] is False


def test_error_inside_the_stream_fails(ollama: tuple[str, Path, dict[str, str]]) -> None:
    url, models, _ = ollama
    with OllamaRegistryDouble(models) as reg:
        res = run_module(
            "ollama_model",
            {"name": ["no-such-model:1b"], "api_url": url, "registry": reg.host, "insecure": True},
        )
    assert res.get("failed")
    assert "Ollama pull of" in res["msg"] and "failed" in res["msg"]


def test_prune_removes_unlisted_models(ollama: tuple[str, Path, dict[str, str]]) -> None:
    url, _models, env = ollama
    exe = _ollama_binary()
    subprocess.run([str(exe), "cp", "shai-tiny", "extra-tiny:1"], env=env, check=True, capture_output=True)
    pred = run_module("ollama_model", {"name": ["shai-tiny"], "api_url": url, "prune": True}, check=True)
    assert pred["removed"] == ["extra-tiny:1"] and pred["changed"]
    res = run_module("ollama_model", {"name": ["shai-tiny"], "api_url": url, "prune": True})
    assert res["changed"] and res["models"] == ["shai-tiny:latest"]


def test_unreachable_api_is_a_clear_error() -> None:
    res = run_module("ollama_model", {"name": ["x"], "api_url": f"http://127.0.0.1:{_free_port()}"})
    assert res.get("failed") and "cannot reach Ollama" in res["msg"]


def test_cli_sync_and_diff_pull_from_the_mirror(
    ollama: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    """`shai-models sync` → ansible-playbook → ollama_model → the real Ollama, from a mirror."""
    import json
    import sys

    import yaml
    from typer.testing import CliRunner

    from shai.models.cli import app

    url, models, _ = ollama
    inv = tmp_path / "hosts.yml"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
    }
    inv.write_text(yaml.safe_dump({"all": {"children": {"gpu_workstation": {"hosts": {"box": host}}}}}))
    with OllamaRegistryDouble(models) as reg:
        manifest = tmp_path / "models.yml"
        target = {
            "hosts": "gpu_workstation",
            "ollama_url": url,
            "ollama_registry": reg.host,
            "ollama_insecure": True,
            "ollama": ["shai-tiny:latest"],
        }
        manifest.write_text(yaml.safe_dump({"shai_models": {"targets": {"gpu_workstation": target}}}))
        base = ["-i", str(inv), "-m", str(manifest), "--json"]
        runner = CliRunner()
        pulled = f"{reg.host}/library/shai-tiny:latest"
        diff = runner.invoke(app, ["diff", *base])
        assert diff.exit_code == 1, diff.output
        first = runner.invoke(app, ["sync", *base])
        assert first.exit_code == 0, first.output
        items = json.loads(first.stdout[first.stdout.index("{") :])["items"]
        assert {i["name"]: i["status"] for i in items if i["kind"] == "ollama"}[pulled] == "changed"
        assert runner.invoke(app, ["diff", *base]).exit_code == 0
