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
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = makefile.split("\nlab: ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert recipe[-1].strip() == "$(RUN) python -m shai.lab.accept"
