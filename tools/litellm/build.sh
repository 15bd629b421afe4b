#!/usr/bin/env bash
# The real LiteLLM proxy in its own pinned environment, cached outside the repo.
#
#   tools/litellm/build.sh [--force] [--print] [--lock]
#
# litellm[proxy] cannot live in the project's environment (it pins rich<14; the project locks 15)
# and is large, so it gets its own venv, built from tools/litellm/requirements.lock (every
# dependency pinned with hashes; `uv pip sync --require-hashes`) into
#   ${SHAI_CACHE:-$HOME/.cache/shai}/litellm/<first 16 hex of the lock's sha256>/
# A venv whose lock hash matches is reused ("cached"); a changed lock builds a new directory
# ("built") and the old ones stay until removed by hand. A marker file written last tells a
# finished venv from a half-built one (rebuilt).
#
#   --force  rebuild even when cached
#   --print  print only the venv's directory (building it first if needed) — for tests/benchmarks
#   --lock   re-resolve requirements.in into requirements.lock (needs the package index), then build
#
# Python: the 3.12 interpreter scripts/python312.sh finds (the lock is resolved for it, Linux x86_64).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SHAI_CACHE:-$HOME/.cache/shai}
LOCK=$HERE/requirements.lock
FORCE=0 PRINT=0 RELOCK=0

log() { [ "$PRINT" = 1 ] || printf '[tools/litellm] %s\n' "$*" >&2; }
die() { printf '[tools/litellm] ERROR: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print) PRINT=1 ;;
    --lock) RELOCK=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$arg' (expected --force, --print, --lock)" ;;
  esac
done

UV=$("$ROOT/scripts/uv.sh") || die "uv not found (run scripts/bootstrap.sh)"
PY=$("$ROOT/scripts/python312.sh") || die "Python 3.12 not found"
export UV_PYTHON_DOWNLOADS=never UV_PYTHON=$PY

if [ "$RELOCK" = 1 ]; then
  (cd "$HERE" && "$UV" pip compile --quiet --python-platform x86_64-unknown-linux-gnu --generate-hashes \
      requirements.in -o requirements.lock)
  log "locked: $(grep -c '^[a-z]' "$LOCK") packages"
fi

[ -f "$LOCK" ] || die "$LOCK is missing"
hash=$(sha256sum "$LOCK" | cut -c1-16)
VENV=$CACHE/litellm/$hash
mkdir -p "$CACHE/litellm"

# One build at a time per cache (parallel test sessions may build at once).
exec 9>"$CACHE/litellm/.lock"
flock 9

if [ "$FORCE" = 0 ] && [ -x "$VENV/bin/litellm" ] && [ -f "$VENV/.shai-built" ]; then
  log "litellm: cached ($VENV, built $(cat "$VENV/.shai-built"))"
else
  start=$(date +%s)
  rm -rf "$VENV"
  "$UV" venv --quiet --python "$PY" "$VENV" >&2
  # --require-hashes: every package must match the lock's hashes (nothing unpinned slips in).
  # --compile-bytecode: litellm imports ~40 s of modules uncompiled, and the environment may set
  # PYTHONDONTWRITEBYTECODE, so the .pyc files are written here once.
  "$UV" pip sync --quiet --require-hashes --compile-bytecode --python "$VENV/bin/python" "$LOCK" >&2
  # LITELLM_LOCAL_MODEL_COST_MAP: importing litellm must not fetch its cost map from the internet.
  LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/python" -c 'import litellm.proxy.proxy_server' >/dev/null 2>&1 \
    || die "the built venv cannot import litellm.proxy.proxy_server"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$VENV/.shai-built"   # written last: a venv without it is half-built
  log "litellm: built $(grep '^litellm==' "$LOCK" | cut -d' ' -f1) in $(( $(date +%s) - start ))s ($VENV)"
fi
[ "$PRINT" = 0 ] || echo "$VENV"
