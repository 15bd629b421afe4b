"""The lab inventory's tree (inventories/lab/group_vars + a lab-style hosts file, as `shai lab up`
writes it) renders and passes every check with the catalog's SealedSecrets."""

from __future__ import annotations

from pathlib import Path

from gitops_sealed import add_sealed_secrets

from shai.gitops import core

HOSTS = """\
all:
  vars: {shai_lab_mirror_url: "http://10.213.250.1:8080", shai_lab_gateway: 10.213.250.1}
  children:
    k3s_cluster:
      children:
        k3s_server: {hosts: {server: {ansible_host: 10.213.250.10}}}
    gpu_workstation: {hosts: {gpu: {ansible_host: 10.213.250.20}}}
"""


def test_lab_tree_validates(tmp_path: Path) -> None:
    lab = core.repo_root() / "inventories" / "lab"
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "group_vars").symlink_to(lab / "group_vars")
    (inv / "models.yml").symlink_to(lab / "models.yml")
    (inv / "hosts.yml").write_text(HOSTS)
    layout = core.Layout.default()
    values = core.load_values(layout, core.inventory_vars(inv / "hosts.yml"))
    core.write(core.render(layout, values), tmp_path / "tree")
    add_sealed_secrets(tmp_path / "tree")
    _count, findings = core.validate(tmp_path / "tree", layout.crds, "1.33")
    assert [str(f) for f in findings if f.severity == "error"] == []
