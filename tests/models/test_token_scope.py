"""The Hugging Face token goes only where it belongs (issue 14, class 3).

A loopback server records the headers of every request. Before the fix, model_file sent
``Authorization: Bearer $HF_TOKEN`` to every ``url:`` host, over plain http too.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import download as dl
from modrun import run_module

TOKEN = "hf_scope_secret_0123456789"
BODY = b"model bytes\n" * 100
SHA = hashlib.sha256(BODY).hexdigest()


class Recorder:
    """A TEST DOUBLE file server: serves BODY at any path and records each request's Authorization."""

    def __init__(self) -> None:
        self.auth: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                recorder.auth.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.close()


def _get(recorder: Recorder, dest: Path, **extra: Any) -> dict[str, Any]:
    dest.mkdir(exist_ok=True)
    args = {"url": f"{recorder.url}/m/x.bin", "sha256": SHA, "dest": str(dest), "token": TOKEN, **extra}
    result = run_module("model_file", args)
    assert not result.get("failed"), result
    assert TOKEN not in str(result)
    return result


def test_token_not_sent_to_a_url_host_by_default(recorder: Recorder, tmp_path: Path) -> None:
    """The issue's case: HF endpoint is huggingface.co, the url is another host (plain http)."""
    _get(recorder, tmp_path / "a")
    assert recorder.auth == [None]


def test_token_not_sent_to_another_host_even_with_token_over_http(recorder: Recorder, tmp_path: Path) -> None:
    other = "http://127.0.0.1:9"  # the Hub endpoint is another port: another origin
    _get(recorder, tmp_path / "a", hf_endpoint=other, token_over_http=True)
    _get(recorder, tmp_path / "b", hf_endpoint="http://localhost" + recorder.url[len("http://127.0.0.1") :])
    assert recorder.auth == [None, None]


def test_token_over_plain_http_only_when_the_entry_says_so(recorder: Recorder, tmp_path: Path) -> None:
    _get(recorder, tmp_path / "a", hf_endpoint=recorder.url)
    assert recorder.auth == [None]
    _get(recorder, tmp_path / "b", hf_endpoint=recorder.url, token_over_http=True)
    assert recorder.auth == [None, f"Bearer {TOKEN}"]


def test_token_for_rules() -> None:
    hub = "https://huggingface.co"
    assert dl.token_for("https://huggingface.co/o/r/resolve/c/f", TOKEN, hub) == (TOKEN, "")
    assert dl.token_for("https://cdn.example.org/f", TOKEN, hub)[0] is None
    assert dl.token_for("http://huggingface.co/o/r/resolve/c/f", TOKEN, hub)[0] is None
    assert dl.token_for("http://huggingface.co/f", TOKEN, hub, token_over_http=True)[0] == TOKEN
    assert dl.token_for("https://huggingface.co:8443/f", TOKEN, hub)[0] is None
    assert dl.token_for("https://x/f", None, hub) == (None, "")
