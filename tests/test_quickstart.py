"""docs/quickstart.md, walked against the lab as if it were the homelab (so the guide cannot rot).

Every ``<!-- quickstart: ID -->`` block of the page runs with ``bash``, in the page's order, in a
scratch clone of this repository whose ``inventories/home`` is a real lab (one lab for the
module). What the test stands in for is the page's own table ("The test"): the collection link
instead of ``make collection``, the lab's hosts and group_vars instead of the sample ones, the
Hugging Face Hub TEST DOUBLE behind ``shai-models pin``, the k3s TEST DOUBLE behind k3s.

Needs root, systemd-nspawn and the lab mirror (``scripts/lab-artifacts.sh``, which ``make
labtests`` runs first). Run with: pytest -m lab tests/test_quickstart.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "quickstart.md"
ORDER = ["init", "vault-password", "keygen", "generate", "models-pin", "seal", "doctor", "converge", "drift"]
BLOCK = re.compile(r"<!-- quickstart: ([a-z-]+) -->\n```bash\n(.*?)```", re.S)
HF_REPO = "shai-test/tiny-quickstart"

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("systemd-nspawn") is None, reason="needs root and systemd-nspawn"
    ),
]


def steps() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def test_the_page_has_every_step_in_order() -> None:
    """Runs everywhere (no lab): the page and the walk below agree on the steps."""
    assert list(steps()) == ORDER


class Walk:
    """Runs the page's blocks one after another in one shell environment (exports carry over)."""

    def __init__(self, clone: Path, home: Path, env: dict[str, str]) -> None:
        self.clone, self.home, self.env = clone, home, env
        self.env_file = home / "quickstart.env"
        self.blocks = steps()

    def run(self, step: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        script = (
            "set -euo pipefail\n"
            f"if [ -f {self.env_file} ]; then source {self.env_file}; fi\n"
            f"cd {self.clone}\n{self.blocks[step]}\nexport -p > {self.env_file}\n"
        )
        done = subprocess.run(
            ["bash", "-c", script], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        out = done.stdout
        if len(out) > 12000:
            out = f"{out[:2000]}\n[...]\n{out[-8000:]}"
        assert done.returncode == 0, f"step {step} exited {done.returncode}:\n{out}\n{done.stderr[-4000:]}"
        return done


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    from shai.lab.lab import Lab, Paths

    base = tmp_path_factory.mktemp("quickstart")
    clone, home = base / "shai", base / "home"
    home.mkdir()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # Step 1 stand-in: the project environment is this one; link the clone as the collection.
    link = clone / ".cache" / "collections" / "ansible_collections" / "vectorweight" / "shai"
    link.parent.mkdir(parents=True)
    link.symlink_to(clone)
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "SHAI_SHARED_TESTDATA", "SHAI_SHARED_CRDS", "UV_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env |= {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SHAI_CACHE": os.environ.get("SHAI_CACHE") or str(Path.home() / ".cache" / "shai"),
        "ANSIBLE_CONFIG": str(clone / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(clone / ".cache" / "collections"),
        # The clone's own toolkit and collection for every shai process (as in a checkout, where
        # the venv's shai is the checkout's): ahead of this venv's editable install.
        "PYTHONPATH": f"{clone / 'src'}:{clone / '.cache' / 'collections'}",
        "ANSIBLE_FORCE_COLOR": "false",
        "GIT_AUTHOR_NAME": "quickstart",
        "GIT_AUTHOR_EMAIL": "quickstart@example.com",
        "GIT_COMMITTER_NAME": "quickstart",
        "GIT_COMMITTER_EMAIL": "quickstart@example.com",
    }
    lab = Lab("quickstart", Paths())
    try:
        yield Walk(clone, home, env)
    finally:
        lab.down()


def _as_the_lab(walk: Walk) -> Path:
    """Step 2 stand-in: the lab's hosts (booted into inventories/home) and the lab's group_vars."""
    from shai.lab import inventory as inv
    from shai.lab.lab import Lab, Paths

    home = walk.clone / "inventories" / "home"
    Lab("quickstart", Paths()).up(
        [inv.parse_host_spec("server:k3s_server"), inv.parse_host_spec("gpu:gpu_workstation")],
        inventory_path=home / "hosts.yml",
    )
    shutil.rmtree(home / "group_vars")
    shutil.copytree(walk.clone / "inventories" / "lab" / "group_vars", home / "group_vars")
    doctor_vars = home / "group_vars" / "all" / "doctor.yml"
    settings = yaml.safe_load(doctor_vars.read_text())
    for check in ("vault", "sealing-key", "secrets"):  # the quickstart gives this lab a vault
        settings["shai_doctor_skip"].pop(check)
    doctor_vars.write_text("---\n" + yaml.safe_dump(settings, sort_keys=False))
    models = yaml.safe_load((walk.clone / "inventories" / "lab" / "models.yml").read_text())
    files = models["shai_models"]["targets"]["gpu_workstation"]["files"]
    files.append(
        {"name": "tiny-hf", "hf": {"repo": HF_REPO, "revision": "main", "path": "tiny.gguf"}, "dest": "hf"}
    )
    (home / "models.yml").write_text("---\n" + yaml.safe_dump(models, sort_keys=False))
    return home


# Step 5 stand-in: what an operator types into `ansible-vault edit` for the values the doctor asks
# for — every optional supplied value of a Secret the platform reads (no operator-only marker).
# Placeholders: nothing here talks to GitHub or GitLab.
def _supply_operator_values(vault_file: Path, password: Path, catalog_file: Path) -> list[str]:
    from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import secret_refs
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from shai.secrets.catalog import load_catalog
    from shai.secrets.vault import Vault

    vault = Vault(vault_file, password)
    supplied: list[str] = []
    for entry in load_catalog(catalog_file).entries.values():
        if secret_refs.OPERATOR_ONLY in entry.annotations:
            continue
        for key, spec in entry.keys.items():
            if spec.generator != "supplied" or vault.data.get(spec.vault_var):
                continue
            if "private_key" in key:
                pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                vault.data[spec.vault_var] = pem.decode()
            else:
                vault.data[spec.vault_var] = (
                    "123456" if key.endswith("_id") else f"quickstart-placeholder-{key}"
                )
            supplied.append(str(spec.vault_var))
    vault.save()
    return supplied


def test_quickstart_against_the_lab(walk: Walk, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    from hub_double import HubDouble

    done = walk.run("init")
    assert "wrote inventories/home/" in done.stdout
    home = _as_the_lab(walk)

    walk.run("vault-password")
    password = walk.home / ".config" / "shai" / "vault-pass"
    assert password.stat().st_mode & 0o777 == 0o600

    assert "sealing key created" in walk.run("keygen", timeout=300).stdout
    vault = home / "group_vars" / "all" / "vault.yml"
    assert vault.read_bytes().startswith(b"$ANSIBLE_VAULT")
    assert "generated" in walk.run("generate").stdout
    assert _supply_operator_values(vault, password, walk.clone / "secrets" / "catalog.yml")

    repo = tmp_path / "hf-repo"
    repo.mkdir()
    (repo / "tiny.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 16)
    with HubDouble() as hub:
        commit = hub.add_repo(HF_REPO, repo).commit
        walk.env |= {"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf")}
        walk.run("models-pin")
        del walk.env["HF_ENDPOINT"]
    assert f"revision: {commit}" in (home / "models.yml").read_text()

    walk.run("seal")
    status = subprocess.run(
        ["git", "-C", str(walk.clone), "status", "--porcelain", "gitops/secrets", "inventories/home"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", status.stdout
    assert (
        "vault.yml"
        in subprocess.run(
            ["git", "-C", str(walk.clone), "show", "--stat", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    walk.run("doctor", timeout=300)
    converge = walk.run("converge", timeout=3600)
    assert re.search(r"failed=0", converge.stdout) and not re.search(r"failed=[1-9]", converge.stdout)
    walk.run("drift", timeout=3600)
