#!/usr/bin/env bash
# Run every molecule scenario under extensions/molecule/ one at a time (`molecule test -s X`),
# on real lab hosts (`shai lab`), and print a summary with times. Fails if any scenario fails.
# Usage: scripts/molecule-all.sh [SCENARIO...]   (default: all of them, sorted)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-false}"
export PY_COLORS="${PY_COLORS:-0}"
export MOLECULE_NO_LOG="${MOLECULE_NO_LOG:-false}"

if [[ $(id -u) -ne 0 ]]; then
  echo "molecule-all: the lab needs root (mounts, bridges, systemd-nspawn)" >&2
  exit 1
fi
if [[ ! -e .cache/collections/ansible_collections/vectorweight/shai ]]; then
  mkdir -p .cache/collections/ansible_collections/vectorweight
  ln -sfn "$root" .cache/collections/ansible_collections/vectorweight/shai
fi

if (($#)); then
  scenarios=("$@")
else
  mapfile -t scenarios < <(find extensions/molecule -mindepth 2 -name molecule.yml -printf '%h\n' \
    | sed 's|^extensions/molecule/||' | sort)
fi
if ((${#scenarios[@]} == 0)); then
  echo "molecule-all: no scenarios under extensions/molecule/" >&2
  exit 1
fi

logdir=${MOLECULE_LOG_DIR:-$root/tests/output/molecule}
mkdir -p "$logdir"
declare -a results=()
failed=0
total_start=$SECONDS
for s in "${scenarios[@]}"; do
  log="$logdir/${s//\//_}.log"
  echo "=== molecule test -s $s (log: $log)"
  start=$SECONDS
  if molecule test -s "$s" 2>&1 | tee "$log"; then
    status=ok
  else
    status=FAILED
    failed=$((failed + 1))
    # Never leave a failed scenario's hosts behind for the next one.
    molecule destroy -s "$s" >>"$log" 2>&1 || true
  fi
  results+=("$(printf '%-28s %-7s %5ds' "$s" "$status" $((SECONDS - start)))")
done

echo
echo "=== molecule summary ($((SECONDS - total_start))s total)"
printf '%s\n' "${results[@]}"
if ((failed)); then
  echo "molecule-all: $failed of ${#scenarios[@]} scenario(s) failed" >&2
  exit 1
fi
echo "molecule-all: ${#scenarios[@]} scenario(s) passed"
