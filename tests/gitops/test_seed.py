"""Seeding against a REAL git server on loopback (git daemon with receive-pack enabled)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_seed
from gitops_helpers import git

from shai.gitops import core


def _log(url: str, tmp: Path, name: str = "check") -> tuple[list[str], Path]:
    clone = tmp / name
    git("clone", "--quiet", url, str(clone))
    return git("log", "--format=%s", cwd=clone).splitlines(), clone


def test_first_seed_commits_second_is_noop(
    git_daemon: str, rendered: dict[str, bytes], tmp_path: Path
) -> None:
    first = core.seed(rendered, git_daemon, "main")
    assert first.changed and first.pushed and first.attempts == 1
    assert "apps/litellm.yaml" in first.files
    log, clone = _log(git_daemon, tmp_path)
    assert log == ["shai gitops: seed rendered tree"]
    assert core.read(clone) == rendered  # byte-identical

    second = core.seed(rendered, git_daemon, "main")
    assert not second.changed and not second.pushed and second.files == []
    assert second.commit == first.commit
    assert len(_log(git_daemon, tmp_path, "again")[0]) == 1


def test_check_mode_shows_diff_and_pushes_nothing(
    git_daemon: str, rendered: dict[str, bytes], tmp_path: Path
) -> None:
    core.seed(rendered, git_daemon, "main")
    changed = dict(rendered)
    changed["apps/litellm.yaml"] = rendered["apps/litellm.yaml"].replace(
        b"selfHeal: true", b"selfHeal: false"
    )
    del changed["apps/n8n.yaml"]
    preview = core.seed(changed, git_daemon, "main", check=True)
    assert preview.changed and not preview.pushed
    assert preview.files == ["apps/litellm.yaml", "apps/n8n.yaml"]
    assert "-      selfHeal: true\n+      selfHeal: false" in preview.diff
    assert "+++ /dev/null" in preview.diff
    assert len(_log(git_daemon, tmp_path)[0]) == 1  # nothing pushed


def test_seed_below_a_path_keeps_the_rest_of_the_repo(
    git_daemon: str, rendered: dict[str, bytes], tmp_path: Path
) -> None:
    work = tmp_path / "other"
    git("clone", "--quiet", git_daemon, str(work))
    (work / "NOTES.md").write_text("hand-written\n")
    git("add", "NOTES.md", cwd=work)
    git("commit", "--quiet", "-m", "notes", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    res = core.seed(rendered, git_daemon, "main", path="clusters/homelab")
    assert res.changed
    clone = _log(git_daemon, tmp_path)[1]
    assert (clone / "NOTES.md").read_text() == "hand-written\n"
    assert (clone / "clusters" / "homelab" / "apps" / "litellm.yaml").is_file()


def test_concurrent_push_is_rebased_onto(
    git_daemon: str, rendered: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer pushes between our clone and our push: the seed re-applies on the new head.

    The other writer's commit stays in history (never a force push) and, being outside the seeded
    path, its file survives; inside the path the rendered tree is the truth.
    """
    core.seed(rendered, git_daemon, "main", path="clusters/homelab")
    other = tmp_path / "other"
    git("clone", "--quiet", git_daemon, str(other))
    original = gitops_seed._apply_tree
    calls = {"n": 0}

    def racing_apply(repo: str, path: str, files: dict[str, bytes]) -> dict[str, bytes]:
        calls["n"] += 1
        if calls["n"] == 1:  # the concurrent writer wins the race once
            (other / "CONCURRENT.md").write_text("pushed meanwhile\n")
            git("add", "CONCURRENT.md", cwd=other)
            git("commit", "--quiet", "-m", "concurrent change", cwd=other)
            git("push", "--quiet", "origin", "HEAD:main", cwd=other)
        return dict(original(repo, path, files))

    monkeypatch.setattr(gitops_seed, "_apply_tree", racing_apply)
    changed = dict(rendered)
    changed["apps/litellm.yaml"] = rendered["apps/litellm.yaml"] + b"# touched\n"
    res = core.seed(changed, git_daemon, "main", path="clusters/homelab")
    assert res.pushed and res.attempts == 2
    log, clone = _log(git_daemon, tmp_path)
    assert log == ["shai gitops: seed rendered tree", "concurrent change", "shai gitops: seed rendered tree"]
    assert (clone / "CONCURRENT.md").is_file()  # the other writer's commit survives (no force push)
    assert (clone / "clusters" / "homelab" / "apps" / "litellm.yaml").read_bytes().endswith(b"# touched\n")


