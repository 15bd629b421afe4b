"""Hugging Face side of ``shai-models``: download through ``huggingface_hub``, then verify.

``huggingface_hub`` checks only sizes; after every download this module re-hashes each file and
compares it with what the Hub's tree API says: ``lfs.oid`` (sha256) for LFS files, the git blob
sha1 (``oid``) for regular files.  A file that does not match is removed (it is not left in
place) and the run fails.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils import download as dl
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

PROGRESS = Callable[[str, int, int | None], None]


class HubError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """A Hub operation failed; the message is one clear sentence (never contains the token)."""


@dataclass
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files
    git_sha1: str  # blob id (for LFS files: the pointer's)

    @property
    def lfs(self) -> bool:
        return self.sha256 is not None


@dataclass
class FileCheck:
    path: str
    size: int
    expected: str
    algorithm: str
    actual: str | None = None
    status: str = "pending"  # ok | mismatch | missing


@dataclass
class DownloadReport:
    repo: str
    revision: str
    commit: str
    dest: str
    files: list[FileCheck] = field(default_factory=list)
    elapsed_s: float = 0.0  # API calls + transfer + verification (no interpreter start-up)

    @property
    def ok(self) -> bool:
        return all(f.status == "ok" for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def hf_token(explicit: str | None = None, vault: Path | None = None) -> str | None:
    """The Hugging Face token: ``--token``, ``$HF_TOKEN``, else ``vault_hf_token`` from the vault.

    The vault is read only when its file exists and a password file is configured
    (``SHAI_VAULT_PASSWORD_FILE`` / ``ANSIBLE_VAULT_PASSWORD_FILE``).
    """
    if explicit:
        return explicit
    env = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if env:
        return env
    from shai.secrets.vault import DEFAULT_VAULT, PASSWORD_ENV, Vault

    path = vault or Path(os.environ.get("SHAI_SECRETS_VAULT", str(DEFAULT_VAULT)))
    if not path.is_file() or not any(os.environ.get(e) for e in PASSWORD_ENV):
        return None
    value = Vault(path).data.get("vault_hf_token")
    return str(value) if value else None


def _hub_error(exc: Exception, repo: str, revision: str, token: str | None, withheld: str = "") -> HubError:
    error = _hub_error_of(exc, repo, revision, token)
    return HubError(f"{error} ({withheld})") if withheld and not token else error


def _hub_error_of(exc: Exception, repo: str, revision: str, token: str | None) -> HubError:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, GatedRepoError):
        return HubError(_gated_message(repo, token))
    if isinstance(exc, RepositoryNotFoundError):
        hint = "" if token else " (or it is private: set HF_TOKEN)"
        return HubError(f"repository {repo} not found on the Hub{hint}")
    if isinstance(exc, RevisionNotFoundError):
        return HubError(f"revision {revision!r} not found in {repo}")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return HubError(f"the Hub answered HTTP {status} for {repo}@{revision}: {str(exc).splitlines()[0]}")
    return HubError(f"{repo}@{revision}: {type(exc).__name__}: {exc}")


def _endpoint(endpoint: str | None) -> str:
    return str(dl.hf_endpoint(endpoint))


def endpoint_token(
    token: str | None, endpoint: str | None, token_over_http: bool = False
) -> tuple[str | None, str]:
    """(token, "") or (None, why): never over plain http unless ``token_over_http`` was given."""
    allowed, withheld = dl.token_for(_endpoint(endpoint), token, endpoint, token_over_http)
    return (str(allowed) if allowed else None), str(withheld)


def _api_error(
    status: int | None, code: str | None, detail: str, repo: str, revision: str, token: str | None
) -> HubError:
    """The Hub's API error as one sentence (the same sentences huggingface_hub's errors gave)."""
    if code == "GatedRepo":
        return HubError(_gated_message(repo, token))
    if code == "RepoNotFound" or (status == 401 and code is None):
        hint = "" if token else " (or it is private: set HF_TOKEN)"
        return HubError(f"repository {repo} not found on the Hub{hint}")
    if code == "RevisionNotFound":
        return HubError(f"revision {revision!r} not found in {repo}")
    if status is not None:
        return HubError(f"the Hub answered HTTP {status} for {repo}@{revision}: {detail}")
    return HubError(f"{repo}@{revision}: {detail}")


def _api_pages(url: str, repo: str, revision: str, token: str | None) -> Any:
    """GET a Hub API URL and every page after it (``Link: <...>; rel="next"``); yields JSON.

    The standard library's HTTP client (module_utils/download's opener): importing
    huggingface_hub for two GET requests cost more than a second before the first byte.
    """
    import json
    import re
    from urllib.error import HTTPError, URLError

    next_url: str | None = url
    while next_url:
        try:
            with dl._request(next_url, token=token, timeout=30.0) as resp:
                body = resp.read()
                link = resp.headers.get("Link") or ""
        except HTTPError as exc:
            detail = f"{exc.code} {exc.reason} for url: {next_url}"
            message = exc.headers.get("X-Error-Message") if exc.headers is not None else None
            code = exc.headers.get("X-Error-Code") if exc.headers is not None else None
            exc.close()
            raise _api_error(
                exc.code, code, f"{detail} ({message})" if message else detail, repo, revision, token
            ) from None
        except (TimeoutError, URLError, OSError) as exc:
            why = f"cannot reach {next_url}: {getattr(exc, 'reason', exc)}"
            raise _api_error(None, None, why, repo, revision, token) from None
        try:
            yield json.loads(body)
        except ValueError:
            raise _api_error(None, None, f"{next_url} did not answer JSON", repo, revision, token) from None
        found = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
        next_url = found.group(1) if found else None


def _api_base(endpoint: str | None, repo: str, repo_type: str) -> str:
    kind = {"model": "models", "dataset": "datasets", "space": "spaces"}.get(repo_type)
    if kind is None:
        raise HubError(f"repo type must be model, dataset or space, not {repo_type!r}")
    return f"{_endpoint(endpoint)}/api/{kind}/{repo}"


def _commit_of(repo: str, revision: str, token: str | None, endpoint: str | None, repo_type: str) -> str:
    from urllib.parse import quote

    url = f"{_api_base(endpoint, repo, repo_type)}/revision/{quote(revision, safe='')}"
    info = next(iter(_api_pages(url, repo, revision, token)))
    sha = info.get("sha") if isinstance(info, dict) else None
    if not isinstance(sha, str) or not sha:
        raise HubError(f"the Hub did not name the commit of {repo}@{revision}")
    return sha


def resolve_commit(
    repo: str,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
    repo_type: str = "model",
    token_over_http: bool = False,
) -> str:
    """The commit ``revision`` (branch, tag or commit) of ``repo`` points at now."""
    token, withheld = endpoint_token(token, endpoint, token_over_http)
    try:
        return _commit_of(repo, revision, token, endpoint, repo_type)
    except HubError as exc:
        raise HubError(f"{exc} ({withheld})") if withheld and not token else exc from None


def _selected(
    files: list[RemoteFile], include: list[str] | None, exclude: list[str] | None
) -> list[RemoteFile]:
    """huggingface_hub's allow/ignore rule: fnmatchcase, a pattern ending in ``/`` is a folder."""

    def norm(patterns: list[str] | None) -> list[str] | None:
        if not patterns:
            return None
        return [p.replace("\\", "/") + ("*" if p.endswith("/") else "") for p in patterns]

    allow, ignore = norm(include), norm(exclude)
    return [
        f
        for f in files
        if (allow is None or any(fnmatch.fnmatchcase(f.path, p) for p in allow))
        and not (ignore is not None and any(fnmatch.fnmatchcase(f.path, p) for p in ignore))
    ]


