"""The k3s role documents every public variable: defaults <-> argument_specs <-> README table."""

from __future__ import annotations

from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "k3s"


def _spec_options() -> set[str]:
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name for entry in spec.values() for name in entry["options"]}


def test_every_default_is_specified_and_every_option_has_a_default() -> None:
    defaults = set(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    assert defaults == _spec_options()


def test_public_names_and_internal_prefix() -> None:
    assert all(name.startswith("k3s_") for name in _spec_options())
    internal = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert all(name.startswith("__k3s_") for name in internal)


def test_readme_table_lists_every_option() -> None:
    readme = (ROLE / "README.md").read_text()
    lines = [line for line in readme.splitlines() if line.startswith("| `k3s_")]
    rows = {line.split("|")[1].strip().strip("`") for line in lines}
    assert rows == _spec_options()


def test_templates_start_with_ansible_managed() -> None:
    for template in (ROLE / "templates").glob("*.j2"):
        assert template.read_text().startswith("{{ ansible_managed | comment }}"), template.name
