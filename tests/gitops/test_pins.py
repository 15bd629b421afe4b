"""`shai gitops pins`: the pin table of values.yml with the upstream check of each pin (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shai.gitops import core
from shai.gitops.cli import app


def test_every_chart_and_image_pin_is_listed(layout: core.Layout) -> None:
    raw = yaml.safe_load(layout.values.read_text())
    rows = {(p.kind, p.name): p for p in core.pins(layout.values)}
    for name, chart in raw["gitops_charts"].items():
        pin = rows[("chart", name)]
        assert pin.version == str(chart["version"])
        assert f"--version {chart['version']}" in pin.verify
    for name in raw["gitops_images"]:
        assert ("image", name) in rows
    arc = rows[("chart", "arc-controller")]
    assert arc.verify == (
        "helm show chart oci://ghcr.io/actions/actions-runner-controller-charts/"
        "gha-runner-scale-set-controller --version 0.12.1"
    )
    cm = rows[("chart", "cert-manager")]
    assert cm.verify == "helm show chart cert-manager --repo https://charts.jetstack.io --version v1.18.2"
    assert (
        rows[("image", "kubectl")].verify
        == "skopeo inspect --no-tags docker://registry.k8s.io/kubectl:v1.31.12"
    )


def test_cli_pins_json() -> None:
    res = CliRunner().invoke(app, ["pins", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert any(r["name"] == "linkerd-control-plane" and r["version"] == "2025.1.2" for r in rows)


def test_bad_values_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "values.yml"
    bad.write_text("gitops_charts: [not, a, mapping]\n")
    with pytest.raises(
        core.GitopsError, match=r"values.yml: gitops_charts and gitops_images must be mappings"
    ):
        core.pins(bad)
