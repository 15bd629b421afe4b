"""A real `ollama serve` on loopback holding `shai-tiny`, made by the real `ollama create` from a
tiny llama GGUF (tiny_gguf.py). Shared by the ollama_model tests and the drift matrix's registry."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tiny_gguf import write_tiny_gguf

TINY_MODEL = "shai-tiny"


@contextmanager
def ollama_with_tiny_model(
    exe: Path | str, work: Path, port: int, ready_timeout: float = 20.0, stop_timeout: float = 20.0
) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """Yield (url, models dir, env) of `ollama serve` whose models dir holds TINY_MODEL."""
    env = dict(
        os.environ,
        OLLAMA_HOST=f"127.0.0.1:{port}",
        OLLAMA_MODELS=str(work / "models"),
        HOME=str(work),
        OLLAMA_NOPRUNE="1",
    )
    url = f"http://127.0.0.1:{port}"
    with (work / "serve.log").open("wb") as log:
        proc = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                try:
                    urllib.request.urlopen(url + "/api/version", timeout=1).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"ollama serve did not come up: {(work / 'serve.log').read_text()[-2000:]}"
                        ) from None
                    time.sleep(0.2)
            gguf = write_tiny_gguf(work / "tiny.gguf")
            (work / "Modelfile").write_text(f"FROM {gguf}\n")
            subprocess.run(
                [str(exe), "create", TINY_MODEL, "-f", str(work / "Modelfile")],
                env=env,
                check=True,
                capture_output=True,
            )
            yield url, work / "models", env
        finally:
            proc.terminate()
            proc.wait(timeout=stop_timeout)
