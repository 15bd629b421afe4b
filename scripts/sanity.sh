#!/usr/bin/env bash
# ansible-test sanity, offline-capable.
#
# ansible-test bootstraps pip into each sanity venv by downloading get-pip.py from
# ci-files.testing.ansible.com, which is unreachable here. We seed its cache
# (~/.ansible/test/cache/get_pip_<ver>.py) with a shim that uses the interpreter's own
# `ensurepip` and then installs the requested packages from the package index.
# ansible-test wants the collection at .../ansible_collections/<ns>/<name>, so we run it
# on a copy of the tracked tree.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python

pip_ver=$("$PY" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
class P:  # get_venv_packages only reads .version
    version = "3.12"
print(get_venv_packages(P())["pip"])
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
shim=$cache/get_pip_${pip_ver//./_}.py
cat > "$shim" <<'PY'
"""Offline stand-in for get-pip.py (seeded by shai's scripts/sanity.sh): ensurepip, then pip install."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *args])
PY

work=$(mktemp -d /tmp/shai-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/vectorweight/shai
mkdir -p "$dest"
# tracked + untracked-but-not-ignored files, as they are in the working tree
# Only the collection's own content: the Python package (src/), the pytest suites (tests/),
# benchmarks and helper scripts are not Ansible content; ruff, mypy and shellcheck gate them.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  case "$f" in
    src/*|tests/*|benchmarks/*|scripts/*.py) continue ;;
  esac
  if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi
done | rsync -a --from0 --files-from=- ./ "$dest/"

cd "$dest"
git init -q
git add -A >/dev/null 2>&1 || true
export PATH=$ROOT/.venv/bin:$PATH
tests=${SANITY_TESTS:-}
args=(sanity --python 3.12 --requirements --color no)
[[ -n "$tests" ]] && for t in $tests; do args+=(--test "$t"); done
ansible-test "${args[@]}" "$@"
