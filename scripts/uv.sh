#!/usr/bin/env bash
# Print the path of uv (PATH first, then next to pyenv's Python 3.12).
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
py=$("$(dirname "$0")/python312.sh")
if [[ -x "$(dirname "$py")/uv" ]]; then echo "$(dirname "$py")/uv"; exit 0; fi
echo "uv not found: run scripts/bootstrap.sh" >&2
exit 1
