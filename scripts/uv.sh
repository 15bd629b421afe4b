#!/usr/bin/env bash
# Print the path of a working uv (PATH first, then next to pyenv's Python 3.12).
# A candidate must run: a pyenv shim named uv exists whenever uv was pip-installed into any
# pyenv version, and fails when the selected version is another one.
set -euo pipefail
py=$("$(dirname "$0")/python312.sh")
for c in "$(command -v uv 2>/dev/null || true)" "$(dirname "$py")/uv"; do
  if [[ -n "$c" && -x "$c" ]] && "$c" --version >/dev/null 2>&1; then echo "$c"; exit 0; fi
done
echo "uv not found: run scripts/bootstrap.sh" >&2
exit 1
