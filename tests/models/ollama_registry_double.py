"""Ollama registry TEST DOUBLE: serves an OLLAMA_MODELS directory over the registry protocol.

Pulling needs a registry and registry.ollama.ai is unreachable here, so this double serves the
manifests and blobs that a real ``ollama create`` wrote, exactly as the real Ollama (v0.17
``server/images.go`` / ``download.go``) fetches them:

* ``GET /v2/{namespace}/{model}/manifests/{tag}`` → the manifest JSON (404 ``MANIFEST_UNKNOWN``);
* ``GET /v2/{namespace}/{model}/blobs/sha256:{hex}`` → 307 to a *different host name*
  (``localhost`` vs ``127.0.0.1``, as the real registry redirects to its CDN), where
  ``HEAD``/``GET /direct/sha256-{hex}`` serve the blob with ``Range`` → 206.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    models: Path
    source_host: str = "registry.ollama.ai"
    log: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.log.append(f"{self.command} {path}")
        m = re.fullmatch(r"/v2/([^/]+)/([^/]+)/manifests/([^/]+)", path)
        if m:
            ns, model, tag = m.groups()
            f = self.models / "manifests" / self.source_host / ns / model / tag
            if not f.is_file():
                body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
                self._send(404, body.encode(), {"Content-Type": "application/json"})
                return
            self._send(
                200, f.read_bytes(), {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
            )
            return
        m = re.fullmatch(r"/v2/[^/]+/[^/]+/blobs/sha256:([0-9a-f]{64})", path)
        if m:
            port = self.server.server_address[1]
            self._send(307, b"", {"Location": f"http://localhost:{port}/direct/sha256-{m.group(1)}"})
            return
        m = re.fullmatch(r"/direct/(sha256-[0-9a-f]{64})", path)
        if m and (self.models / "blobs" / m.group(1)).is_file():
            self._blob(self.models / "blobs" / m.group(1))
            return
        self._send(404, b"not found\n")

    def _blob(self, f: Path) -> None:
        size = f.stat().st_size
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start, end, status = int(a or 0), int(b) if b else size - 1, 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "GET":
            with f.open("rb") as fh, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.connection.sendfile(fh, start, end - start + 1)


class OllamaRegistryDouble:
    def __init__(self, models: Path) -> None:
        self.log: list[str] = []
        handler = type("H", (_Handler,), {"models": models, "log": self.log})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OllamaRegistryDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
