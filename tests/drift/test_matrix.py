"""The drift correctness matrix on real lab hosts (systemd-nspawn Debian 12, `shai lab`).

One lab (booted once) shaped like the platform, converged once with site.yml:

* ``drifthost`` (shai_control): base + drift_schedule (with the TEST DOUBLE of `shai` that the
  drift_schedule molecule scenario's prepare.yml installs: Debian 12 has no Python 3.12);
* ``gpuhost`` (gpu_workstation): base, nvidia (no GPU in the lab: its read-only checks), lan_firewall,
  the REAL Ollama (CPU build) with one model pulled from the Ollama registry TEST DOUBLE, the
  ComfyUI TEST DOUBLE;
* ``k3shost`` (k3s_server): base, k3s with the k3s TEST DOUBLE binary, the GitOps render/seed and
  git_server. The ArgoCD bootstrap (argocd_bootstrap) is pinned off on this host for now (host
  var ``gitops_argocd_bootstrap: false``, ``k3s_env: {}``): its owner is bringing it into the lab.

Then:
1. the drift run over the whole lab reports 0 changes;
2. for each hand-made drift: the drift run (limited to the drifted host) reports exactly the
   affected tasks with a correct diff (exit 2), and a real converge of that host changes exactly
   those tasks (handlers included) - or, for a check-mode twin (a command that cannot run in
   check mode), its real task on the same items;
3. the drift run over the whole lab is clean again.

The artifacts come from a snapshot of the lab mirror served by the test (tests/drift/lab_doubles.py)
so that a republished ~/.cache/shai/mirror cannot drift the hosts mid-matrix; run
scripts/lab-artifacts.sh first. Keep the lab for debugging with SHAI_KEEP_LAB=1;
SHAI_DRIFT_LAB_NAME names the lab (default drift-matrix).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from shai.drift.lab import ROOT, DriftLab, Timed, changed_tasks

from .lab_doubles import MODEL, LabRegistry, MirrorSnapshot, build_models

pytestmark = [pytest.mark.lab, pytest.mark.slow]

HOST = "drifthost"
GPU = "gpuhost"
K3S = "k3shost"
HOSTS = [f"{HOST}:drift_lab,shai_control", f"{GPU}:gpu_workstation", f"{K3S}:k3s_cluster,k3s_server"]
OVERRIDE = "/etc/systemd/system/ollama.service.d/override.conf"
NFT_FILE = "/etc/nftables.d/shai_lan.nft"
K3S_CONFIG = "/etc/rancher/k3s/config.yaml"
GIT_CONFIG = "/srv/git/platform.git/config"
COMFYUI_PATHS = "/var/lib/comfyui/extra_model_paths.yaml"
# Placeholders in commands and expectations, filled once the lab is up.
OLLAMA_CLI = "OLLAMA_HOST=@GPU_ADDR@:11434 /usr/local/bin/ollama"
PULLED = "@REGISTRY@/library/" + MODEL

# (role, task name prefix, handler) of a change
Expect = tuple[str, str, bool]


@dataclass
class Case:
    name: str
    command: str
    # every task the drift run must show, nothing else
    expect: list[Expect]
    diff_contains: list[str] = field(default_factory=list)
    host: str = HOST
    # what the real run changes when it differs from `expect` (a check-mode twin's real task)
    real: list[Expect] | None = None
    # loop items the drift run must name (twins without a diff)
    items: list[str] = field(default_factory=list)
    # a command that must succeed on the host after the real run
    after: str = ""


CASES = [
    Case(
        "edit-config-file",
        "sed -i 's/^SystemMaxUse=.*/SystemMaxUse=9G/' /etc/systemd/journald.conf.d/60-shai.conf",
        [("base", "Journald | Configure journald limits", False), ("base", "Restart systemd-journald", True)],
        ["-SystemMaxUse=9G", "+SystemMaxUse=500M"],
    ),
    Case(
        "change-file-mode",
        "chmod 0755 ~shai/.ssh",
        [("base", "Users | Install the administrator's authorized keys", False)],
        ['-  "mode": "0755"', '+  "mode": "0700"'],
    ),
    Case(
        "remove-package",
        "DEBIAN_FRONTEND=noninteractive apt-get remove -y jq",
        [("base", "Packages | Install the base package set", False)],
        ["jq"],
    ),
    Case(
        # systemd_service returns no diff: the report must still name the task
        "disable-service",
        "systemctl disable systemd-timesyncd",
        [("base", "Timesync | Enable systemd-timesyncd", False)],
    ),
    Case(
        "stop-service",
        "systemctl stop shai-drift.timer",
        [("drift_schedule", "Service | Enable and start the drift timer", False)],
    ),
    Case(
        "edit-unit-file",
        "sed -i 's/^Nice=10/Nice=0/' /etc/systemd/system/shai-drift.service && systemctl daemon-reload",
        # the "Reload systemd" handler (daemon_reload only) reports ok in both modes
        [("drift_schedule", "Configure | Install the drift service unit", False)],
        ["-Nice=0", "+Nice=10"],
    ),
    Case(
        "edit-sudoers",
        "echo '# hand edit' >> /etc/sudoers.d/60-shai-admin",
        [("base", "Users | Allow the administrator to use sudo", False)],
        ["-# hand edit"],
    ),
    # -- GPU workstation ------------------------------------------------------------------------
    Case(
        "remove-ollama-model",
        f"{OLLAMA_CLI} rm {PULLED}",
        [("ollama", "Pull the declared Ollama models", False)],
        [f"+{PULLED}"],
        host=GPU,
        after=f"{OLLAMA_CLI} show {PULLED}",
    ),
    Case(
        "edit-ollama-override",
        f"sed -i 's/OLLAMA_KEEP_ALIVE=10m/OLLAMA_KEEP_ALIVE=24h/' {OVERRIDE}",
        [
            ("ollama", "Configure the server environment (override.conf)", False),
            ("ollama", "Restart ollama", True),
        ],
        ['-Environment="OLLAMA_KEEP_ALIVE=24h"', '+Environment="OLLAMA_KEEP_ALIVE=10m"'],
        host=GPU,
        after="systemctl show ollama.service --property=Environment | grep -q OLLAMA_KEEP_ALIVE=10m",
    ),
    Case(
        # the live table is compared by its fingerprint comment (a debug task: no diff)
        "delete-firewall-table",
        "nft delete table inet shai_lan",
        [
            ("lan_firewall", "Reload the table when the live one drifted", False),
            ("lan_firewall", "Reload nftables", True),
        ],
        host=GPU,
        after="nft list table inet shai_lan",
    ),
    Case(
        "edit-firewall-rules",
        f"sed -i 's/}} drop$/}} accept/' {NFT_FILE}",
        [("lan_firewall", "Write the shai_lan table", False), ("lan_firewall", "Reload nftables", True)],
        ["-\t\ttcp dport { 11434, 8188 } accept", "+\t\ttcp dport { 11434, 8188 } drop"],
        host=GPU,
        after=f"grep -q '}} drop$' {NFT_FILE}",
    ),
    Case(
        "edit-comfyui-model-paths",
        f"echo '# hand edit' >> {COMFYUI_PATHS}",
        [("comfyui", "Write extra_model_paths.yaml", False), ("comfyui", "Restart comfyui", True)],
        ["-# hand edit"],
        host=GPU,
        after=f"! grep -q 'hand edit' {COMFYUI_PATHS} && systemctl is-active comfyui",
    ),
    # -- k3s server -----------------------------------------------------------------------------
    Case(
        "edit-k3s-config",
        f"sed -i 's/^protect-kernel-defaults: true/protect-kernel-defaults: false/' {K3S_CONFIG}",
        [("k3s", "Configure | config.yaml", False), ("k3s", "Restart k3s", True)],
        ["-protect-kernel-defaults: false", "+protect-kernel-defaults: true"],
        host=K3S,
        after="systemctl is-active k3s",
    ),
    Case(
        "stop-k3s",
        "systemctl stop k3s",
        [("k3s", "Service | k3s enabled and running", False)],
        host=K3S,
        after="systemctl is-active k3s",
    ),
    Case(
        "git-receive-setting",
        f"git config --file {GIT_CONFIG} receive.denyNonFastForwards false",
        [("git_server", "Create the shared bare repositories", False)],
        ["-receive.denyNonFastForwards=false", "+receive.denyNonFastForwards=true"],
        host=K3S,
        after=f"test $(git config --file {GIT_CONFIG} receive.denyNonFastForwards) = true",
    ),
]


@dataclass
class Matrix:
    lab: DriftLab
    values: dict[str, str]
    timings: list[tuple[str, float]] = field(default_factory=list)

    def fill(self, text: str) -> str:
        for key, value in self.values.items():
            text = text.replace(f"@{key}@", value)
        return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (systemd-nspawn, bridges)")
    work = tmp_path_factory.mktemp("drift-matrix")
    (work / "ollama").mkdir()
    models = build_models(work / "ollama", _free_port())
    name = os.environ.get("SHAI_DRIFT_LAB_NAME", "drift-matrix")
    lab = DriftLab(name, HOSTS, work)
    start = time.monotonic()
    lab.up()
    served: list[LabRegistry | MirrorSnapshot] = []
    try:
        gateway = str(lab.lab_vars["shai_lab_gateway"])
        # the k3s pin (one place: roles/k3s/defaults/main.yml), the version the double is published under
        k3s_version = yaml.safe_load((ROOT / "roles/k3s/defaults/main.yml").read_text())["k3s_version"]
        mirror = MirrorSnapshot(
            Path(os.environ.get("SHAI_CACHE", Path.home() / ".cache/shai")) / "mirror",
            work / "mirror",
            [f"k3s/{k3s_version}", "ollama", "comfyui"],
            gateway,
        ).start()
        served.append(mirror)
        registry = LabRegistry(models, gateway).start()
        served.append(registry)
        # the registry's "CDN" host name, as the real registry redirects blobs to its CDN
        hosts = lab.ssh(GPU, f"echo '{registry.hosts_line}' >> /etc/hosts")
        assert hosts.returncode == 0, hosts.stdout + hosts.stderr
        lab.set_host_vars(
            GPU,
            {
                "shai_lab_mirror_url": mirror.url,
                "ollama_models": [MODEL],
                "ollama_registry": registry.host,
                "ollama_registry_insecure": True,
            },
        )
        lab.set_host_vars(
            K3S,
            {
                "shai_lab_mirror_url": mirror.url,
                "gitops_tree_dir": str(work / "gitops"),
                # Not in the matrix yet: argocd_bootstrap and the k3s double's helm-controller and
                # ArgoCD doubles it needs are being brought into the lab by that role's owner.
                "gitops_argocd_bootstrap": False,
                "k3s_env": {},
            },
        )
        prepared = lab.playbook(
            ROOT / "extensions" / "molecule" / "drift_schedule" / "prepare.yml", "--limit", HOST
        )
        assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-3000:]
        first = lab.converge("initial")
        assert first.code == 0, first.output[-5000:]
        m = Matrix(lab, {"REGISTRY": registry.host, "GPU_ADDR": lab.address(GPU)})
        m.timings.append(("lab up + initial converge", time.monotonic() - start))
        yield m
        for label, seconds in m.timings:
            print(f"matrix timing: {label}: {seconds:.1f}s")
    finally:
        if not os.environ.get("SHAI_KEEP_LAB"):
            lab.down()
        for service in served:
            service.stop()


def _matches(actual: list[tuple[str, str, str, bool]], expect: list[Expect], host: str) -> bool:
    if len(actual) != len(expect) or any(a[0] != host for a in actual):
        return False
    remaining = list(actual)
    for role, prefix, handler in expect:
        hit = [a for a in remaining if a[1] == role and a[2].startswith(prefix) and a[3] == handler]
        if len(hit) != 1:
            return False
        remaining.remove(hit[0])
    return not remaining


def _items(run: Timed) -> list[str]:
    return sorted(str(i) for c in run.report["changes"] for i in c["items"])


def test_converged_lab_reports_no_drift(matrix: Matrix) -> None:
    run = matrix.lab.drift("converged")
    matrix.timings.append(("full drift run (converged)", run.seconds))
    assert run.report["changes"] == [], [(c["task"], c["diff_text"]) for c in run.report["changes"]]
    assert run.report["errors"] == [] and run.report["fatal"] == [], run.output[-5000:]
    assert run.report["unverified"] == [], run.report["unverified"]
    assert run.code == 0 and run.report["status"] == "clean"
    for host in (HOST, GPU, K3S):
        assert run.report["hosts"][host]["ok"] > 5, run.report["hosts"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_made_drift(matrix: Matrix, case: Case) -> None:
    lab = matrix.lab
    start = time.monotonic()
    made = lab.ssh(case.host, matrix.fill(case.command))
    assert made.returncode == 0, made.stdout + made.stderr
    check = lab.drift(case.name, limit=case.host)
    predicted = changed_tasks(check.report)
    assert check.report["errors"] == [], check.output[-5000:]
    assert check.report["unverified"] == [], check.report["unverified"]
    assert _matches(predicted, case.expect, case.host), (
        f"drift run reported {predicted}, expected {case.expect}"
    )
    assert check.code == 3
    diff = "\n".join(c["diff_text"] for c in check.report["changes"])
    for needle in case.diff_contains:
        assert matrix.fill(needle) in diff, f"{matrix.fill(needle)!r} not in the diff:\n{diff}"
    if case.items:
        assert _items(check) == sorted(case.items)
    real = lab.converge(case.name, limit=case.host)
    assert real.code == 0, real.output[-5000:]
    done = changed_tasks(real.report)
    if case.real is None:
        assert done == predicted, f"the real run changed {done}, the check predicted {predicted}"
    else:
        assert _matches(done, case.real, case.host), f"the real run changed {done}, expected {case.real}"
        assert _items(real) == _items(check), "the real run changed other items than the check predicted"
    if case.after:
        after = lab.ssh(case.host, matrix.fill(case.after))
        assert after.returncode == 0, f"after the real run: {case.after}\n{after.stdout}{after.stderr}"
    matrix.timings.append(
        (
            f"case {case.name} (drift {check.seconds:.0f}s, converge {real.seconds:.0f}s)",
            time.monotonic() - start,
        )
    )


def test_lab_is_clean_after_the_matrix(matrix: Matrix) -> None:
    run = matrix.lab.drift("final")
    matrix.timings.append(("full drift run (final)", run.seconds))
    assert run.code == 0 and run.report["changes"] == [], [c["task"] for c in run.report["changes"]]
    assert run.report["unverified"] == [], run.report["unverified"]
    # and a real converge agrees: nothing to do anywhere (the platform is idempotent after the matrix)
    noop = matrix.lab.converge("final")
    matrix.timings.append(("full no-op converge (final)", noop.seconds))
    assert noop.code == 0, noop.output[-5000:]
    assert changed_tasks(noop.report) == [], changed_tasks(noop.report)
