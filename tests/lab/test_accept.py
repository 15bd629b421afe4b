"""`make lab`'s acceptance step (src/shai/lab/accept.py) without a lab: what it runs against."""

from __future__ import annotations

from pathlib import Path

import pytest

from shai.lab import accept
from shai.lab.lab import DEFAULT_LAB, LabState


def _state(inventory: str) -> LabState:
    return LabState("x", "10.213.4.0/24", "br", "10.213.4.1", "k", inventory, "http://p", "http://m", [])


def test_default_lab_is_checked_as_the_inventory_directory() -> None:
    state = _state("/repo/inventories/lab/hosts.yml")
    assert accept._inventory(DEFAULT_LAB, state) == "/repo/inventories/lab"
    assert accept._inventory("other", _state("/state/other/inventory.yml")) == "/state/other/inventory.yml"


def test_a_lab_that_is_not_up_is_not_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAI_CACHE", str(tmp_path))
    assert accept.main(["--name", "never-started"]) == 1


def test_makefile_lab_ends_with_the_acceptance_step() -> None:
    root = Path(__file__).resolve().parents[2]
    recipe = (root / "Makefile").read_text().split("\nlab: ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert recipe[-1].strip() == 'RUN="$(RUN)" scripts/lab-main.sh'
    # scripts/lab-main.sh: the acceptance step is the last thing it runs (then it prints durations).
    runs = [line.strip() for line in (root / "scripts" / "lab-main.sh").read_text().splitlines()]
    runs = [line for line in runs if line.startswith('"${run[@]}"')]
    assert runs[-1] == '"${run[@]}" python -m shai.lab.accept'


def _gpu_lab() -> LabState:
    from shai.lab.lab import HostState

    hosts = [
        HostState(name, groups, f"10.213.4.{10 + i}", f"m-{name}")
        for i, (name, groups) in enumerate(
            [
                ("homelab", ["k3s_server"]),
                ("akula-prime", ["gpu_workstation"]),
                ("akula-secundus", ["gpu_workstation"]),
            ]
        )
    ]
    return LabState("x", "10.213.4.0/24", "br", "10.213.4.1", "k", "i", "http://p", "http://m", hosts)


def test_ollama_is_checked_on_every_gpu_workstation(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def models(_state: LabState, host: str, address: str) -> list[str] | str:
        asked.append((host, address))
        return ["shai-tiny:latest"]

    monkeypatch.setattr(accept, "_ollama_models", models)
    code, found = accept.ollama_step(_gpu_lab())
    assert code == 0
    assert asked == [("akula-prime", "10.213.4.11"), ("akula-secundus", "10.213.4.12")]
    assert found == {"akula-prime": ["shai-tiny:latest"], "akula-secundus": ["shai-tiny:latest"]}


def test_one_silent_gpu_workstation_fails_the_acceptance(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def models(_state: LabState, host: str, _address: str) -> list[str] | str:
        return "not reachable (connection refused)" if host == "akula-secundus" else []

    monkeypatch.setattr(accept, "_ollama_models", models)
    code, found = accept.ollama_step(_gpu_lab())
    assert code == 1 and found["akula-prime"] == []
    assert "1 of 2 GPU workstation(s) did not answer: akula-secundus" in " ".join(
        capsys.readouterr().out.split()
    )


def test_a_lab_without_gpu_workstation_says_it_checked_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _gpu_lab()
    state.hosts = state.hosts[:1]
    monkeypatch.setattr(accept, "_ollama_models", lambda *_a: pytest.fail("no GPU workstation to ask"))
    assert accept.ollama_step(state) == (0, {})
    assert "no gpu_workstation host; not checked" in capsys.readouterr().out


def test_the_summary_lists_every_gpu_workstation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(accept, "_ssh_line", lambda *_a: "k3s version v1.37.0+k3s1")
    monkeypatch.setattr(accept, "_ollama_models", lambda *_a: pytest.fail("models already known"))
    accept.summary(_gpu_lab(), None, {"akula-prime": ["a"], "akula-secundus": "not reachable (x)"})
    out = capsys.readouterr().out
    assert "Ollama models on akula-prime: a" in out
    assert "Ollama models on akula-secundus: not reachable (x)" in out
    assert "http://10.213.4.11:11434" in out and "http://10.213.4.12:11434" in out