def test_remote_that_keeps_moving_fails_clearly(
    git_daemon: str, rendered: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core.seed(rendered, git_daemon, "main")
    other = tmp_path / "other"
    git("clone", "--quiet", git_daemon, str(other))
    original = gitops_seed._apply_tree

    def always_race(repo: str, path: str, files: dict[str, bytes]) -> dict[str, bytes]:
        git("commit", "--quiet", "--allow-empty", "-m", "racer", cwd=other)
        git("push", "--quiet", "origin", "HEAD:main", cwd=other)
        return dict(original(repo, path, files))

    monkeypatch.setattr(gitops_seed, "_apply_tree", always_race)
    changed = {**rendered, "extra.txt": b"x\n"}
    with pytest.raises(core.SeedError, match=r"kept moving: gave up after 4 attempts \(no force push\)"):
        core.seed(changed, git_daemon, "main")


def test_unreachable_remote_is_a_clear_error(rendered: dict[str, bytes]) -> None:
    with pytest.raises(core.SeedError, match=r"cannot reach git://127\.0\.0\.1:9/x\.git"):
        core.seed(rendered, "git://127.0.0.1:9/x.git", "main")


def test_local_path_url(rendered: dict[str, bytes], tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    assert core.seed(rendered, str(bare), "main").changed
    assert not core.seed(rendered, str(bare), "main").changed


def test_https_token_via_askpass_never_in_argv_or_errors(
    rendered: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token auth against a real smart-HTTP server (git http-backend behind Basic auth).

    The token reaches git only through GIT_ASKPASS + the child environment: never in argv, the
    URL, the error messages or the pushed repository.
    """
    from gitops_git_http import GitHttpServer

    token = "glpat-SECRET-token-0123456789"  # shai-scan: allow (test token)
    subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path / "platform.git")], check=True)
    argvs: list[list[str]] = []
    real_run = subprocess.run

    def spy(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        argvs.append(list(cmd))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(gitops_seed.subprocess, "run", spy)
    with GitHttpServer(tmp_path, "seeder", token) as server:
        url = server.url("platform.git")
        res = core.seed(rendered, url, "main", token=token, username="seeder")
        assert res.pushed
        assert not core.seed(rendered, url, "main", token=token, username="seeder").changed
        with pytest.raises(core.SeedError) as wrong:
            core.seed(rendered, url, "main", token="wrong-" + token, username="seeder")
        assert token not in str(wrong.value)
        with pytest.raises(core.SeedError, match="cannot reach"):
            core.seed(rendered, url, "main")  # no token: 401, no prompt (GIT_TERMINAL_PROMPT=0)
    assert argvs and not any(token in " ".join(a) for a in argvs)
    config = (tmp_path / "platform.git" / "config").read_text()
    assert token not in config
    log = real_run(
        ["git", "--git-dir", str(tmp_path / "platform.git"), "log", "-p", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert token not in log


def test_cli_seed_commits_then_reports_unchanged(git_daemon: str, tmp_path: Path) -> None:
    from gitops_helpers import INVENTORY, REPO
    from gitops_sealed import add_sealed_secrets
    from typer.testing import CliRunner

    from shai.gitops.cli import app

    # the repo's gitops/ plus the catalog's SealedSecrets (the seed validates: a tree without any
    # is a secrets-sealed finding)
    gitops = tmp_path / "gitops"
    gitops.mkdir()
    for name in ("templates", "values.yml", "crds"):
        (gitops / name).symlink_to(REPO / "gitops" / name)
    add_sealed_secrets(gitops)
    seed = ["seed", "-i", str(INVENTORY), "--url", git_daemon, "--gitops-dir", str(gitops)]
    runner = CliRunner()
    check = runner.invoke(app, [*seed, "--check", "--token-env", "NONE_SET"])
    assert check.exit_code == 1 and "NONE_SET is empty or unset" in check.output
    first = runner.invoke(app, seed)
    assert first.exit_code == 0, first.output
    assert "committed" in first.output
    again = runner.invoke(app, [*seed, "--check", "--diff"])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output


def test_non_bare_repo_with_the_branch_checked_out_says_so(
    rendered: dict[str, bytes], tmp_path: Path
) -> None:
    """Issue 14: git refuses to push into a checked-out branch; the seed says so at once (before:
    three retries, then 'the remote branch kept moving')."""
    work = tmp_path / "work"
    git("init", "--quiet", "--initial-branch", "main", str(work))
    with pytest.raises(gitops_seed.SeedError, match="non-bare repository with branch main checked out"):
        core.seed(rendered, str(work), "main")
    with pytest.raises(gitops_seed.SeedError, match="non-bare repository with branch main checked out"):
        core.seed(rendered, f"file://{work}", "main")
    assert not (work / "apps").exists()


def test_seed_lists_each_file_it_removes(git_daemon: str, rendered: dict[str, bytes], tmp_path: Path) -> None:
    """Files an operator added next to the tree are removed by the seed, and each one is named."""
    core.seed(rendered, git_daemon, "main")
    work = tmp_path / "op"
    git("clone", "--quiet", git_daemon, str(work))
    (work / "apps" / "hand-made.yaml").write_text("kind: ConfigMap\n")
    (work / "extra").mkdir()
    (work / "extra" / "notes.txt").write_text("mine\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "operator additions", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    preview = core.seed(rendered, git_daemon, "main", check=True)
    assert preview.deleted == ["apps/hand-made.yaml", "extra/notes.txt"]
    done = core.seed(rendered, git_daemon, "main")
    assert done.pushed and done.deleted == ["apps/hand-made.yaml", "extra/notes.txt"]
    assert done.as_dict()["deleted"] == done.deleted
