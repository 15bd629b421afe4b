"""Each offline doctor check broken in turn on a scratch project that is otherwise ready.

The ready project passes every offline check; each test breaks exactly one thing the way an
operator would (a missing vault, a tag instead of a commit, an uncommitted sealed file...) and
asserts that exactly that check fails, with the command that fixes it.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing

from shai.doctor.runner import Report, run
from shai.secrets.vault import Vault

from .scratch import NAME, git, secrets_cli

OFFLINE = {"vault", "sealing-key", "secrets", "model-pins", "comfyui-pin", "ollama-pin", "k3s-pin"}
OFFLINE |= {"inventory-groups"}
SHA = "0f2270c5666afc69279da41c606b4a1370388c4f0b6aab8f02d1f997aa611be4"


def inventory(project: Path) -> Path:
    return project / "inventories" / NAME


def doctor(project: Path, password: bool = True) -> Report:
    password_file = project / "vault-pass" if password else None
    return run(inventory(project), offline=True, vault_password_file=password_file)


def failing(report: Report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.failed:
        out.setdefault(f.check, []).append(f.fix)
    return out


def only_failure(report: Report, check: str) -> str:
    fails = failing(report)
    assert set(fails) == {check}, [f for f in report.findings if f.status != "ok"]
    assert all(fails[check]), "every failure names its fix"
    assert not report.ok
    return " ".join(fails[check])


def vault_of(project: Path) -> Vault:
    return Vault(inventory(project) / "group_vars" / "all" / "vault.yml", project / "vault-pass")


def test_ready_project_passes_every_offline_check(project: Path) -> None:
    report = doctor(project)
    assert report.ok, report.failed
    assert {f.check for f in report.findings if f.status == "ok"} == OFFLINE
    assert {f.check for f in report.findings if f.status == "skip"} == {"ssh", "dns", "model-disk"}


def test_no_vault_password(project: Path) -> None:
    fix = only_failure(doctor(project, password=False), "vault")
    assert "ANSIBLE_VAULT_PASSWORD_FILE" in fix


def test_vault_missing(project: Path) -> None:
    (inventory(project) / "group_vars" / "all" / "vault.yml").unlink()
    report = doctor(project)
    fails = failing(report)
    assert set(fails) == {"vault", "sealing-key", "secrets"}
    assert "keygen" in fails["vault"][0]
    assert "generate" in fails["secrets"][0] and "seal" in fails["secrets"][0]


def test_vault_not_encrypted(project: Path) -> None:
    (inventory(project) / "group_vars" / "all" / "vault.yml").write_text("vault_x: 1\n")
    report = doctor(project)
    assert "ansible-vault encrypt" in failing(report)["vault"][0]
    assert {f.check for f in report.findings if f.status == "skip"} >= {"sealing-key", "secrets"}


def test_vault_wrong_password(project: Path) -> None:
    (project / "vault-pass").write_text("not the password\n")
    report = doctor(project)
    assert "does not open" in report.failed[0].message
    assert report.failed[0].check == "vault"


def test_sealing_key_missing(project: Path) -> None:
    vault = vault_of(project)
    for key in ("private_key", "certificate", "keys"):
        key = f"vault_sealed_secrets_{key}"
        vault.data.pop(key, None)
    vault.save()
    report = doctor(project)
    assert "keygen" in failing(report)["sealing-key"][0]


def test_sealing_key_expiring(project: Path) -> None:
    vault = vault_of(project)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    key, cert = sealing.generate_key_pair(bits=2048, days=10, now=now)
    vault.data["vault_sealed_secrets_private_key"] = key
    vault.data["vault_sealed_secrets_certificate"] = cert
    vault.save()
    report = doctor(project)
    fix = failing(report)["sealing-key"][0]
    assert "keygen --force" in fix and "reencrypt" in fix
    assert "expires" in next(f.message for f in report.failed if f.check == "sealing-key")


def test_secret_not_generated(project: Path) -> None:
    catalog = project / "secrets" / "catalog.yml"
    doc = yaml.safe_load(catalog.read_text())
    extra = dict(doc["secrets"][0], id="other", name="other-credentials", service="other")
    doc["secrets"].append(extra)
    catalog.write_text(yaml.safe_dump(doc))
    fix = only_failure(doctor(project), "secrets")
    assert "generate" in fix


def test_secret_not_sealed(project: Path) -> None:
    sealed = next((project / "gitops" / "secrets").rglob("*.sealedsecret.yaml"))
    sealed.unlink()
    fix = only_failure(doctor(project), "secrets")
    assert "seal" in fix


def test_sealed_file_not_committed(project: Path) -> None:
    sealed = next((project / "gitops" / "secrets").rglob("*.sealedsecret.yaml"))
    git(project, "rm", "-q", "--cached", str(sealed))
    git(project, "commit", "-q", "-m", "forget it")
    fix = only_failure(doctor(project), "secrets")
    assert "git" in fix and "commit" in fix


def test_sealed_value_stale(project: Path) -> None:
    secrets_cli(project, "rotate", "-s", "demo")
    fix = only_failure(doctor(project), "secrets")
    assert "git" in fix  # rotate re-sealed the file: it is now modified, not committed


@pytest.mark.parametrize(
    ("old", "new", "fix"),
    [
        (f"          sha256: {SHA}\n", "", "sha256"),
        (
            f"          url: https://models.example.com/tiny.gguf\n          sha256: {SHA}\n",
            "          hf: {repo: org/tiny, revision: main, path: tiny.gguf}\n",
            "shai-models pin -i",
        ),
    ],
    ids=["url-without-sha256", "revision-a-branch"],
)
def test_model_pins(project: Path, old: str, new: str, fix: str) -> None:
    models = inventory(project) / "models.yml"
    text = models.read_text()
    assert old in text
    models.write_text(text.replace(old, new))
    assert fix in only_failure(doctor(project), "model-pins")


@pytest.mark.parametrize(
    ("line", "check", "fix"),
    [
        ("comfyui_version: v0.3.60", "comfyui-pin", "git ls-remote"),
        ('ollama_archive_sha256: ""', "ollama-pin", "sha256sum.txt"),
    ],
)
def test_gpu_pins(project: Path, line: str, check: str, fix: str) -> None:
    pins = inventory(project) / "group_vars" / "gpu_workstation" / "pins.yml"
    key = line.split(":")[0]
    kept = [ln for ln in pins.read_text().splitlines() if not ln.startswith(key)]
    pins.write_text("\n".join([*kept, line]) + "\n")
    assert fix in only_failure(doctor(project), check)


def test_k3s_version_other_than_the_pin(project: Path) -> None:
    k3s = inventory(project) / "group_vars" / "k3s_cluster" / "k3s.yml"
    k3s.write_text(k3s.read_text() + "k3s_version: v1.31.4+k3s1\n")
    fix = only_failure(doctor(project), "k3s-pin")
    assert "remove k3s_version" in fix and "k3s.yml" in fix


def test_required_group_missing(project: Path) -> None:
    hosts = inventory(project) / "hosts.yml"
    doc = yaml.safe_load(hosts.read_text())
    del doc["all"]["children"]["shai_control"]
    hosts.write_text(yaml.safe_dump(doc))
    fix = only_failure(doctor(project), "inventory-groups")
    assert "shai_control" in fix


def test_gpu_workstation_known_by_name_only(project: Path) -> None:
    """A second GPU workstation without an address: the tree's NetworkPolicy egress needs one."""
    hosts = inventory(project) / "hosts.yml"
    doc = yaml.safe_load(hosts.read_text())
    doc["all"]["children"]["gpu_workstation"]["hosts"]["gpu2.example.com"] = None
    hosts.write_text(yaml.safe_dump(doc))
    report = doctor(project)
    fix = only_failure(report, "inventory-groups")
    assert "LAN IP address" in fix
    assert any("gpu2.example.com (gpu2.example.com): a host name" in f.message for f in report.failed)