def remote_files(
    repo: str,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    repo_type: str = "model",
    token_over_http: bool = False,
) -> tuple[str, list[RemoteFile]]:
    """(commit, files selected by include/exclude) from the Hub's revision and tree APIs.

    The listing is input like the manifest: a path with an empty, ``.`` or ``..`` component (a
    hostile or broken mirror) is refused, so no file can land outside its folder.
    """
    from ansible_collections.vectorweight.shai.plugins.module_utils.models_manifest import relpath_problem

    token, withheld = endpoint_token(token, endpoint, token_over_http)
    try:
        commit = _commit_of(repo, revision, token, endpoint, repo_type)
        url = f"{_api_base(endpoint, repo, repo_type)}/tree/{commit}?recursive=true&expand=false"
        entries = [
            e
            for page in _api_pages(url, repo, revision, token)
            for e in (page if isinstance(page, list) else [])
            if isinstance(e, dict) and e.get("type") == "file"
        ]
    except HubError as exc:
        raise HubError(f"{exc} ({withheld})") if withheld and not token else exc from None
    files: list[RemoteFile] = []
    for e in entries:
        path = str(e.get("path", ""))
        problem = relpath_problem(path)
        if problem:
            raise HubError(f"{repo}@{commit[:12]}: the Hub lists a file path that {problem}")
        lfs = e.get("lfs")
        sha256 = str(lfs["oid"]) if isinstance(lfs, dict) and lfs.get("oid") else None
        files.append(RemoteFile(path, int(e.get("size") or 0), sha256, str(e.get("oid", ""))))
    return commit, _selected(files, include, exclude)


def _hash_file(path: Path, lfs: bool, progress: Callable[[int], None] | None = None) -> str:
    if lfs:
        last = 0

        def _cb(done: int, total: int | None) -> None:
            nonlocal last
            if progress is not None:
                progress(done - last)
            last = done

        return str(dl.sha256_file(str(path), progress=_cb))
    value = str(dl.git_blob_sha1_file(str(path)))
    if progress is not None:
        progress(path.stat().st_size)
    return value


