"""The LiteLLM routing topology, started once per module: three real Ollama servers on loopback
(two GPU workstations and the CPU Ollama of tests/gitops/inventory/hosts-gpu2.yml) behind the
real LiteLLM proxy, configured with the config the GitOps tree renders for that inventory
(litellm_harness.py). The proxy's start-up (~30-60 s on 2 cores) is the suite's largest cost.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# --import-mode=importlib: make this directory's harness importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import litellm_harness as h


def _missing(reason: str) -> None:
    if os.environ.get("SHAI_REQUIRE_PEERS"):
        pytest.fail(f"SHAI_REQUIRE_PEERS is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def topology(peer: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[h.Topology]:
    ollama = peer("ollama")
    try:
        venv = h.litellm_venv()
    except FileNotFoundError as exc:
        _missing(str(exc))
        raise
    topo = h.start_topology(h.GPU2_INVENTORY, ollama, venv, tmp_path_factory.mktemp("litellm"))
    print(f"\nLiteLLM {h.litellm_version(venv)} proxy start-up: {topo.proxy.startup_seconds:.1f}s")
    try:
        yield topo
    finally:
        topo.stop()


@pytest.fixture
def topo(topology: h.Topology) -> h.Topology:
    """The topology with every Ollama running (a test that stops one leaves it to this fixture)."""
    topology.up()
    return topology