def test_old_scalar_gpu_host(project: Path) -> None:
    """An inventory from before ADR 0310 (shai_gpu_host only) is told what to write instead."""
    main = inventory(project) / "group_vars" / "all" / "main.yml"
    doc = yaml.safe_load(main.read_text())
    del doc["shai_gpu_hosts"]
    doc["shai_gpu_host"] = "{{ hostvars[groups['gpu_workstation'][0]]['ansible_host'] }}"
    main.write_text(yaml.safe_dump(doc))
    fix = only_failure(doctor(project), "inventory-groups")
    assert "shai_gpu_host (one GPU workstation) is replaced by shai_gpu_hosts" in fix


@pytest.mark.parametrize("operator_only", [False, True])
def test_optional_value_the_platform_reads(project: Path, operator_only: bool) -> None:
    """An optional supplied value is needed when a workload reads its Secret (no operator-only marker)."""
    catalog = project / "secrets" / "catalog.yml"
    doc = yaml.safe_load(catalog.read_text())
    entry = {
        "id": "app-token",
        "rotate": "never",
        "service": "app",
        "description": "a token only the operator has",
        "name": "app-token",
        "namespace": "demo",
        "keys": {"token": {"generator": "supplied", "vault_var": "vault_app_token", "optional": True}},
    }
    if operator_only:
        entry["annotations"] = {"shai.vectorweight.com/operator-only": "read by people, not pods"}
    doc["secrets"].append(entry)
    catalog.write_text(yaml.safe_dump(doc))
    report = doctor(project)
    if operator_only:
        assert report.ok, report.failed
    else:
        fix = only_failure(report, "secrets")
        assert "vault_app_token" in fix and "ansible-vault edit" in fix
