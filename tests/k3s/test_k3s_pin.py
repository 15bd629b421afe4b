"""One k3s version: the homelab installs exactly the version the lab tests (issue 15, item 4).

The pin has one place, ``roles/k3s/defaults/main.yml`` ``k3s_version``. Everything else reads it:
the argument_specs default, ``tools/build.sh`` (stamps the k3s TEST DOUBLE and publishes it in the
lab mirror under that version), the lab (no override) and the homelab (no override). These tests
fail as soon as any of them differs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = ROOT / "roles" / "k3s" / "defaults" / "main.yml"
BUILD = ROOT / "tools" / "build.sh"
RELEASE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$")


def _pin() -> str:
    return str(yaml.safe_load(DEFAULTS.read_text())["k3s_version"])


def _build_var(name: str) -> str:
    """The value tools/build.sh assigns to NAME, evaluated the way bash does (first assignment)."""
    line = next(ln for ln in BUILD.read_text().splitlines() if ln.startswith(f"{name}="))
    script = f'TOOLS_DIR={ROOT / "tools"}\n{line}\nprintf %s "${name}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout


def test_pin_is_a_release_on_the_kube_harness_minor() -> None:
    pin = RELEASE.match(_pin())
    assert pin, f"k3s_version {_pin()!r} is not a k3s release tag"
    kube = re.match(r"^v(\d+)\.(\d+)\.\d+$", _build_var("KUBE_VERSION"))
    assert kube and kube.groups() == pin.groups()[:2], "the kube harness must run the pin's Kubernetes minor"
    gomod = (ROOT / "tools" / "kube" / "go.mod").read_text()
    assert re.search(rf"^\s*k8s\.io/kubernetes v{kube.group(1)}\.{kube.group(2)}\.", gomod, re.M)


def test_build_stamps_the_double_with_the_pin() -> None:
    assert _build_var("K3S_DOUBLE_VERSION") == _pin()


def test_argument_specs_default_is_the_pin() -> None:
    spec = yaml.safe_load((ROOT / "roles" / "k3s" / "meta" / "argument_specs.yml").read_text())
    defaults = {
        entry: opts["k3s_version"].get("default")
        for entry, body in spec["argument_specs"].items()
        if "k3s_version" in (opts := body["options"])
    }
    assert defaults and set(defaults.values()) == {_pin()}, defaults


@pytest.mark.parametrize("inventory", ["homelab", "lab", "example"])
def test_no_inventory_pins_another_version(inventory: str) -> None:
    root = ROOT / "inventories" / inventory
    if not root.is_dir():
        pytest.skip(f"no inventories/{inventory}")
    for path in sorted(root.rglob("*.yml")):
        data = yaml.safe_load(path.read_text())
        found = data.get("k3s_version", _pin()) if isinstance(data, dict) else _pin()
        assert found == _pin(), f"{path.relative_to(ROOT)}: k3s_version {found!r}, the lab tests {_pin()!r}"


def test_docs_name_the_pin() -> None:
    assert _pin() in (ROOT / "docs" / "k3s.md").read_text()


def test_built_double_reports_the_pin(peer: Callable[[str], Path]) -> None:
    """The k3s test double in the cache (make tools) says exactly the pinned version."""
    from shai import tools

    k3s = peer("k3s")
    out = subprocess.run([str(k3s), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split()[:3] == ["k3s", "version", _pin()], f"rebuild the double (make tools): {out}"
    published = tools.mirror_dir() / "k3s" / _pin() / "k3s"
    if published.exists():
        assert published.read_bytes() == k3s.read_bytes(), "lab mirror holds a different k3s double"
