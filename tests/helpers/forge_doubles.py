"""TEST DOUBLES of the GitHub and GitLab REST APIs (the subset gitlab-mirror-sync uses), on
loopback, with real git repositories behind them served by the real `git http-backend`.

They stand in for github.com and the in-cluster GitLab, which tests cannot reach. They implement
only: GitHub `GET /users/{u}/repos` and `GET /orgs/{o}/repos` (paginated with a `Link` header,
private repositories only with a token, 401/404/rate-limit answers on demand) and smart-HTTP git
under `/git/{owner}/{repo}.git`; GitLab `GET /api/v4/groups/{path}`, `GET /api/v4/projects/{path}`,
`POST /api/v4/projects` (PRIVATE-TOKEN required) and smart-HTTP git under `/{group}/{name}.git`
(Basic `oauth2:<token>` required).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def git_http_backend(handler: BaseHTTPRequestHandler, root: Path, path: str, query: str) -> None:
    """Answer one smart-HTTP git request with the real `git http-backend` (CGI) on ``root``."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(handler.rfile.readline().strip(), 16)
            if size == 0:
                handler.rfile.readline()
                break
            body += handler.rfile.read(size)
            handler.rfile.readline()
    else:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
    env = {
        "PATH": os.environ["PATH"],
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": handler.command,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": "tester",
        "REMOTE_ADDR": "127.0.0.1",
    }
    for header, var in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL")):
        if handler.headers.get(header):
            env[var] = handler.headers[header]
    res = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
    head, _, payload = res.stdout.partition(b"\r\n\r\n")
    status, headers = 200, []
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        if not line:
            continue
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        else:
            headers.append((key, value.strip()))
    handler.send_response(status)
    for key, value in headers:
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


