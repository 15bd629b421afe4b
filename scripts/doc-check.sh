#!/usr/bin/env bash
# Documentation gates: role READMEs carry the variable table generated from argument_specs,
# every role has argument_specs, every template starts with the ansible_managed header.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
.venv/bin/python scripts/roledoc.py --check || rc=1
while IFS= read -r -d '' t; do
  head -n1 "$t" | grep -q 'ansible_managed | comment' || { echo "$t: first line must be {{ ansible_managed | comment }}" >&2; rc=1; }
done < <(find roles -path '*/templates/*' -name '*.j2' -print0)
exit $rc
