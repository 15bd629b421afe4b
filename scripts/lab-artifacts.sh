#!/usr/bin/env bash
# Publish everything the lab's site.yml run installs from the lab mirror
# (${SHAI_CACHE:-~/.cache/shai}/mirror, served on each lab's gateway address):
#   k3s/<version>/       the k3s TEST DOUBLE in the k3s release layout (tools/build.sh k3s-mirror)
#   ollama/<version>/    the real Ollama, CPU build, in the release tarball layout
#   comfyui/*.git        the ComfyUI TEST DOUBLE and a custom-node TEST DOUBLE
#   models/shai-tiny.gguf  the tiny GGUF the lab's models manifest lists
# Idempotent and fast once built.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh ollama k3s k3s-mirror
.venv/bin/python tests/gpu/fixtures.py publish >/dev/null
.venv/bin/python - <<'PY'
import sys
from pathlib import Path
import os

sys.path.insert(0, "tests/models")
from tiny_gguf import write_tiny_gguf  # noqa: E402

dest = Path(os.environ.get("SHAI_CACHE", Path.home() / ".cache/shai")) / "mirror/models/shai-tiny.gguf"
if not dest.exists():
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_tiny_gguf(dest)
print(f"lab mirror ready: {dest.parent.parent}")
PY
