"""`shai-models pin`: branch/tag revisions → commits, in place, against the Hub TEST DOUBLE."""

from __future__ import annotations

import json
from pathlib import Path

from hub_double import HubDouble
from typer.testing import CliRunner

from shai.models.cli import app

runner = CliRunner()

MANIFEST = """---
# operator comment: kept as is
shai_models:
  targets:
    gpu_workstation:
      hosts: gpu_workstation
      root: /srv/models
      files:
        - name: tts  # trailing comment
          hf:
            repo: org/tts
            revision: main
            include: ["*.pth"]
          dest: tts
        - name: weights
          hf: {repo: org/weights, revision: "main", path: model.safetensors}
          dest: weights
        - name: plain
          url: http://127.0.0.1:9/x.bin
          sha256: "{sha}"
          dest: plain
""".replace("{sha}", "a" * 64)


def _flat(text: str) -> str:
    """rich wraps error lines at the terminal width: compare with whitespace collapsed."""
    return " ".join(text.split())


def _manifest(tmp_path: Path, text: str = MANIFEST) -> Path:
    p = tmp_path / "models.yml"
    p.write_text(text)
    p.chmod(0o640)
    return p


def test_pin_rewrites_only_the_revisions_and_is_idempotent(
    hub: HubDouble, repo_dir: Path, tmp_path: Path
) -> None:
    a = hub.add_repo("org/tts", repo_dir)
    b = hub.add_repo("org/weights", repo_dir / "sub")
    path = _manifest(tmp_path)
    res = runner.invoke(app, ["pin", "--manifest", str(path), "--json"])
    assert res.exit_code == 0, res.output
    pins = {p["repo"]: p for p in json.loads(res.stdout)["pins"]}
    assert pins["org/tts"]["status"] == "updated" and pins["org/tts"]["commit"] == a.commit
    assert pins["org/weights"]["commit"] == b.commit
    expected = MANIFEST.replace("revision: main", f"revision: {a.commit}").replace(
        'revision: "main"', f"revision: {b.commit}"
    )
    assert path.read_text() == expected  # comments, flow style and the url entry untouched
    assert path.stat().st_mode & 0o777 == 0o640
    # now valid without --allow-unpinned; a second pin changes nothing
    assert runner.invoke(app, ["list", "--manifest", str(path)]).exit_code == 0
    again = runner.invoke(app, ["pin", "--manifest", str(path), "--json"])
    assert {p["status"] for p in json.loads(again.stdout)["pins"]} == {"pinned"}
    assert path.read_text() == expected


def test_dry_run_writes_nothing(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    hub.add_repo("org/tts", repo_dir)
    hub.add_repo("org/weights", repo_dir)
    path = _manifest(tmp_path)
    res = runner.invoke(app, ["pin", "--manifest", str(path), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "would pin" in res.stdout
    assert path.read_text() == MANIFEST


def test_one_unresolvable_entry_leaves_the_file_untouched(
    hub: HubDouble, repo_dir: Path, tmp_path: Path
) -> None:
    hub.add_repo("org/tts", repo_dir)  # org/weights does not exist
    path = _manifest(tmp_path)
    res = runner.invoke(app, ["pin", "--manifest", str(path)])
    assert res.exit_code == 1
    msg = _flat(res.output)
    assert "nothing written" in msg and "targets.gpu_workstation.files[1] (weights)" in msg
    assert "repository org/weights not found" in msg
    assert path.read_text() == MANIFEST
    assert not list(tmp_path.glob(".models.yml.*"))  # no temp file left behind


def test_unknown_revision_names_the_entry(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    hub.add_repo("org/tts", repo_dir)
    hub.add_repo("org/weights", repo_dir)
    path = _manifest(tmp_path, MANIFEST.replace("revision: main", "revision: v9"))
    res = runner.invoke(app, ["pin", "--manifest", str(path)])
    assert res.exit_code == 1
    assert "targets.gpu_workstation.files[0] (tts) org/tts@v9: revision 'v9' not found" in _flat(res.output)


def test_homelab_manifest_is_found_and_parsed_offline() -> None:
    """The homelab manifest's unpinned entries are all found (no Hub contacted: parse only)."""
    from shai.models import pin as pinmod

    root = Path(__file__).resolve().parents[2]
    text = (root / "inventories" / "homelab" / "models.yml").read_text()
    sites = pinmod.find_revisions(text)
    assert {s.pin.repo for s in sites} >= {"coqui/XTTS-v2", "stabilityai/stable-diffusion-xl-base-1.0"}
    for s in sites:
        assert text[s.start : s.end] in (s.pin.revision, f'"{s.pin.revision}"')


def test_repo_type_reaches_the_resolver() -> None:
    """`hf.repo_type` (dataset, space) is passed to the Hub lookup; model is the default."""
    from shai.models import pin as pinmod

    text = MANIFEST.replace("repo: org/tts\n", "repo: org/tts\n            repo_type: dataset\n")
    seen: list[tuple[str, str]] = []

    def resolve(repo: str, revision: str, repo_type: str) -> str:
        seen.append((repo, repo_type))
        return "c" * 40

    pinmod.pin_text(text, resolve)
    assert seen == [("org/tts", "dataset"), ("org/weights", "model")]
