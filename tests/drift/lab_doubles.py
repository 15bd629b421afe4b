"""What the drift matrix serves its lab hosts from the controller, on the lab gateway address.

* ``LabRegistry``: the Ollama registry TEST DOUBLE (tests/models/ollama_registry_double.py).
  registry.ollama.ai is unreachable here, so the lab's Ollama pulls from the double. The model
  it serves is a tiny llama GGUF turned into an Ollama model by the REAL ``ollama create`` (the
  controller's Ollama, built by tools/build.sh), exactly as tests/models does.
* ``MirrorSnapshot``: a private copy of the lab mirror's artifacts (the k3s TEST DOUBLE, the real
  Ollama, the ComfyUI TEST DOUBLE repositories, the tiny GGUF) taken when the matrix starts. The
  shared ~/.cache/shai/mirror is republished by other work (scripts/lab-artifacts.sh, build.sh
  k3s-mirror); a rebuild in the middle of the matrix would be a real drift of the hosts (a new
  k3s binary to download) that no case made.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))

from ollama_registry_double import _Handler
from ollama_serve import TINY_MODEL, ollama_with_tiny_model

MODEL = f"{TINY_MODEL}:latest"


def build_models(work: Path, port: int) -> Path:
    """A models directory holding `shai-tiny` made by the real `ollama create`."""
    from shai.tools import binary

    with ollama_with_tiny_model(binary("ollama"), work, port, ready_timeout=30, stop_timeout=30) as (
        _u,
        models,
        _e,
    ):
        return models


CDN_NAME = "registry-cdn.shai-lab.test"


class _BackgroundServer:
    """A ThreadingHTTPServer on ``address`` (random port), served from a daemon thread."""

    def _serve(self, address: str, handler: Any) -> None:
        self._server = http.server.ThreadingHTTPServer((address, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class LabRegistry(_BackgroundServer):
    """The registry double on ``address`` (the lab gateway).

    Blob requests are redirected, as the real registry redirects to its CDN, to ``/direct/`` on
    another host name (Ollama follows same-host redirects itself and then finds no Location):
    ``cdn_name``, which the lab host resolves to the gateway through an /etc/hosts line
    (``hosts_line``). The double's own redirect to ``localhost`` would point a lab host at itself.
    """

    def __init__(self, models: Path, address: str, cdn_name: str = CDN_NAME) -> None:
        self.log: list[str] = []

        class Handler(_Handler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                m = re.fullmatch(r"/v2/[^/]+/[^/]+/blobs/sha256:([0-9a-f]{64})", path)
                if m:
                    self.log.append(f"{self.command} {path}")
                    port = self.server.server_address[1]
                    self._send(307, b"", {"Location": f"http://{cdn_name}:{port}/direct/sha256-{m.group(1)}"})
                    return
                super().do_GET()

        Handler.models = models
        Handler.log = self.log
        self._serve(address, Handler)
        self.address = address
        self.hosts_line = f"{address} {cdn_name}"

    @property
    def host(self) -> str:
        return f"{self.address}:{self.port}"


class MirrorSnapshot(_BackgroundServer):
    """A copy of ``subdirs`` of the lab mirror, served over HTTP on ``address`` (a random port)."""

    def __init__(self, source: Path, dest: Path, subdirs: list[str], address: str) -> None:
        for sub in subdirs:
            src = source / sub
            if not src.exists():
                raise FileNotFoundError(f"{src} is missing: run scripts/lab-artifacts.sh first")
            shutil.copytree(src, dest / sub, symlinks=True)
        handler = functools.partial(_QuietFiles, directory=str(dest))
        self._serve(address, handler)
        self.url = f"http://{address}:{self.port}"


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