def verify_files(
    root: Path,
    files: list[RemoteFile],
    remove_bad: bool = True,
    progress: Callable[[int], None] | None = None,
) -> list[FileCheck]:
    """Hash every file under ``root`` and compare with the Hub; remove mismatching ones."""
    out: list[FileCheck] = []
    for f in files:
        local = root / f.path
        check = FileCheck(f.path, f.size, f.sha256 or f.git_sha1, "sha256" if f.lfs else "git-sha1")
        if not local.is_file():
            check.status = "missing"
        else:
            check.actual = _hash_file(local, f.lfs, progress)
            check.status = "ok" if check.actual == check.expected else "mismatch"
            if check.status == "mismatch" and remove_bad:
                # resolve symlinks (cache layout): remove the blob and the link to it
                real = local.resolve()
                local.unlink()
                if real != local and real.exists():
                    real.unlink()
        out.append(check)
    return out


def _download_dir(
    repo: str,
    commit: str,
    files: list[RemoteFile],
    dest: Path,
    token: str | None,
    endpoint: str | None,
    repo_type: str,
    progress: PROGRESS | None,
    max_workers: int,
) -> list[FileCheck]:
    """Stream each file with module_utils/download (hash while streaming, resume from .part)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(f: RemoteFile) -> FileCheck:
        check = FileCheck(f.path, f.size, f.sha256 or f.git_sha1, "sha256" if f.lfs else "git-sha1")
        local = dest / f.path
        local.parent.mkdir(parents=True, exist_ok=True)
        if local.is_file() and local.stat().st_size == f.size:
            check.actual = _hash_file(local, f.lfs)
            if check.actual == check.expected:
                check.status = "ok"
                if progress is not None:
                    progress(f.path, f.size, f.size)
                return check
        url = dl.hf_resolve_url(repo, f.path, commit, _endpoint(endpoint), repo_type)

        def _cb(done: int, total: int | None) -> None:
            if progress is not None:
                progress(f.path, done, total)

        try:
            res = dl.download(
                url,
                str(local),
                sha256=f.sha256,
                git_sha1=None if f.lfs else f.git_sha1,
                size=f.size,
                token=token,
                progress=_cb,
            )
        except dl.DownloadError as exc:
            if exc.error_code in ("GatedRepo", "RepoNotFound") or exc.status in (401, 403):
                raise HubError(
                    _gated_message(repo, token) if exc.error_code == "GatedRepo" else str(exc)
                ) from None
            if "mismatch" in str(exc):
                check.status = "mismatch"
                check.actual = str(exc)
                return check
            raise HubError(f"{repo}/{f.path}: {exc}") from None
        check.actual = res["sha256"] if f.lfs else f.git_sha1
        check.status = "ok"
        return check

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        return list(pool.map(one, files))


def _gated_message(repo: str, token: str | None) -> str:
    if token:
        return (
            f"{repo} is a gated repository and the token was refused: request access on its Hub page "
            "with the account that owns the token"
        )
    return (
        f"{repo} is a gated repository: set HF_TOKEN (or vault_hf_token in the vault) to a token "
        "with access, after accepting the conditions on its Hub page"
    )


def download_hf(
    repo: str,
    revision: str = "main",
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    dest: Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    repo_type: str = "model",
    tqdm_class: Any = None,
    verify_progress: Callable[[int], None] | None = None,
    max_workers: int = 4,
    progress: PROGRESS | None = None,
    token_over_http: bool = False,
) -> DownloadReport:
    """Download ``repo`` (selected files), every file verified against the Hub's hashes.

    With ``dest``: each file streams through ``module_utils/download`` (sha256 while streaming,
    resume from ``<file>.part`` on the next run, atomic rename).  Without: ``snapshot_download``
    into the Hugging Face cache (its layout, which libraries read), then every file is re-hashed.
    Either way a file that does not match the Hub is removed.
    """
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    started = time.monotonic()
    commit, files = remote_files(
        repo, revision, token, endpoint, include, exclude, repo_type, token_over_http=token_over_http
    )
    token, withheld = endpoint_token(token, endpoint, token_over_http)
    if not files:
        raise HubError(
            f"no file of {repo}@{commit[:12]} matches include={include or []} exclude={exclude or []}"
        )
    if dest is not None:
        dest.mkdir(parents=True, exist_ok=True)
        report = DownloadReport(repo, revision, commit, str(dest.resolve()))
        try:
            report.files = _download_dir(
                repo, commit, files, dest, token, endpoint, repo_type, progress, max_workers
            )
        except HubError as exc:
            raise HubError(f"{exc} ({withheld})") if withheld and not token else exc from None
        report.elapsed_s = time.monotonic() - started
        return report
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(
            repo,
            revision=commit,
            repo_type=repo_type,
            allow_patterns=[f.path for f in files],
            token=token or False,
            endpoint=_endpoint(endpoint),
            tqdm_class=tqdm_class,
            max_workers=max_workers,
        )
    except Exception as exc:
        raise _hub_error(exc, repo, revision, token, withheld) from None
    root = Path(path)
    report = DownloadReport(repo, revision, commit, str(root))
    report.files = verify_files(root, files, remove_bad=True, progress=verify_progress)
    report.elapsed_s = time.monotonic() - started
    return report


def matches(path: str, include: list[str], exclude: list[str]) -> bool:
    """Same selection rule as huggingface_hub (fnmatch, include then exclude)."""
    if include and not any(fnmatch.fnmatch(path, p) for p in include):
        return False
    return not any(fnmatch.fnmatch(path, p) for p in exclude)
