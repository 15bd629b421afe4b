#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter (pyenv's if present).
set -euo pipefail
for c in "${SHAI_PYTHON:-}" "$(command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12*/bin/python3.12 /usr/bin/python3.12 "$(command -v python3.12 || true)"; do
  [[ -n "$c" && -x "$c" ]] && { echo "$c"; exit 0; }
done
echo "no Python 3.12 found: install it with pyenv (pyenv install 3.12) or set SHAI_PYTHON" >&2
exit 1
