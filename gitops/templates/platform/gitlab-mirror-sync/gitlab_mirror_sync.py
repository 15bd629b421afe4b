"""gitlab-mirror-sync: mirror every repository of GitHub users/orgs into GitLab groups.

Stdlib only: it runs from a ConfigMap on a stock Python image that has git (the CronJob
``gitlab-mirror-sync`` in namespace ``gitlab``, rendered by the shai GitOps tree).

For each configured source (a GitHub user or org -> a GitLab group):
  1. list the source's repositories (GitHub REST API, paginated; token optional for public ones),
  2. ensure a GitLab project of the same path exists in the group (GitLab REST API),
  3. mirror every branch and tag: fetch ``refs/heads/*`` and ``refs/tags/*`` into a bare
     repository (pruned), then push them to GitLab with ``--prune`` — what ``clone --mirror`` +
     ``push --mirror`` does, minus GitHub's read-only ``refs/pull/*``, which GitLab would refuse.

Tokens come from the environment (GITHUB_TOKEN optional, GITLAB_TOKEN required) and reach git
only through GIT_ASKPASS (this program answers the prompts): never in argv, URLs or logs.
A failing repository does not stop the others. One line per repository, then a summary line and
Prometheus-style lines; exit 0 when every repository mirrored, 1 when any failed, 2 on bad config.

Configuration: JSON file named by MIRROR_CONFIG (default /etc/gitlab-mirror-sync/config.json):
  {"github_api": "https://api.github.com", "github_git": "https://github.com",
   "gitlab_url": "http://gitlab-webservice-default.gitlab.svc:8181",
   "sources": [{"github": "tzervas", "kind": "user", "gitlab_group": "github-tzervas"}],
   "include_forks": false, "include_archived": true, "visibility": "private",
   "workdir": "/var/cache/mirror", "timeout": 60}
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USER_AGENT = "shai-gitlab-mirror-sync/1"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


class MirrorError(Exception):
    """One repository or source could not be mirrored (the message says why, without secrets)."""


class ConfigError(Exception):
    """The configuration is unusable."""


@dataclass(frozen=True)
class Source:
    github: str
    kind: str  # "user" | "org"
    gitlab_group: str


@dataclass
class Config:
    gitlab_url: str
    sources: list[Source]
    github_api: str = "https://api.github.com"
    github_git: str = "https://github.com"
    include_forks: bool = False
    include_archived: bool = True
    visibility: str = "private"
    workdir: Path = Path("/var/cache/mirror")
    timeout: float = 60.0


@dataclass
class Result:
    repo: str
    status: str = "ok"
    detail: str = ""
    seconds: float = 0.0
    refs: int = 0
    created: bool = False


@dataclass
class Http:
    timeout: float

    def request(
        self, method: str, url: str, token: str | None, auth: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers with lower-case names, parsed JSON body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("User-Agent", USER_AGENT)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header(auth, f"Bearer {token}" if auth == "Authorization" else token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, _lower(resp.headers.items()), json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            return exc.code, _lower(exc.headers.items()), payload
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MirrorError(f"{method} {url.split('?')[0]}: {reason}") from None


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


def load_config(path: Path) -> Config:
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    known = set(Config.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if not raw.get("gitlab_url"):
        raise ConfigError(f"{path}: gitlab_url is required")
    sources = []
    for i, s in enumerate(raw.get("sources") or []):
        if not isinstance(s, dict) or not s.get("github") or not s.get("gitlab_group"):
            raise ConfigError(f"{path}: sources[{i}] needs 'github' and 'gitlab_group'")
        kind = s.get("kind", "user")
        if kind not in ("user", "org"):
            raise ConfigError(f"{path}: sources[{i}].kind must be 'user' or 'org', not {kind!r}")
        sources.append(Source(str(s["github"]), kind, str(s["gitlab_group"]).strip("/")))
    if not sources:
        raise ConfigError(f"{path}: no sources configured (nothing to mirror is an error, not a success)")
    cfg = Config(gitlab_url=str(raw["gitlab_url"]).rstrip("/"), sources=sources)
    for key in ("github_api", "github_git"):
        if key in raw:
            setattr(cfg, key, str(raw[key]).rstrip("/"))
    for key in ("include_forks", "include_archived"):
        if key in raw:
            setattr(cfg, key, bool(raw[key]))
    if "visibility" in raw:
        cfg.visibility = str(raw["visibility"])
    if "workdir" in raw:
        cfg.workdir = Path(raw["workdir"])
    if "timeout" in raw:
        cfg.timeout = float(raw["timeout"])
    return cfg


def _rate_limited(status: int, headers: dict[str, str]) -> bool:
    return status == 429 or (status == 403 and headers.get("x-ratelimit-remaining") == "0")


def list_repos(cfg: Config, http: Http, source: Source, token: str | None) -> list[dict[str, Any]]:
    """Every repository of the source (all pages), filtered by the fork/archived settings."""
    kind = "users" if source.kind == "user" else "orgs"
    query = urllib.parse.urlencode({"per_page": 100, "type": "owner" if source.kind == "user" else "all"})
    url: str | None = f"{cfg.github_api}/{kind}/{urllib.parse.quote(source.github)}/repos?{query}"
    repos: list[dict[str, Any]] = []
    while url:
        status, headers, payload = http.request("GET", url, token, "Authorization")
        if _rate_limited(status, headers):
            reset = headers.get("x-ratelimit-reset", "?")
            raise MirrorError(f"GitHub rate limit reached listing {source.github} (resets at {reset})")
        if status == 401:
            raise MirrorError(f"GitHub refused the token listing {source.github} (401)")
        if status == 404:
            raise MirrorError(f"GitHub {source.kind} {source.github!r} not found (404)")
        if status != 200 or not isinstance(payload, list):
            raise MirrorError(f"GitHub listing {source.github}: HTTP {status}")
        repos.extend(r for r in payload if isinstance(r, dict))
        match = _NEXT.search(headers.get("link", ""))
        url = match.group(1) if match else None
    return [
        r
        for r in repos
        if (cfg.include_forks or not r.get("fork")) and (cfg.include_archived or not r.get("archived"))
    ]


def group_id(cfg: Config, http: Http, group: str, token: str) -> int:
    url = f"{cfg.gitlab_url}/api/v4/groups/{urllib.parse.quote(group, safe='')}"
    status, _headers, payload = http.request("GET", url, token, "PRIVATE-TOKEN")
    if status == 401:
        raise MirrorError(f"GitLab refused the token reading group {group} (401)")
    if status == 404:
        raise MirrorError(f"GitLab group {group!r} not found (create it once in GitLab)")
    if status != 200 or not isinstance(payload, dict):
        raise MirrorError(f"GitLab group {group}: HTTP {status}")
    return int(payload["id"])


def ensure_project(
    cfg: Config, http: Http, group: str, gid: int, repo: dict[str, Any], token: str
) -> tuple[str, bool]:
    """The URL to push to (GitLab's in-cluster address, not its external one), and whether the
    project was created now."""
    name = str(repo["name"])
    full = f"{group}/{name}"
    url = f"{cfg.gitlab_url}/api/v4/projects/{urllib.parse.quote(full, safe='')}"
    status, _headers, payload = http.request("GET", url, token, "PRIVATE-TOKEN")
    created = False
    if status == 404:
        body = {
            "name": name,
            "path": name,
            "namespace_id": gid,
            "visibility": cfg.visibility,
            "description": f"Mirror of {repo.get('html_url') or repo.get('full_name') or name}",
        }
        status, _headers, payload = http.request(
            "POST", f"{cfg.gitlab_url}/api/v4/projects", token, "PRIVATE-TOKEN", body
        )
        if status not in (200, 201):
            raise MirrorError(f"GitLab could not create project {full}: HTTP {status}")
        created = True
    elif status != 200:
        raise MirrorError(f"GitLab project {full}: HTTP {status}")
    if not isinstance(payload, dict) or "id" not in payload:
        raise MirrorError(f"GitLab project {full}: unexpected answer")
    return f"{cfg.gitlab_url}/{full}.git", created


def _git(args: list[str], cwd: Path | None, env: dict[str, str], timeout: float) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise MirrorError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        raise MirrorError(f"git {args[0]} failed: {tail}")
    return proc.stdout


def git_env(askpass: Path, github_git: str, gitlab_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(askpass.parent),  # the root filesystem is read-only; git needs no config here
        GIT_ASKPASS=str(askpass),
        GIT_TERMINAL_PROMPT="0",
        MIRROR_GITHUB_HOST=urllib.parse.urlsplit(github_git).netloc,
        MIRROR_GITLAB_HOST=urllib.parse.urlsplit(gitlab_url).netloc,
    )
    return env


def write_askpass(workdir: Path) -> Path:
    """A tiny script for GIT_ASKPASS that calls this program back; it holds no secret."""
    script = workdir / "askpass.sh"
    text = f'#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} --askpass "$1"\n'
    script.write_text(text)
    script.chmod(0o700)
    return script


def askpass(prompt: str) -> str:
    """Answer git's username/password prompt from the environment, by host."""
    github, gitlab = os.environ.get("MIRROR_GITHUB_HOST", ""), os.environ.get("MIRROR_GITLAB_HOST", "")
    is_user = prompt.lower().startswith("username")
    if gitlab and gitlab in prompt:
        return "oauth2" if is_user else os.environ.get("GITLAB_TOKEN", "")
    if github and github in prompt:
        return "x-access-token" if is_user else os.environ.get("GITHUB_TOKEN", "")
    return ""


def mirror_repo(cfg: Config, repo: dict[str, Any], push_url: str, env: dict[str, str]) -> int:
    """Fetch every branch and tag into a bare cache, push them (pruned). Returns the ref count."""
    name = str(repo["name"])
    owner = str((repo.get("owner") or {}).get("login") or "")
    if not _SAFE_NAME.match(name) or (owner and not _SAFE_NAME.match(owner)):
        raise MirrorError(f"refusing unsafe repository name {owner}/{name}")
    clone_url = str(repo.get("clone_url") or f"{cfg.github_git}/{owner}/{name}.git")
    bare = cfg.workdir / "repos" / owner / f"{name}.git"
    if not (bare / "HEAD").exists():
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git(["init", "--bare", "--quiet", str(bare)], None, env, cfg.timeout)
    refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
    _git(["fetch", "--prune", "--quiet", clone_url, *refspecs], bare, env, cfg.timeout * 5)
    refs = _git(["for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags"], bare, env, cfg.timeout)
    count = len([r for r in refs.splitlines() if r])
    if count == 0:
        return 0  # an empty repository: the project exists, nothing to push
    _git(["push", "--prune", "--porcelain", push_url, *refspecs], bare, env, cfg.timeout * 5)
    return count


def run(cfg: Config, out: Any = sys.stdout) -> int:
    http = Http(cfg.timeout)
    gitlab_token = os.environ.get("GITLAB_TOKEN", "")
    github_token = os.environ.get("GITHUB_TOKEN") or None
    if not gitlab_token:
        print("error: GITLAB_TOKEN is not set (the gitlab-mirror-tokens Secret)", file=sys.stderr)
        return 2
    cfg.workdir.mkdir(parents=True, exist_ok=True)
    env = git_env(write_askpass(cfg.workdir), cfg.github_git, cfg.gitlab_url)
    results: list[Result] = []
    started = time.monotonic()
    for source in cfg.sources:
        try:
            gid = group_id(cfg, http, source.gitlab_group, gitlab_token)
            repos = list_repos(cfg, http, source, github_token)
        except MirrorError as exc:
            results.append(Result(f"{source.github}/*", "failed", str(exc)))
            print(f"mirror source={source.github} status=failed error={json.dumps(str(exc))}", file=out)
            continue
        for repo in repos:
            res = Result(f"{source.github}/{repo.get('name')}")
            t0 = time.monotonic()
            try:
                push_url, res.created = ensure_project(
                    cfg, http, source.gitlab_group, gid, repo, gitlab_token
                )
                res.refs = mirror_repo(cfg, repo, push_url, env)
            except MirrorError as exc:
                res.status, res.detail = "failed", str(exc)
            res.seconds = time.monotonic() - t0
            results.append(res)
            extra = f" error={json.dumps(res.detail)}" if res.detail else ""
            print(
                f"mirror repo={res.repo} group={source.gitlab_group} status={res.status} refs={res.refs} "
                f"created={str(res.created).lower()} seconds={res.seconds:.1f}{extra}",
                file=out,
            )
    ok = sum(1 for r in results if r.status == "ok")
    failed = len(results) - ok
    total = time.monotonic() - started
    print(f"mirror summary repos={len(results)} ok={ok} failed={failed} seconds={total:.1f}", file=out)
    # Prometheus exposition lines (no f-string braces: this file is embedded by a Jinja template).
    print('gitlab_mirror_sync_repos{status="ok"} ' + str(ok), file=out)
    print('gitlab_mirror_sync_repos{status="failed"} ' + str(failed), file=out)
    print(f"gitlab_mirror_sync_last_run_seconds {total:.3f}", file=out)
    return 0 if failed == 0 else 1


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "--askpass":
        sys.stdout.write(askpass(argv[1]) + "\n")
        return 0
    path = Path(os.environ.get("MIRROR_CONFIG", "/etc/gitlab-mirror-sync/config.json"))
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if shutil.which("git") is None:
        print("error: git is not installed in this image", file=sys.stderr)
        return 2
    return run(cfg)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
