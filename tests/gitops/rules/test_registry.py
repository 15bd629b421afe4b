"""The registry: unique kebab-case ids, a description each, one test module per rule module."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import GitopsError
from rule_fixtures import context


def test_ids_unique_kebab_and_described() -> None:
    ids = rules.rule_ids()
    assert len(ids) == len(set(ids))
    for rule in rules.RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id), rule
        assert rule.description


def test_every_rule_module_is_registered() -> None:
    pkg = Path(rules.__file__).parent
    modules = sorted(p.stem for p in pkg.glob("*.py") if not p.stem.startswith("_"))
    for name in modules:
        module = importlib.import_module(f"{rules.__name__}.{name}")
        assert module.RULE in rules.RULES, name
    assert len(modules) == len(rules.RULES)


def test_unknown_rule_selected() -> None:
    with pytest.raises(GitopsError, match="unknown rule"):
        rules.run(context(), select=["nope"])
