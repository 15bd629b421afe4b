"""Unknown keys in the GitOps values are errors naming the key and the known one (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_values_check import check_values

from shai.gitops import core

DEFAULTS = {
    "gitops_repo_url": "",
    "gitops_components": {"traefik": {"enabled": True, "wave": 0, "namespace": "traefik"}},
    "gitops_namespaces": {"traefik": {"network": {"kube_api": True}}},
}


def test_known_keys_and_playbook_variables_pass() -> None:
    overrides = {
        "gitops_repo_url": "git://x/platform.git",
        "gitops_tree_dir": "/tmp/t",  # read by playbooks/gitops.yml, not by the templates
        "gitops_components": {"traefik": {"wave": 1}},
        "gitops_namespaces": {"extra": {"mesh": True, "network": {"gpu": True}}},  # a new namespace is fine
        "shai_domain": "example.test",
    }
    assert check_values(DEFAULTS, overrides) == []


def test_typos_and_unknown_components_name_the_key_and_suggest() -> None:
    overrides = {
        "gitops_repo_ulr": "git://x",
        "gitops_components": {"traefick": {"enabled": True}, "traefik": {"wavee": 2}},
        "gitops_namespaces": {"traefik": {"netwrok": {}}, "extra": {"network": {"kube_apii": True}}},
    }
    assert check_values(DEFAULTS, overrides) == [
        "inventory: unknown GitOps variable 'gitops_repo_ulr' (did you mean 'gitops_repo_url'?)",
        "gitops_components: unknown name 'traefick' (did you mean 'traefik'?)",
        "gitops_components.traefik: unknown key 'wavee' (did you mean 'wave'?)",
        "gitops_namespaces.extra.network: unknown key 'kube_apii' (did you mean 'kube_api'?)",
        "gitops_namespaces.traefik: unknown key 'netwrok' (did you mean 'network'?)",
    ]


def test_the_loader_refuses_them(tmp_path: Path) -> None:
    layout = core.Layout.default()
    with pytest.raises(core.GitopsError, match=r"unknown name 'traefick' \(did you mean 'traefik'\?\)"):
        core.load_values(layout, {"gitops_components": {"traefick": {"enabled": True}}})


def test_the_repository_values_are_all_known() -> None:
    import yaml

    defaults = yaml.safe_load(core.Layout.default().values.read_text())
    assert check_values(defaults, {}) == []
