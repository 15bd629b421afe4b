"""Bad input against `shai` (drift, lab, kube, gitops) and `shai-models` (issue 14).

Each case: exit code, a message naming the problem, no traceback, the workspace unchanged (hashed
before and after), no secret in the output. Cases marked "old:" failed on the code before the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from harness import assert_refused, run_cli, tree_digest

REPO = Path(__file__).resolve().parents[2]
SHA = "ab" * 32
TOKEN = "hf_badinput_secret_0123456789"
INVENTORY = (
    "all:\n  children:\n"
    "    gpu_workstation:\n      hosts:\n        box:\n          ansible_connection: local\n"
)


def _manifest(**file_entry: object) -> dict[str, object]:
    entry: dict[str, object] = {"name": "x", "url": "https://example.org/x.bin", "sha256": SHA, "dest": "up"}
    entry.update(file_entry)
    for key in [k for k, v in entry.items() if v is None]:
        del entry[key]
    target = {"hosts": "gpu_workstation", "root": "/srv/models", "files": [entry]}
    return {"shai_models": {"targets": {"gpu": target}}}


def _files(files: dict[str, str | dict[str, object]]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        for rel, body in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body if isinstance(body, str) else yaml.safe_dump(body))

    return write


def _manifest_case(**file_entry: object) -> Callable[[Path], None]:
    return _files({"hosts.yml": INVENTORY, "models.yml": _manifest(**file_entry)})


@dataclass
class Case:
    id: str
    entry: str
    args: list[str]
    code: int
    words: list[str]
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


STD = _files({"hosts.yml": INVENTORY, "models.yml": _manifest()})


def _nomatch(root: Path) -> None:
    manifest = _manifest()
    manifest["shai_models"]["targets"]["gpu"]["hosts"] = "comfyui_hosts"  # type: ignore[index]
    _files({"hosts.yml": INVENTORY, "models.yml": manifest})(root)


LIST = ["list", "-i", "hosts.yml"]
DRIFT = ["drift", "run", "--report-dir", "{out}/report", "--metrics-dir", "{out}"]
MODELS_CASES = [
    # class 2: writes outside the place asked for (old: accepted, model_file wrote outside dest)
    Case(
        "manifest-filename-dotdot",
        "shai-models",
        LIST,
        1,
        ["filename must be a single file name", "'../../escaped.bin'"],
        _manifest_case(filename="../../escaped.bin"),
    ),
    Case(
        "manifest-filename-abs",
        "shai-models",
        LIST,
        1,
        ["filename must be a single file name", "/abs.bin"],
        _manifest_case(filename="/abs.bin"),
    ),
    Case(
        "manifest-filename-dot",
        "shai-models",
        LIST,
        1,
        ["filename must be a single file name"],
        _manifest_case(filename=".."),
    ),
    Case(
        "manifest-hf-path-dotdot",
        "shai-models",
        LIST,
        1,
        ["hf.path must not contain", "'../x.bin'"],
        _manifest_case(url=None, sha256=None, hf={"repo": "org/m", "revision": "a" * 40, "path": "../x.bin"}),
    ),
    Case(
        "manifest-dest-dotdot",
        "shai-models",
        LIST,
        1,
        ["dest must not contain a '.' or '..' component"],
        _manifest_case(dest="a/../../etc"),
    ),
    Case(
        "manifest-token-over-http-string",
        "shai-models",
        LIST,
        1,
        ["token_over_http must be true or false"],
        _manifest_case(token_over_http="yes"),
    ),
    Case(
        "manifest-unknown-key",
        "shai-models",
        LIST,
        1,
        ["unknown key 'filname'"],
        _manifest_case(filname="a.bin"),
    ),
    Case(
        "manifest-url-ftp",
        "shai-models",
        LIST,
        1,
        ["url must be an http(s) URL", "ftp://x/y.bin"],
        _manifest_case(url="ftp://x/y.bin"),
    ),
    Case(
        "manifest-url-no-sha",
        "shai-models",
        LIST,
        1,
        ["sha256 is required for a url file"],
        _manifest_case(sha256=None),
    ),
    Case(
        "manifest-not-yaml",
        "shai-models",
        LIST,
        1,
        ["models.yml", "not valid YAML"],
        _files({"hosts.yml": INVENTORY, "models.yml": "shai_models: [\n"}),
    ),
    Case(
        "manifest-unknown-target",
        "shai-models",
        [*LIST, "--target", "nope"],
        1,
        ["unknown target(s) nope"],
        STD,
    ),
    Case(
        "pin-missing-manifest",
        "shai-models",
        ["pin", "-m", "missing.yml"],
        1,
        ["cannot read missing.yml"],
    ),
    # class 1: nothing checked is not clean (old: exit 0 and an empty table)
    Case(
        "list-inventory-typo",
        "shai-models",
        ["list", "-i", "typo.yml"],
        1,
        ["inventory typo.yml does not exist"],
    ),
    Case(
        "diff-inventory-typo",
        "shai-models",
        ["diff", "-i", "typo.yml"],
        1,
        ["inventory typo.yml does not exist"],
    ),
    Case(
        "sync-target-matches-no-host",
        "shai-models",
        ["sync", "-i", "hosts.yml"],
        1,
        ["target gpu: hosts 'comfyui_hosts' matches no host", "nothing to check"],
        _nomatch,
    ),
    Case(
        "diff-limit-matches-no-host",
        "shai-models",
        ["diff", "-i", "hosts.yml", "--limit", "nothere"],
        1,
        ["matches no host", "with --limit nothere"],
        STD,
    ),
    Case(
        "list-inventory-dir-without-manifest",
        "shai-models",
        ["list", "-i", "inv"],
        1,
        ["inv/models.yml", "file not found"],
        _files({"inv/hosts.yml": INVENTORY}),
    ),
    Case(
        "verify-local-missing-dir",
        "shai-models",
        ["verify", "--local", "nodir", "--repo", "org/m"],
        1,
        ["--local nodir is not a directory"],
    ),
    Case("verify-local-needs-repo", "shai-models", ["verify", "--local", "."], 1, ["--local needs --repo"]),
    Case("sync-unknown-option", "shai-models", ["sync", "--bogus"], 2, ["No such option: --bogus"]),
]
DRIFT_CASES = [
    # old: exit 0 CLEAN and shai_drift_run_success 1
    Case(
        "drift-inventory-typo",
        "shai",
        [*DRIFT, "-i", "inventories/typo.yml"],
        1,
        ["inventory inventories/typo.yml does not exist"],
    ),
    Case(
        "drift-inventory-empty",
        "shai",
        [*DRIFT, "-i", "empty.yml"],
        1,
        ["inventory empty.yml selects no host"],
        _files({"empty.yml": "all:\n  children:\n    gpu_workstation: {}\n"}),
    ),
    Case(
        "drift-limit-matches-nothing",
        "shai",
        [*DRIFT, "-i", "hosts.yml", "--limit", "typo"],
        1,
        ["selects no host with --limit typo"],
        STD,
    ),
    Case(
        "drift-inventory-unparsable",
        "shai",
        [*DRIFT, "-i", "broken.yml"],
        1,
        ["cannot read", "broken.yml"],
        _files({"broken.yml": "all: [\n"}),
    ),
    Case(
        "drift-vault-password-file-missing",
        "shai",
        [*DRIFT, "--vault-password-file", "nope"],
        1,
        ["--vault-password-file nope does not exist"],
    ),
    Case(
        "drift-report-missing",
        "shai",
        ["drift", "report", "nothing-here"],
        1,
        ["no drift report at nothing-here"],
    ),
    Case(
        "drift-report-not-json",
        "shai",
        ["drift", "report", "r.json"],
        1,
        ["r.json: not a drift report"],
        _files({"r.json": "not json\n"}),
    ),
    Case("drift-unknown-option", "shai", ["drift", "run", "--bogus"], 2, ["No such option: --bogus"]),
]
LAB_GITOPS_CASES = [
    Case(
        "lab-run-site-not-up",
        "shai",
        ["lab", "run-site", "--name", "nosuchlab"],
        1,
        ["lab nosuchlab is not up"],
    ),
    Case(
        "lab-ssh-not-up", "shai", ["lab", "ssh", "h", "--name", "nosuchlab"], 1, ["lab nosuchlab is not up"]
    ),
    Case(
        "lab-status-bad-name",
        "shai",
        ["lab", "status", "--name", "Bad_Name"],
        1,
        ["invalid lab name 'Bad_Name'"],
    ),
    Case(
        "lab-instances-not-up",
        "shai",
        ["lab", "instances", "--name", "nosuchlab"],
        1,
        ["lab nosuchlab is not up"],
    ),
    Case("kube-apply-tree-missing", "shai", ["lab", "kube", "apply-tree", "missing"], 1, ["missing"]),
    Case(
        "gitops-render-inventory-missing",
        "shai",
        ["gitops", "render", "-i", "nope", "-o", "{out}/tree"],
        1,
        ["inventory nope does not exist"],
    ),
    Case("gitops-validate-missing", "shai", ["gitops", "validate", "nope"], 1, ["nope is not a directory"]),
    Case(
        "gitops-seed-inventory-missing",
        "shai",
        ["gitops", "seed", "-i", "nope"],
        1,
        ["inventory nope does not exist"],
    ),
    Case(
        "gitops-pins-dir-missing", "shai", ["gitops", "pins", "--gitops-dir", "nope"], 1, ["nope/values.yml"]
    ),
]


@pytest.mark.parametrize("case", MODELS_CASES + DRIFT_CASES + LAB_GITOPS_CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    ws, out = tmp_path / "ws", tmp_path / "out"
    ws.mkdir()
    out.mkdir()
    if case.setup is not None:
        case.setup(ws)
    before = tree_digest(ws)
    env = {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "HF_TOKEN": TOKEN,
        "HF_ENDPOINT": "http://127.0.0.1:9",  # never the internet, even by mistake
        "SHAI_CACHE": str(out / "cache"),
        **case.env,
    }
    args = [a.replace("{out}", str(out)) for a in case.args]
    outcome = run_cli(case.entry, args, cwd=ws, env=env)
    assert_refused(outcome, case.code, case.words, secrets=[TOKEN], where=f"{case.entry} {' '.join(args)}")
    assert tree_digest(ws) == before, "the workspace changed"
    if case.id.startswith(("drift-inventory", "drift-limit", "drift-vault")):
        assert "shai_drift_run_success 0" in (out / "shai_drift.prom").read_text()