class _Server:
    """A threaded loopback HTTP server whose handler calls ``self.handle(handler)``."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                outer.handle(self)

            def do_POST(self) -> None:
                outer.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, h: BaseHTTPRequestHandler) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def send_json(
        h: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def deny_git(h: BaseHTTPRequestHandler) -> None:
        h.send_response(401)
        h.send_header("WWW-Authenticate", 'Basic realm="git"')
        h.send_header("Content-Length", "0")
        h.end_headers()


@dataclass
class Repo:
    owner: str
    name: str
    private: bool = False
    fork: bool = False
    archived: bool = False


@dataclass
class GitHubDouble(_Server):
    """TEST DOUBLE of the GitHub REST API + git hosting (see the module docstring)."""

    root: Path
    token: str
    page_size: int = 2
    repos: list[Repo] = field(default_factory=list)
    rate_limited: bool = False
    orgs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        _Server.__init__(self)

    def add_repo(self, repo: Repo) -> Path:
        self.repos.append(repo)
        path = self.root / repo.owner / f"{repo.name}.git"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool | None:
        auth = h.headers.get("Authorization", "")
        if not auth:
            return False
        if auth in (f"Bearer {self.token}", _basic("x-access-token", self.token)):
            return True
        return None  # a wrong token

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, query = h.path.partition("?")
        self.requests.append((h.command, path, dict(h.headers.items())))
        authed = self._authorized(h)
        if path.startswith("/git/"):
            owner, _, rest = path[len("/git/") :].partition("/")
            name = rest.split(".git", 1)[0]
            repo = next((r for r in self.repos if r.owner == owner and r.name == name), None)
            if repo is None or (repo.private and not authed):
                self.deny_git(h)
                return
            git_http_backend(h, self.root, path[len("/git") :], query)
            return
        if self.rate_limited:
            self.send_json(h, 403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0"})
            return
        if authed is None:
            self.send_json(h, 401, {"message": "Bad credentials"})
            return
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] not in ("users", "orgs") or parts[2] != "repos":
            self.send_json(h, 404, {"message": "Not Found"})
            return
        owner = parts[1]
        if parts[0] == "orgs" and owner not in self.orgs:
            self.send_json(h, 404, {"message": "Not Found"})
            return
        if parts[0] == "users" and owner in self.orgs:
            self.send_json(h, 404, {"message": "Not Found"})
            return
        visible = [r for r in self.repos if r.owner == owner and (authed or not r.private)]
        if not visible and not any(r.owner == owner for r in self.repos):
            self.send_json(h, 404, {"message": "Not Found"})
            return
        page = int(urllib.parse.parse_qs(query).get("page", ["1"])[0])
        chunk = visible[(page - 1) * self.page_size : page * self.page_size]
        headers = {}
        if page * self.page_size < len(visible):
            params = urllib.parse.parse_qs(query)
            params["page"] = [str(page + 1)]
            headers["Link"] = f'<{self.url}{path}?{urllib.parse.urlencode(params, doseq=True)}>; rel="next"'
        payload = [
            {
                "name": r.name,
                "full_name": f"{r.owner}/{r.name}",
                "owner": {"login": r.owner},
                "private": r.private,
                "fork": r.fork,
                "archived": r.archived,
                "html_url": f"{self.url}/{r.owner}/{r.name}",
                "clone_url": f"{self.url}/git/{r.owner}/{r.name}.git",
            }
            for r in chunk
        ]
        self.send_json(h, 200, payload, headers)


@dataclass
class GitLabDouble(_Server):
    """TEST DOUBLE of the GitLab REST API (groups, projects) + git hosting."""

    root: Path
    token: str
    groups: dict[str, int] = field(default_factory=dict)
    projects: dict[str, int] = field(default_factory=dict)
    refuse_create: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        _Server.__init__(self)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, query = h.path.partition("?")
        self.requests.append((h.command, path, dict(h.headers.items())))
        if not path.startswith("/api/v4/"):
            if h.headers.get("Authorization", "") != _basic("oauth2", self.token):
                self.deny_git(h)
                return
            git_http_backend(h, self.root, path, query)
            return
        if h.headers.get("PRIVATE-TOKEN") != self.token:
            self.send_json(h, 401, {"message": "401 Unauthorized"})
            return
        rest = path[len("/api/v4/") :]
        kind, _, ident = rest.partition("/")
        ident = urllib.parse.unquote(ident)
        if h.command == "GET" and kind == "groups":
            if ident not in self.groups:
                self.send_json(h, 404, {"message": "404 Group Not Found"})
                return
            self.send_json(h, 200, {"id": self.groups[ident], "full_path": ident})
        elif h.command == "GET" and kind == "projects":
            if ident not in self.projects:
                self.send_json(h, 404, {"message": "404 Project Not Found"})
                return
            self.send_json(h, 200, self._project(ident))
        elif h.command == "POST" and kind == "projects" and not ident:
            body = json.loads(h.rfile.read(int(h.headers.get("Content-Length") or 0)) or b"{}")
            group = next((g for g, i in self.groups.items() if i == body.get("namespace_id")), None)
            if group is None:
                self.send_json(h, 400, {"message": "namespace not found"})
                return
            full = f"{group}/{body['path']}"
            if body["path"] in self.refuse_create:
                self.send_json(h, 500, {"message": "500 Internal Server Error"})
                return
            if full in self.projects:
                self.send_json(h, 400, {"message": {"name": ["has already been taken"]}})
                return
            bare = self.root / f"{full}.git"
            bare.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
            subprocess.run(["git", "-C", str(bare), "config", "http.receivepack", "true"], check=True)
            self.projects[full] = len(self.projects) + 100
            self.send_json(h, 201, self._project(full))
        else:
            self.send_json(h, 404, {"message": "404 Not Found"})

    def _project(self, full: str) -> dict[str, Any]:
        return {
            "id": self.projects[full],
            "path_with_namespace": full,
            "http_url_to_repo": f"https://gitlab.example.invalid/{full}.git",
        }
