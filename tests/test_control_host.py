"""The homelab's control host runs the drift timer and its metrics reach Prometheus (ADR 0007)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOMELAB = ROOT / "inventories" / "homelab"


def _hosts(node: dict[str, object], group: str) -> set[str]:
    """Hosts of ``group`` anywhere below ``node`` (an inventory's ``all``), children included."""
    found: set[str] = set()
    for name, child in ((node.get("children") or {}) if isinstance(node, dict) else {}).items():
        child = child or {}
        if name == group:
            found |= set(child.get("hosts") or {})
            for sub in (child.get("children") or {}).values():
                found |= set((sub or {}).get("hosts") or {})
        found |= _hosts(child, group)
    return found


def test_control_host_is_the_k3s_server() -> None:
    inventory = yaml.safe_load((HOMELAB / "hosts.yml").read_text())["all"]
    control = _hosts(inventory, "shai_control")
    assert control, "inventories/homelab has no shai_control host: the drift timer is installed nowhere"
    assert control <= _hosts(inventory, "k3s_server")


def test_node_exporter_reads_the_drift_metrics_directory() -> None:
    drift = yaml.safe_load((HOMELAB / "group_vars" / "shai_control" / "drift_schedule.yml").read_text())
    gitops = yaml.safe_load((ROOT / "gitops" / "values.yml").read_text())
    assert drift["drift_schedule_metrics_dir"] == gitops["gitops_node_exporter_textfile_dir"]
    values = (ROOT / "gitops" / "templates" / "_helm_values.j2").read_text()
    assert "--collector.textfile.directory=/host/textfile" in values
    assert "hostPath: {{ gitops_node_exporter_textfile_dir }}" in values
    golden = yaml.safe_load_all((ROOT / "tests/gitops/golden/apps/prometheus.yaml").read_text())
    node_exporter = next(golden)["spec"]["source"]["helm"]["valuesObject"]["prometheus-node-exporter"]
    assert node_exporter["extraHostVolumeMounts"][0]["hostPath"] == drift["drift_schedule_metrics_dir"]
