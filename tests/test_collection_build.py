"""The collection installs like one (issue 15, item 6).

Builds the artifact with ``ansible-galaxy collection build`` and lists it; checks the controller
requirements against what plugins/ imports; checks runtime.yml against the roles; runs
``ansible-builder create`` on meta/execution-environment.yml and ansible-builder's own
introspection on the installed artifact. About 10 s, no network.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Must never ship: the Python toolkit, its lock, tests, lab tooling, caches, real inventories.
FORBIDDEN = (
    "src/",
    "tests/",
    "uv.lock",
    "pyproject.toml",
    "hatch_build.py",
    "Makefile",
    "ansible.cfg",
    "inventories/",
    "tools/",
    "scripts/",
    "extensions/",
    "benchmarks/",
    ".venv/",
    ".cache/",
    ".git/",
    "changelogs/fragments/",
    "docs/dev/",
)
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/requirements.txt",
    "meta/bindep.txt",
    "requirements.txt",
    "bindep.txt",
    "roles/k3s/tasks/main.yml",
    "roles/k3s/defaults/main.yml",
    "plugins/modules/argocd_app_status.py",
    "plugins/module_utils/k8s_client.py",
    "playbooks/k3s.yml",
    "gitops/values.yml",
    "secrets/catalog.yml",
)
# import name -> distribution name, where they differ
DISTRIBUTION = {"yaml": "pyyaml", "kubernetes_validate": "kubernetes-validate"}
# imported by plugins but installed with ansible-core itself, or Python 2 fallbacks never reached
WITH_ANSIBLE = {"jinja2", "ansible", "ansible_collections", "urlparse"}


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("galaxy-build")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (tarball,) = out.glob("vectorweight-shai-*.tar.gz")
    return tarball


def _names(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as tar:
        return [m.name.removeprefix("./") for m in tar.getmembers()]


def test_artifact_holds_only_the_collection(artifact: Path) -> None:
    names = _names(artifact)
    shipped = [n for n in names for bad in FORBIDDEN if n == bad.rstrip("/") or n.startswith(bad)]
    assert not shipped, f"must not ship: {sorted(set(shipped))[:20]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    missing = [r for r in REQUIRED if r not in names]
    assert not missing, f"missing from the artifact: {missing}"


def _requirements() -> dict[str, str]:
    """meta/requirements.txt as {normalised distribution name: line}."""
    lines = [ln.strip() for ln in (ROOT / "meta" / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("#")]
    return {re.split(r"[<>=!~ ;\[]", ln, maxsplit=1)[0].lower().replace("_", "-"): ln for ln in reqs}


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in WITH_ANSIBLE}


def test_requirements_are_exactly_what_the_plugins_import() -> None:
    imported = {DISTRIBUTION.get(m, m).lower().replace("_", "-") for m in _third_party_imports()}
    assert imported == set(_requirements()), "meta/requirements.txt and the imports under plugins/ differ"


def test_root_requirement_files_are_links_to_meta() -> None:
    for name in ("requirements.txt", "bindep.txt"):
        link = ROOT / name
        assert link.is_symlink() and link.readlink() == Path("meta") / name, name


def test_runtime_agrees_with_roles_and_pyproject() -> None:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    floor = re.fullmatch(r">=(\d+\.\d+)(?:\.0)?", runtime["requires_ansible"])
    assert floor, runtime["requires_ansible"]
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        role = yaml.safe_load(meta.read_text())["galaxy_info"]
        assert str(role["min_ansible_version"]) == floor.group(1), meta
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"ansible-core>={floor.group(1)},' in pyproject


def test_k8s_action_group_modules_share_the_connection_options() -> None:
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["k8s"]
    assert group
    for module in group:
        source = (ROOT / "plugins" / "modules" / f"{module}.py").read_text()
        doc = yaml.safe_load(source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
        fragments = doc.get("extends_documentation_fragment") or []
        options = set(doc.get("options") or {})
        assert "vectorweight.shai.k8s_auth" in fragments or {"kubeconfig", "context"} <= options, module


@pytest.fixture(scope="module")
def builder() -> Iterator[Path]:
    exe = BIN / "ansible-builder"
    if not exe.exists():
        pytest.skip("ansible-builder is not installed (dev group: uv sync)")
    yield exe


def test_ansible_builder_create(builder: Path, tmp_path: Path) -> None:
    ctx = tmp_path / "context"
    subprocess.run(
        [str(builder), "create", "-f", str(ROOT / "meta" / "execution-environment.yml"), "-c", str(ctx)],
        check=True,
        capture_output=True,
        text=True,
    )
    build = ctx / "_build"
    assert not (build / "requirements.txt").is_symlink()
    assert (
        (build / "requirements.txt")
        .read_text()
        .strip()
        .endswith((ROOT / "meta" / "requirements.txt").read_text().strip())
    )
    assert (build / "bindep.txt").read_text().strip() == (ROOT / "meta" / "bindep.txt").read_text().strip()
    assert (ctx / "Containerfile").exists() or (ctx / "Dockerfile").exists()


def test_installed_artifact_introspects(builder: Path, artifact: Path, tmp_path: Path) -> None:
    """ansible-builder's introspection (what an EE build runs) finds the collection's dependencies."""
    collections = tmp_path / "collections"
    subprocess.run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "--force",
            "-p",
            str(collections),
            str(artifact),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    import ansible_builder

    introspect = Path(ansible_builder.__file__).parent / "_target_scripts" / "introspect.py"
    out = subprocess.run(
        [sys.executable, str(introspect), "introspect", str(collections)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = yaml.safe_load(out)
    python = {re.split(r"[<>=!~ ]", line, maxsplit=1)[0].lower() for line in data["python"]}
    # ansible-builder leaves out what ansible-core itself brings (PyYAML)
    assert python == set(_requirements()) - {"pyyaml"}
    assert any(line.startswith("git ") for line in data["system"])


def _make_dry_run(target: str) -> str:
    return subprocess.run(
        ["make", "-n", "-C", str(ROOT), target], check=True, capture_output=True, text=True
    ).stdout


def test_make_collection_installs_no_lab_tooling() -> None:
    """An operator's `make collection` runs only the controller bootstrap (no apt-get)."""
    dry = _make_dry_run("collection")
    assert "scripts/bootstrap.sh" in dry and "--lab" not in dry
    script = (ROOT / "scripts" / "bootstrap.sh").read_text()
    controller = script.split("if ((lab)); then", 1)[1].split("elif", 1)
    assert "apt-get" in controller[0] and "apt-get install -y" not in controller[1]
    for target in ("lab", "labtests", "molecule", "test"):
        assert "scripts/bootstrap.sh --lab" in _make_dry_run(target), target
