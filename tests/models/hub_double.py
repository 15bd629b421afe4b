"""Hugging Face Hub TEST DOUBLE: a small loopback HTTP server.

The real Hub is unreachable here, so this double implements exactly what the installed
``huggingface_hub`` (and shai's own ``download`` module_utils) call, read from its source:

* ``GET /api/models/{repo}/revision/{rev}``  → model info (``sha`` = the commit);
* ``GET /api/models/{repo}/tree/{rev}[?recursive=true]`` → entries with ``oid`` (git blob sha1)
  and, for LFS files, ``lfs: {oid: sha256, size, pointerSize}``;
* ``HEAD|GET /{repo}/resolve/{rev}/{path}`` → ``ETag`` (git sha1) for regular files; for LFS
  files a 302 to ``/cdn/{sha256}`` on a second port (another origin, as the Hub's CDN)
  carrying ``X-Linked-Etag`` (sha256) and ``X-Linked-Size``;
  ``X-Repo-Commit`` always;
* ``GET /cdn/{sha256}`` and ``GET /static/{name}`` (plain URLs) with ``Range`` → 206;
* errors as the Hub sends them: 401 + ``X-Error-Code: RepoNotFound`` for a missing repo,
  401/403 + ``X-Error-Code: GatedRepo`` for a gated repo without/with a refused token,
  404 + ``RevisionNotFound`` / ``EntryNotFound``, plain 401 for ``/static`` files that need a token.

Fault injection for tests: ``cut_after[path] = n`` sends ``n`` bytes of the next GET of that
file then drops the connection (``cut_times`` controls how many GETs are cut; afterwards
``fail_after_cut`` makes further GETs answer 503 until cleared);
``corrupt.add(path)`` serves bytes that do not match the advertised sha256.
Every request is logged in ``requests`` (method, path, range, bytes sent).

Run standalone (benchmarks): ``python tests/models/hub_double.py --root DIR [--port N]``; each
sub-directory ``DIR/{org}/{name}`` is a repo; files directly under ``DIR/static`` are plain URLs.
Prints ``PORT <n>`` when ready.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = {".bin", ".safetensors", ".pth", ".pt", ".ckpt", ".gguf", ".onnx", ".h5", ".msgpack", ".pkl"}
LFS_MIN_SIZE = 10 * 1024 * 1024


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _git_sha1_bytes(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _git_sha1(path: Path) -> str:
    h = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class RepoFile:
    path: str
    source: Path
    size: int
    lfs: bool
    sha256: str
    git_sha1: str  # for LFS files: sha1 of the pointer file, as git stores it


@dataclass
class Repo:
    repo_id: str
    commit: str
    files: dict[str, RepoFile]
    gated: bool = False


@dataclass
class Logged:
    method: str
    path: str
    range: str | None
    status: int
    sent: int = 0
    auth: bool = False


@dataclass
class HubState:
    repos: dict[str, Repo] = field(default_factory=dict)
    static: dict[str, Path] = field(default_factory=dict)
    static_token: str | None = None
    tokens_with_access: set[str] = field(default_factory=set)
    cut_after: dict[str, int] = field(default_factory=dict)
    cut_times: dict[str, int] = field(default_factory=dict)
    fail_after_cut: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    requests: list[Logged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_repo(repo_id: str, folder: Path, gated: bool = False) -> Repo:
    """Turn a folder into a repo; the commit id is derived from the contents."""
    files: dict[str, RepoFile] = {}
    commit = hashlib.sha1(repo_id.encode())
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        size = p.stat().st_size
        lfs = p.suffix in LFS_SUFFIXES or size >= LFS_MIN_SIZE
        sha = _sha256(p)
        if lfs:
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n".encode()
            gsha = _git_sha1_bytes(pointer)
        else:
            gsha = _git_sha1(p)
        files[rel] = RepoFile(rel, p, size, lfs, sha, gsha)
        commit.update(f"{rel}:{gsha}".encode())
    return Repo(repo_id, commit.hexdigest(), files, gated)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub-double/1"
    state: HubState
    cdn_base: str = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers -------------------------------------------------------------------------------
    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def _log(self, status: int, sent: int = 0) -> None:
        with self.state.lock:
            self.state.requests.append(
                Logged(
                    self.command,
                    urlsplit(self.path).path,
                    self.headers.get("Range"),
                    status,
                    sent,
                    bool(self._token()),
                )
            )

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, len(body))

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self._send(status, json.dumps(obj).encode(), h)

    def _error(self, status: int, code: str | None, message: str) -> None:
        h = {"X-Error-Message": message}
        if code:
            h["X-Error-Code"] = code
        self._json({"error": message}, status, h)

    def _repo(self, repo_id: str, need_access: bool) -> Repo | None:
        repo = self.state.repos.get(repo_id)
        if repo is None:
            self._error(
                401,
                "RepoNotFound",
                f"Repository Not Found for url: {self.path}. Please make sure you specified the correct"
                " `repo_id` and `repo_type`. If you are trying to access a private or gated repo, make sure"
                " you are authenticated.",
            )
            return None
        if need_access and repo.gated:
            token = self._token()
            if token is None:
                self._error(
                    401,
                    "GatedRepo",
                    f"Access to model {repo_id} is restricted. You must have access to it and be"
                    " authenticated to access it. Please log in.",
                )
                return None
            if token not in self.state.tokens_with_access:
                self._error(
                    403,
                    "GatedRepo",
                    f"Access to model {repo_id} is restricted and you are not in the authorized list.",
                )
                return None
        return repo

    def _rev_ok(self, repo: Repo, rev: str) -> bool:
        if rev in ("main", repo.commit):
            return True
        self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return False

    def _serve_file(self, key: str, src: Path, extra: dict[str, str]) -> None:
        size = src.stat().st_size
        start = 0
        status = 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a) if a else 0
            end = int(b) if b else size - 1
            if start >= size:
                self._send(416, b"", {"Content-Range": f"bytes */{size}", **extra})
                return
            status = 206
        else:
            end = size - 1
        length = end - start + 1
        headers = {**extra, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        st = self.state
        with st.lock:
            if self.command == "GET" and key in st.fail_after_cut and st.cut_times.get(key, 0) <= 0:
                failing = True
            else:
                failing = False
        if failing:
            self._error(503, None, "Service Unavailable (test double: fail_after_cut)")
            return
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            self._log(status)
            return
        cut: int | None = None
        with st.lock:
            if key in st.cut_after and st.cut_times.get(key, 1) > 0:
                cut = st.cut_after[key]
                st.cut_times[key] = st.cut_times.get(key, 1) - 1
        to_send = length if cut is None else max(0, min(length, cut - start))
        sent = 0
        if key in st.corrupt:
            with src.open("rb") as fh:
                fh.seek(start)
                data = bytearray(fh.read(to_send))
            if data:
                data[0] ^= 0xFF
            self.wfile.write(bytes(data))
            sent = len(data)
        else:
            with src.open("rb") as fh, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sent = self.connection.sendfile(fh, start, to_send) if to_send else 0
        self._log(status, sent)
        if cut is not None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)

    # -- routes --------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        try:
            if path.startswith("/api/models/"):
                self._api(path[len("/api/models/") :], query)
            elif path.startswith("/cdn/"):
                self._cdn(path[len("/cdn/") :])
            elif path.startswith("/static/"):
                self._static(path[len("/static/") :])
            elif "/resolve/" in path:
                self._resolve(path.lstrip("/"))
            else:
                self._error(404, None, "not found")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _api(self, rest: str, query: dict[str, list[str]]) -> None:
        for kind in ("/revision/", "/tree/"):
            if kind in rest:
                repo_id, _, tail = rest.partition(kind)
                break
        else:
            repo_id, tail, kind = rest, "main", "/revision/"
        rev, _, sub = tail.partition("/")
        repo = self._repo(repo_id, need_access=False)
        if repo is None or not self._rev_ok(repo, rev):
            return
        if kind == "/revision/":
            self._json(
                {
                    "_id": repo.commit[:24],
                    "id": repo.repo_id,
                    "modelId": repo.repo_id,
                    "sha": repo.commit,
                    "private": False,
                    "gated": "manual" if repo.gated else False,
                    "disabled": False,
                    "tags": [],
                    "siblings": [{"rfilename": f} for f in sorted(repo.files)],
                    "lastModified": "2026-01-01T00:00:00.000Z",
                    "createdAt": "2026-01-01T00:00:00.000Z",
                }
            )
            return
        recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
        prefix = sub.strip("/")
        entries: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for f in sorted(repo.files.values(), key=lambda x: x.path):
            if prefix and not f.path.startswith(prefix + "/"):
                continue
            rel = f.path[len(prefix) + 1 :] if prefix else f.path
            if "/" in rel:
                segs = rel.split("/")
                for i in range(1, len(segs)):
                    d = "/".join(([prefix] if prefix else []) + segs[:i])
                    if (recursive or i == 1) and d not in dirs:
                        dirs.add(d)
                        entries.append(
                            {
                                "type": "directory",
                                "oid": hashlib.sha1(d.encode()).hexdigest(),
                                "size": 0,
                                "path": d,
                            }
                        )
                if not recursive:
                    continue
            e: dict[str, Any] = {"type": "file", "oid": f.git_sha1, "size": f.size, "path": f.path}
            if f.lfs:
                e["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": 134}
            entries.append(e)
        self._json(entries)

    def _resolve(self, rest: str) -> None:
        repo_id, _, tail = rest.partition("/resolve/")
        rev, _, fpath = tail.partition("/")
        repo = self._repo(repo_id, need_access=True)
        if repo is None or not self._rev_ok(repo, rev):
            return
        f = repo.files.get(fpath)
        if f is None:
            self._error(404, "EntryNotFound", f"{fpath} does not exist on {rev}")
            return
        common = {"X-Repo-Commit": repo.commit}
        if f.lfs:
            self._send(
                302,
                b"",
                {
                    **common,
                    # another origin (a second port), as the real Hub's CDN: clients must not
                    # follow it for metadata nor send their token there
                    "Location": f"{self.cdn_base}/cdn/{f.sha256}",
                    "X-Linked-Etag": f'"{f.sha256}"',
                    "X-Linked-Size": str(f.size),
                    "ETag": f'"{f.git_sha1}"',
                },
            )
            return
        self._serve_file(f"{repo_id}/{fpath}", f.source, {**common, "ETag": f'"{f.git_sha1}"'})

    def _cdn(self, sha: str) -> None:
        for repo in self.state.repos.values():
            for f in repo.files.values():
                if f.lfs and f.sha256 == sha:
                    self._serve_file(f"{repo.repo_id}/{f.path}", f.source, {"ETag": f'"{sha}"'})
                    return
        self._error(404, None, "no such blob")

    def _static(self, name: str) -> None:
        src = self.state.static.get(name)
        if self.state.static_token and self._token() != self.state.static_token:
            self._send(401, b"Unauthorized\n", {"WWW-Authenticate": "Bearer"})
            return
        if src is None:
            self._send(404, b"Not Found\n")
            return
        self._serve_file(f"static/{name}", src, {})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class HubDouble:
    """The Hub test double; ``with HubDouble() as hub: hub.endpoint``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = HubState()
        self.host = host
        handler: type[_Handler] = type("Handler", (_Handler,), {"state": self.state})
        self._server = _Server((host, port), handler)
        # the "CDN": same files, another origin (port), like the Hub's LFS storage
        self._cdn = _Server((host, 0), handler)
        handler.cdn_base = f"http://{host}:{self._cdn.server_address[1]}"
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_repo(self, repo_id: str, folder: Path, gated: bool = False) -> Repo:
        repo = make_repo(repo_id, folder, gated)
        self.state.repos[repo_id] = repo
        return repo

    def add_static(self, name: str, path: Path) -> str:
        self.state.static[name] = path
        return f"{self.endpoint}/static/{name}"

    def cut(self, key: str, after: int, times: int = 1, then_fail: bool = False) -> None:
        """Drop the connection after ``after`` bytes of file ``key`` ("repo/path" or "static/name")."""
        with self.state.lock:
            self.state.cut_after[key] = after
            self.state.cut_times[key] = times
            if then_fail:
                self.state.fail_after_cut.add(key)

    def heal(self) -> None:
        with self.state.lock:
            self.state.cut_after.clear()
            self.state.cut_times.clear()
            self.state.fail_after_cut.clear()
            self.state.corrupt.clear()

    def bytes_sent(self, key_part: str = "") -> int:
        with self.state.lock:
            return sum(r.sent for r in self.state.requests if r.method == "GET" and key_part in r.path)

    def start(self) -> HubDouble:
        for srv in (self._server, self._cdn):
            t = threading.Thread(target=srv.serve_forever, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in (self._server, self._cdn):
            srv.shutdown()
            srv.server_close()

    def __enter__(self) -> HubDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description="Hugging Face Hub test double")
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    hub = HubDouble(host=args.host, port=args.port)
    for org in sorted(p for p in args.root.iterdir() if p.is_dir() and p.name != "static"):
        for repo in sorted(p for p in org.iterdir() if p.is_dir()):
            hub.add_repo(f"{org.name}/{repo.name}", repo)
    static = args.root / "static"
    if static.is_dir():
        for f in static.iterdir():
            hub.add_static(f.name, f)
    hub.start()
    print(f"PORT {hub.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    main()
