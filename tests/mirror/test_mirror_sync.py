"""gitlab-mirror-sync against the GitHub and GitLab API TEST DOUBLES (tests/mirror/forge_doubles.py)
with real git repositories behind them. The program runs as the CronJob runs it: a subprocess
with its config file and the tokens in the environment. A `git` wrapper first on PATH records
every git command line, so the tests can prove no token reaches argv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from forge_doubles import GitHubDouble, GitLabDouble, Repo

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "gitops/templates/platform/gitlab-mirror-sync/gitlab_mirror_sync.py"
GH_TOKEN = "ghp_doubleTOKENgithub0123456789"  # shai-scan: allow (test double token)
GL_TOKEN = "glpat-doubleTOKENgitlab0123456789"  # shai-scan: allow (test double token)


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_upstream(bare: Path, branches: dict[str, str], tags: dict[str, str]) -> None:
    """A bare repo with one commit per branch (content = branch name) and lightweight tags."""
    work = bare.parent / (bare.name + ".work")
    _git("init", "--quiet", "-b", "main", str(work))
    for i, branch in enumerate(branches):
        if i:
            _git("checkout", "--quiet", "-b", branch, "main", cwd=work)
        (work / "f.txt").write_text(branches[branch])
        _git("add", "f.txt", cwd=work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", branch, cwd=work)
    for tag, ref in tags.items():
        _git("tag", tag, ref, cwd=work)
    _git("clone", "--quiet", "--bare", str(work), str(bare))
    _git("-C", str(bare), "config", "uploadpack.allowAnySHA1InWant", "true")
    # GitHub also advertises read-only pull-request refs; the mirror must not push them.
    head = _git("-C", str(bare), "rev-parse", "main").strip()
    _git("-C", str(bare), "update-ref", "refs/pull/1/head", head)


def refs(bare: Path) -> dict[str, str]:
    out = _git("-C", str(bare), "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split() for line in out.splitlines())


@dataclass
class Forges:
    github: GitHubDouble
    gitlab: GitLabDouble
    tmp: Path

    def config(self, **extra: object) -> Path:
        cfg = {
            "github_api": self.github.url,
            "github_git": self.github.url,
            "gitlab_url": self.gitlab.url,
            "sources": [
                {"github": "tzervas", "kind": "user", "gitlab_group": "github-tzervas"},
                {"github": "vwt", "kind": "org", "gitlab_group": "github-vector-weight-technologies"},
            ],
            "workdir": str(self.tmp / "work"),
            "timeout": 20,
            **extra,
        }
        path = self.tmp / "config.json"
        path.write_text(json.dumps(cfg))
        return path

    def run(
        self, config: Path | None = None, github_token: str | None = GH_TOKEN, **env: str
    ) -> tuple[int, str]:
        wrapper_dir = self.tmp / "bin"
        wrapper_dir.mkdir(exist_ok=True)
        real_git = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
        (wrapper_dir / "git").write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$*" >> {self.tmp}/git-argv.log\nexec {real_git} "$@"\n'
        )
        (wrapper_dir / "git").chmod(0o755)
        full_env = {
            "PATH": f"{wrapper_dir}:{os.environ['PATH']}",
            "MIRROR_CONFIG": str(config or self.config()),
            "GITLAB_TOKEN": GL_TOKEN,
            **({"GITHUB_TOKEN": github_token} if github_token else {}),
            **env,
        }
        proc = subprocess.run(
            [sys.executable, str(PROGRAM)],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return proc.returncode, proc.stdout + proc.stderr


def _doubles(tmp_path: Path) -> tuple[GitHubDouble, GitLabDouble]:
    gh = GitHubDouble(root=tmp_path / "github", token=GH_TOKEN, orgs={"vwt"})
    gl = GitLabDouble(
        root=tmp_path / "gitlab",
        token=GL_TOKEN,
        groups={"github-tzervas": 7, "github-vector-weight-technologies": 8},
    )
    return gh, gl


@pytest.fixture
def empty_forges(tmp_path: Path) -> Iterator[Forges]:
    """The two API doubles with one (empty-listing) repository each: for failures before any git."""
    gh, gl = _doubles(tmp_path)
    gh.add_repo(Repo("tzervas", "alpha"))
    gh.add_repo(Repo("vwt", "platform"))
    with gh, gl:
        yield Forges(gh, gl, tmp_path)


@pytest.fixture
def forges(tmp_path: Path) -> Iterator[Forges]:
    gh, gl = _doubles(tmp_path)
    make_upstream(gh.add_repo(Repo("tzervas", "alpha")), {"main": "a", "dev": "b"}, {"v1": "main"})
    make_upstream(gh.add_repo(Repo("tzervas", "beta", private=True)), {"main": "c"}, {})
    make_upstream(gh.add_repo(Repo("tzervas", "gamma")), {"main": "d"}, {"v0.1": "main"})
    make_upstream(gh.add_repo(Repo("tzervas", "forked", fork=True)), {"main": "e"}, {})
    make_upstream(gh.add_repo(Repo("vwt", "platform")), {"main": "f", "release": "g"}, {"v2": "release"})
    with gh, gl:
        yield Forges(gh, gl, tmp_path)


def _lines(output: str, prefix: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(prefix)]


def test_mirrors_every_branch_and_tag_across_pages(forges: Forges) -> None:
    rc, out = forges.run()
    assert rc == 0, out
    assert sorted(forges.gitlab.projects) == [
        "github-tzervas/alpha",
        "github-tzervas/beta",
        "github-tzervas/gamma",
        "github-vector-weight-technologies/platform",
    ]  # the fork is skipped (include_forks: false); the private repo is listed with the token
    for full in forges.gitlab.projects:
        owner = "vwt" if full.startswith("github-vector") else "tzervas"
        upstream = refs(forges.github.root / owner / f"{full.split('/')[1]}.git")
        mirrored = refs(forges.gitlab.root / f"{full}.git")
        assert mirrored == {k: v for k, v in upstream.items() if not k.startswith("refs/pull/")}
    # GitHub paginated (page size 2 for tzervas' 4 repos): the Link header was followed.
    listed = [p for m, p, _ in forges.github.requests if p == "/users/tzervas/repos"]
    assert len(listed) == 2
    assert "mirror summary repos=4 ok=4 failed=0" in out
    assert 'gitlab_mirror_sync_repos{status="failed"} 0' in out
    assert len(_lines(out, "mirror repo=")) == 4


def test_second_run_is_idempotent_and_follows_upstream(forges: Forges) -> None:
    assert forges.run()[0] == 0
    seen = len(forges.gitlab.requests)
    upstream = forges.github.root / "tzervas" / "alpha.git"
    _git("-C", str(upstream), "update-ref", "-d", "refs/heads/dev")
    _git(
        "-C",
        str(upstream),
        "update-ref",
        "refs/heads/feature",
        _git("-C", str(upstream), "rev-parse", "main").strip(),
    )
    rc, out = forges.run()
    assert rc == 0, out
    assert all("created=false" in line for line in _lines(out, "mirror repo="))
    assert not any(m == "POST" and p.startswith("/api/") for m, p, _ in forges.gitlab.requests[seen:])
    mirrored = refs(forges.gitlab.root / "github-tzervas" / "alpha.git")
    assert "refs/heads/dev" not in mirrored and "refs/heads/feature" in mirrored


def test_a_failing_repo_does_not_stop_the_others(forges: Forges) -> None:
    forges.gitlab.refuse_create.add("alpha")
    rc, out = forges.run()
    assert rc == 1
    alpha = next(line for line in _lines(out, "mirror repo=tzervas/alpha"))
    assert "status=failed" in alpha and "could not create project github-tzervas/alpha: HTTP 500" in alpha
    assert "mirror summary repos=4 ok=3 failed=1" in out
    assert "github-vector-weight-technologies/platform" in forges.gitlab.projects


def test_tokens_never_in_argv_or_output(forges: Forges) -> None:
    rc, out = forges.run()
    assert rc == 0, out
    argv_log = (forges.tmp / "git-argv.log").read_text()
    assert "fetch" in argv_log and "push" in argv_log
    for token in (GH_TOKEN, GL_TOKEN):
        assert token not in argv_log
        assert token not in out
    # The private repo was fetched with the GitHub token through GIT_ASKPASS (Basic auth).
    git_auth = [
        hdr.get("Authorization", "")
        for _, p, hdr in forges.github.requests
        if p.startswith("/git/tzervas/beta")
    ]
    assert any(a.startswith("Basic ") for a in git_auth)


def test_without_github_token_only_public_repos(forges: Forges) -> None:
    rc, out = forges.run(github_token=None)
    assert rc == 0, out
    assert "github-tzervas/beta" not in forges.gitlab.projects
    assert all(
        "Authorization" not in hdr for _, p, hdr in forges.github.requests if not p.startswith("/git/")
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda f: setattr(f.github, "rate_limited", True), "GitHub rate limit reached listing tzervas"),
        (lambda f: setattr(f.github, "token", "other"), "GitHub refused the token listing tzervas (401)"),
        (lambda f: f.gitlab.groups.pop("github-tzervas"), "GitLab group 'github-tzervas' not found"),
    ],
)
def test_source_level_failures_are_named(empty_forges: Forges, setup: object, message: str) -> None:
    setup(empty_forges)  # type: ignore[operator]
    rc, out = empty_forges.run()
    assert rc == 1
    assert message in out
    assert "Traceback" not in out


def test_wrong_gitlab_token_is_reported(empty_forges: Forges) -> None:
    rc, out = empty_forges.run(GITLAB_TOKEN="glpat-wrong")
    assert rc == 1
    assert "GitLab refused the token reading group github-tzervas (401)" in out
    assert "glpat-wrong" not in out


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"gitlab_url": "http://x", "sources": []}, "no sources configured"),
        ({"sources": [{"github": "a", "gitlab_group": "b"}]}, "gitlab_url is required"),
        ({"gitlab_url": "http://x", "sorces": []}, "unknown key(s) sorces"),
        (
            {"gitlab_url": "http://x", "sources": [{"github": "a", "gitlab_group": "b", "kind": "team"}]},
            "kind must be",
        ),
    ],
)
def test_bad_config_exit_2(empty_forges: Forges, config: dict[str, object], message: str) -> None:
    path = empty_forges.tmp / "bad.json"
    path.write_text(json.dumps(config))
    rc, out = empty_forges.run(config=path)
    assert rc == 2
    assert message in out and "Traceback" not in out


def test_missing_config_and_token(empty_forges: Forges) -> None:
    rc, out = empty_forges.run(config=empty_forges.tmp / "nope.json")
    assert rc == 2 and "nope.json" in out
    rc, out = empty_forges.run(GITLAB_TOKEN="")
    assert rc == 2 and "GITLAB_TOKEN is not set" in out
