"""Repository-wide rules that no single area's tests would catch."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()) if (ROOT / "roles").is_dir() else []
MODULES = sorted(p for p in (ROOT / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
REFUSAL_MARKER = "# network-rule: homelab addresses appear here only to prove the lab refuses them."
HOMELAB_NET = re.compile(r"\b192\.168\.\d{1,3}\.\d{1,3}\b")


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_the_standard_files(role: Path) -> None:
    for rel in ("meta/argument_specs.yml", "meta/main.yml", "README.md", "tasks/main.yml"):
        assert (role / rel).is_file(), f"{role.name}: {rel} is missing"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_public_variables_are_prefixed(role: Path) -> None:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    prefix = role.name.lstrip("_")
    for entry, spec in specs.items():
        for name in spec.get("options") or {}:
            assert name.startswith(prefix + "_") or name.startswith("shai_"), (
                f"{role.name}: argument_specs entry {entry!r} option {name!r} must start with {prefix}_"
            )


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.stem)
def test_module_documents_check_and_diff_mode(module: Path) -> None:
    tree = ast.parse(module.read_text())
    docs = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for name in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert name in docs, f"{module.name}: {name} is missing"
    doc = yaml.safe_load(docs["DOCUMENTATION"])
    attributes = doc.get("attributes") or {}
    assert "check_mode" in attributes, f"{module.name}: DOCUMENTATION has no attributes.check_mode"
    assert "diff_mode" in attributes, f"{module.name}: DOCUMENTATION has no attributes.diff_mode"
    assert "supports_check_mode=True" in module.read_text().replace(" ", ""), module.name


def _test_and_lab_files() -> list[Path]:
    out: list[Path] = []
    for base in ("tests", "extensions/molecule", "inventories/lab", "benchmarks"):
        d = ROOT / base
        if d.is_dir():
            out += [
                p for p in d.rglob("*") if p.is_file() and p.suffix in {".py", ".yml", ".yaml", ".j2", ".sh"}
            ]
    return out


def test_tests_and_lab_never_name_homelab_addresses() -> None:
    """The network rule: nothing that runs in tests or the lab may target 192.168.0.0/16."""
    offenders = []
    for path in _test_and_lab_files():
        if path == Path(__file__).resolve() or "golden" in path.parts:
            continue
        text = path.read_text(errors="replace")
        if REFUSAL_MARKER in text:  # a test proving the lab refuses these addresses
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if HOMELAB_NET.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not offenders, "homelab-range addresses in tests/lab files:\n" + "\n".join(offenders)


def test_site_imports_existing_playbooks() -> None:
    site = yaml.safe_load((ROOT / "site.yml").read_text())
    for play in site:
        target = play.get("ansible.builtin.import_playbook")
        assert target, f"site.yml entry {play.get('name')!r} must be an ansible.builtin.import_playbook"
        assert (ROOT / target).is_file(), f"site.yml imports {target}, which does not exist"


def test_homelab_inventory_matches_the_architecture() -> None:
    inv = yaml.safe_load((ROOT / "inventories" / "homelab" / "hosts.yml").read_text())
    children = inv["all"]["children"]
    server = children["k3s_cluster"]["children"]["k3s_server"]["hosts"]
    assert server["homelab"]["ansible_host"] == "192.168.1.170"
    assert children["gpu_workstation"]["hosts"]["akula-prime"]["ansible_host"] == "192.168.1.99"
