"""`shai-models download-hf` driving the real huggingface_hub against the Hub TEST DOUBLE."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hub_double import HubDouble
from typer.testing import CliRunner

from shai.models.cli import app

runner = CliRunner()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_download_verifies_every_file(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    repo = hub.add_repo("coqui/XTTS-v2", repo_dir)
    dest = tmp_path / "xtts"
    res = runner.invoke(app, ["download-hf", "coqui/XTTS-v2", "--dest", str(dest), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout[res.stdout.index("{") :])
    assert report["commit"] == repo.commit and report["ok"]
    assert {f["path"]: f["algorithm"] for f in report["files"]} == {
        "config.json": "git-sha1",
        "model.safetensors": "sha256",
        "speakers.pth": "sha256",
        "sub/vocab.txt": "git-sha1",
    }
    assert _sha(dest / "model.safetensors") == _sha(repo_dir / "model.safetensors")


def test_include_exclude_and_pinned_revision(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    repo = hub.add_repo("org/m", repo_dir)
    dest = tmp_path / "d"
    res = runner.invoke(
        app,
        [
            "download-hf",
            "org/m",
            "--revision",
            repo.commit,
            "--include",
            "*.pth",
            "--include",
            "*.json",
            "--exclude",
            "config.json",
            "--dest",
            str(dest),
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in dest.iterdir() if p.is_file()) == ["speakers.pth"]


def test_interrupted_download_resumes_on_next_run(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    hub.add_repo("org/m", repo_dir)
    size = (repo_dir / "model.safetensors").stat().st_size
    cut = size // 2
    # the server drops the connection mid-file, then answers 503 (the in-run retries fail)
    hub.cut("org/m/model.safetensors", cut, then_fail=True)
    dest = tmp_path / "d"
    first = runner.invoke(app, ["download-hf", "org/m", "--dest", str(dest)])
    assert first.exit_code != 0
    assert not (dest / "model.safetensors").exists()
    hub.heal()
    sent_before = hub.bytes_sent("/cdn/")
    second = runner.invoke(app, ["download-hf", "org/m", "--dest", str(dest)])
    assert second.exit_code == 0, second.output
    resumed = [r for r in hub.state.requests if r.path.startswith("/cdn/") and r.range]
    assert resumed and resumed[-1].range == f"bytes={cut}-"
    # only the missing half moves: the other files were complete after the first run
    assert hub.bytes_sent("/cdn/") - sent_before == size - cut
    assert _sha(dest / "model.safetensors") == _sha(repo_dir / "model.safetensors")


def test_bytes_not_matching_lfs_oid_fail_and_are_removed(
    hub: HubDouble, repo_dir: Path, tmp_path: Path
) -> None:
    hub.add_repo("org/m", repo_dir)
    hub.state.corrupt.add("org/m/model.safetensors")
    dest = tmp_path / "d"
    res = runner.invoke(app, ["download-hf", "org/m", "--dest", str(dest)])
    assert res.exit_code == 1
    assert "did not match the Hub and were removed: model.safetensors" in res.output.replace("\n", "")
    assert not (dest / "model.safetensors").exists()
    assert (dest / "config.json").exists()


def test_corrupt_file_in_the_cache_layout_is_removed_too(hub: HubDouble, repo_dir: Path) -> None:
    hub.add_repo("org/m", repo_dir)
    hub.state.corrupt.add("org/m/speakers.pth")
    res = runner.invoke(app, ["download-hf", "org/m", "--json"])
    assert res.exit_code == 1
    report = json.loads(res.stdout[res.stdout.index("{") :])
    snap = Path(report["dest"])
    assert not (snap / "speakers.pth").exists()
    blobs = list((snap.parents[1] / "blobs").iterdir())
    assert _sha(repo_dir / "speakers.pth") not in [b.name for b in blobs]


def test_gated_repo_without_token_is_a_clear_error(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    hub.add_repo("org/gated", repo_dir, gated=True)
    res = runner.invoke(app, ["download-hf", "org/gated", "--dest", str(tmp_path / "g")])
    assert res.exit_code == 1
    assert "org/gated is a gated repository: set HF_TOKEN" in res.output.replace("\n", " ")
    hub.state.tokens_with_access.add("hf_good")
    args = ["download-hf", "org/gated", "--dest", str(tmp_path / "g")]
    # the double is plain http: the token is withheld unless the operator says --token-over-http
    withheld = runner.invoke(app, args, env={"HF_TOKEN": "hf_good"})
    assert withheld.exit_code == 1 and "not sent over plain http" in withheld.output.replace("\n", " ")
    ok = runner.invoke(app, [*args, "--token-over-http"], env={"HF_TOKEN": "hf_good"})
    assert ok.exit_code == 0, ok.output


def test_missing_repo_and_revision(hub: HubDouble, repo_dir: Path) -> None:
    hub.add_repo("org/m", repo_dir)
    res = runner.invoke(app, ["download-hf", "org/none"])
    assert res.exit_code == 1 and "repository org/none not found" in res.output
    res = runner.invoke(app, ["download-hf", "org/m", "--revision", "v9"])
    assert res.exit_code == 1 and "revision 'v9' not found" in res.output


def test_verify_local_folder_without_any_repo_file_is_an_error(
    hub: HubDouble, repo_dir: Path, tmp_path: Path
) -> None:
    """Nothing verified is not "ok" (issue 14, class 1)."""
    hub.add_repo("org/m", repo_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["verify", "--local", str(empty), "--repo", "org/m"])
    assert res.exit_code == 1 and "is in" in res.output and "nothing verified" in res.output
