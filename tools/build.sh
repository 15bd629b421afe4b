#!/usr/bin/env bash
# Build shai's real test peers from pinned Go modules and cache them outside the repo.
#
#   tools/build.sh [--force] [TARGET...]      TARGET: k3s kube sealed-secrets ollama helm k3s-mirror litellm (default: all)
#
# Binaries land in ${SHAI_CACHE:-$HOME/.cache/shai}/bin. Each target has a stamp file in
# ${SHAI_CACHE}/stamps/ holding a hash of its pinned inputs (go.mod, go.sum, Go sources, Go version,
# build flags); a target is rebuilt only when that hash changes or a binary is missing. Build logs
# and timings go to ${SHAI_CACHE}/build/<target>.{log,seconds}.
#
# Targets:
#   k3s             k3s, the shai k3s TEST DOUBLE: the components below in one static binary, no kubelet
#                   (the only Kubernetes binary the lab needs: `make lab` builds this one, not `kube`)
#   kube            kube-apiserver, etcd, kube-controller-manager (k8s.io/kubernetes pin in tools/kube/go.mod;
#                   the kube harness and the tests); shares the compile cache with `k3s`
#   sealed-secrets  kubeseal, controller (github.com/bitnami-labs/sealed-secrets)
#   ollama          ollama (github.com/ollama/ollama, CPU build; needs nlohmann-json3-dev)
#   helm            helm (helm.sh/helm/v4 pin in tools/helm/go.mod; renders the chart Applications, ADR 0304)
#   k3s-mirror      publishes the k3s test double into ${SHAI_CACHE}/mirror/k3s/<version>/ (release layout)
#   litellm         the real LiteLLM proxy's hash-locked venv (tools/litellm/build.sh; no Go)
#
# While a build runs, a progress line every SHAI_BUILD_PROGRESS seconds (default 30; 0 = off) says
# what is building and for how long; a cached target says so with the date and time it was built.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SHAI_CACHE:-$HOME/.cache/shai}
BIN=$CACHE/bin
STAMPS=$CACHE/stamps
LOGS=$CACHE/build
# The k3s version string the test double reports and is published under: THE k3s pin, read from
# its one place (roles/k3s/defaults/main.yml k3s_version; same minor as the kube pin below).
K3S_DOUBLE_VERSION=$(sed -n 's/^k3s_version: *//p' "$TOOLS_DIR/../roles/k3s/defaults/main.yml")
: "${K3S_DOUBLE_VERSION:?k3s_version not found in roles/k3s/defaults/main.yml}"
KUBE_VERSION=v1.37.2   # must match k8s.io/kubernetes in tools/kube/go.mod
# Version stamping as Kubernetes' own build does (otherwise /version says v0.0.0-master).
KUBE_LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
-X k8s.io/component-base/version.gitTreeState=clean"
OLLAMA_VERSION=0.17.4
FORCE=0

log() { printf '[tools/build.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

targets=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    k3s|kube|sealed-secrets|ollama|helm|k3s-mirror|litellm) targets+=("$arg") ;;
    *) die "unknown target '$arg' (expected: k3s kube sealed-secrets ollama helm k3s-mirror litellm)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(k3s kube sealed-secrets ollama helm k3s-mirror litellm)

command -v go >/dev/null || die "Go is not installed (need Go >= 1.26 on PATH)"
mkdir -p "$BIN" "$STAMPS" "$LOGS"

# One build at a time per cache (parallel test sessions may all run `make tools`).
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "waiting for another tools/build.sh to finish (lock $CACHE/.build.lock) ..."
  flock 9
fi

# Hash of everything that determines a module's build output.
input_hash() { # module_dir extra...
  local dir=$1; shift
  {
    go version
    printf '%s\n' "$@"
    (cd "$dir" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.yaml' \) \
      -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# up_to_date target hash binaries...
up_to_date() {
  local target=$1 hash=$2; shift 2
  [ "$FORCE" = 0 ] || return 1
  [ -f "$STAMPS/$target" ] && [ "$(head -n1 "$STAMPS/$target")" = "$hash" ] || return 1
  local b
  for b in "$@"; do [ -x "$BIN/$b" ] || return 1; done
}

# run_build target hash command... : runs a build command with its log and timing; writes the stamp.
run_build() {
  local target=$1 hash=$2; shift 2
  local start end rc=0
  start=$(date +%s)
  log "building $target (log: $LOGS/$target.log) ..."
  local every=${SHAI_BUILD_PROGRESS:-30} ticker=""
  if [ "$every" -gt 0 ] 2>/dev/null; then
    ( while sleep "$every"; do
        log "  ... still building $target: $(( $(date +%s) - start ))s elapsed"
      done ) &
    ticker=$!
  fi
  "$@" >"$LOGS/$target.log" 2>&1 || rc=$?
  if [ -n "$ticker" ]; then kill "$ticker" 2>/dev/null || true; wait "$ticker" 2>/dev/null || true; fi
  end=$(date +%s)
  if [ "$rc" != 0 ]; then
    tail -n 40 "$LOGS/$target.log" >&2
    die "building $target failed (exit $rc); full log: $LOGS/$target.log"
  fi
  echo $((end - start)) >"$LOGS/$target.seconds"
  # An empty hash marks an intermediate step: timing only, no stamp.
  [ -z "$hash" ] || printf '%s\n%s\n' "$hash" "built $(date -u +%FT%TZ) in $((end - start))s" >"$STAMPS/$target"
  log "built $target in $((end - start))s"
}

# Atomically move freshly built binaries from a staging dir into $BIN.
install_bins() { # staging_dir binaries...
  local stage=$1; shift
  local b
  for b in "$@"; do
    [ -x "$stage/$b" ] || die "expected binary $b was not produced"
    mv -f "$stage/$b" "$BIN/$b"
  done
}

# The k3s TEST DOUBLE's helm-controller and ArgoCD doubles install/render the bootstrap charts
# (sealed-secrets, argo-cd) with the Helm v4 SDK from their unmodified upstream sources, embedded in
# the binary. go:embed cannot reach outside the Go module, so the sources are staged next to the
# double (charts/<chart>/<version>/<chart>/, git-ignored) from the shared chart test data:
# $SHAI_SHARED_CHARTS, else ../shared/charts beside the clone, else /work/shared/charts.
DOUBLE_CHARTS=(sealed-secrets argo-cd)
stage_double_charts() {
  local dest=$TOOLS_DIR/kube/cmd/k3s/charts src="" d c
  for d in "${SHAI_SHARED_CHARTS:-}" "$TOOLS_DIR/../../shared/charts" /work/shared/charts; do
    if [ -n "$d" ] && [ -d "$d" ]; then src=$d; break; fi
  done
  find "$dest" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  if [ -z "$src" ]; then
    log "WARNING: no chart sources (set SHAI_SHARED_CHARTS): the k3s double will report the bootstrap charts as not available"
    return
  fi
  for c in "${DOUBLE_CHARTS[@]}"; do
    ls -d "$src/$c"/*/"$c" >/dev/null 2>&1 || die "no source of chart $c under $src"
    mkdir -p "$dest/$c" && cp -R "$src/$c/." "$dest/$c/"
  done
}

# Hash of the staged chart sources (input_hash only sees *.go/*.yaml; charts also hold *.tpl).
double_charts_hash() {
  (cd "$TOOLS_DIR/kube/cmd/k3s/charts" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# Hash of everything the k3s double and the kube components are built from.
kube_hash() {
  input_hash "$TOOLS_DIR/kube" "-trimpath -ldflags=-s -w CGO_ENABLED=0" "$K3S_DOUBLE_VERSION" "$KUBE_LDFLAGS" \
    "$(double_charts_hash)"
}

build_k3s() {
  local dir=$TOOLS_DIR/kube
  stage_double_charts
  local hash; hash=$(kube_hash)
  if up_to_date k3s "$hash" k3s; then log "k3s: cached ($(sed -n 2p "$STAMPS/k3s"))"; return; fi
  local stage; stage=$(mktemp -d "$LOGS/k3s.XXXXXX")
  # CGO_ENABLED=0 gives a static binary that runs on the lab's Debian 12 hosts; flags identical to
  # the `kube` target's so the two share the compile cache (whichever runs second mostly links).
  run_build k3s "$hash" env -C "$dir" CGO_ENABLED=0 go build -trimpath \
    -ldflags "$KUBE_LDFLAGS -X main.k3sVersion=$K3S_DOUBLE_VERSION" -o "$stage/" ./cmd/k3s
  install_bins "$stage" k3s
  rmdir "$stage"
}

build_kube() {
  local dir=$TOOLS_DIR/kube
  stage_double_charts
  local bins=(kube-apiserver etcd kube-controller-manager)
  local hash; hash=$(kube_hash)
  if up_to_date kube "$hash" "${bins[@]}"; then log "kube: cached ($(sed -n 2p "$STAMPS/kube"))"; return; fi
  local stage; stage=$(mktemp -d "$LOGS/kube.XXXXXX")
  # The commands share almost every package, so the compile cache is paid once.
  run_build kube "$hash" env -C "$dir" CGO_ENABLED=0 go build -trimpath -ldflags "$KUBE_LDFLAGS" \
    -o "$stage/" ./cmd/kube-apiserver ./cmd/etcd ./cmd/kube-controller-manager
  install_bins "$stage" "${bins[@]}"
  rmdir "$stage"
}

build_sealed_secrets() {
  local dir=$TOOLS_DIR/sealed-secrets flags="-trimpath -ldflags=-s -w CGO_ENABLED=0"
  local hash; hash=$(input_hash "$dir" "$flags")
  if up_to_date sealed-secrets "$hash" kubeseal controller; then
    log "sealed-secrets: cached ($(sed -n 2p "$STAMPS/sealed-secrets"))"; return
  fi
  local stage; stage=$(mktemp -d "$LOGS/sealed-secrets.XXXXXX")
  local ver; ver=$(cd "$dir" && go list -m -f '{{.Version}}' github.com/bitnami-labs/sealed-secrets)
  run_build sealed-secrets "$hash" env -C "$dir" CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.VERSION=$ver" -o "$stage/" \
    github.com/bitnami-labs/sealed-secrets/cmd/kubeseal github.com/bitnami-labs/sealed-secrets/cmd/controller
  install_bins "$stage" kubeseal controller
  rmdir "$stage"
}

ensure_ollama_deps() {
  # Go module zips leave out vendor/ directories, so llama.cpp's vendored headers are missing
  # from the module cache: nlohmann/json (Debian nlohmann-json3-dev), stb/stb_image.h (Debian
  # libstb-dev) and miniaudio/miniaudio.h (see ollama_vendor_headers). cgo needs a C++ compiler.
  local missing=()
  [ -f /usr/include/nlohmann/json_fwd.hpp ] || missing+=(nlohmann-json3-dev)
  [ -f /usr/include/stb/stb_image.h ] || missing+=(libstb-dev)
  command -v g++ >/dev/null || missing+=(g++)
  [ ${#missing[@]} = 0 ] && return
  [ "$(id -u)" = 0 ] || die "ollama needs Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
  log "installing ${missing[*]} with apt-get"
  local i
  for i in 1 2 3 4 5 6; do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
      >"$LOGS/ollama-apt.log" 2>&1; then return; fi
    if grep -q 'Unable to locate package\|has no installation candidate' "$LOGS/ollama-apt.log"; then
      apt-get update >>"$LOGS/ollama-apt.log" 2>&1 || true
    fi
    sleep $((i * 5))   # another apt/dpkg may hold the lock
  done
  tail -n 20 "$LOGS/ollama-apt.log" >&2
  die "apt-get install ${missing[*]} failed; log: $LOGS/ollama-apt.log"
}

# miniaudio.h (a single-header library vendored by llama.cpp) is not packaged by Debian 12; the
# PyPI sdist of `miniaudio` (pinned) carries the header. Prints the include dir holding miniaudio/.
MINIAUDIO_SDIST=miniaudio==1.71
ollama_vendor_headers() {
  local inc=$CACHE/build/ollama-include
  if [ ! -f "$inc/miniaudio/miniaudio.h" ]; then
    local tmp py; tmp=$(mktemp -d)
    py=$("$TOOLS_DIR/../scripts/python312.sh")
    "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      "$MINIAUDIO_SDIST" -d "$tmp" >&2 || die "could not download the $MINIAUDIO_SDIST sdist from PyPI"
    mkdir -p "$inc/miniaudio"
    tar -xzf "$tmp"/miniaudio-*.tar.gz -C "$tmp"
    cp "$tmp"/miniaudio-*/miniaudio/miniaudio.h "$inc/miniaudio/miniaudio.h.tmp"
    mv "$inc/miniaudio/miniaudio.h.tmp" "$inc/miniaudio/miniaudio.h"
    rm -rf "$tmp"
  fi
  echo "$inc"
}

build_ollama() {
  local dir=$TOOLS_DIR/ollama flags="-trimpath -ldflags=-s -w CGO_ENABLED=1 cpu $MINIAUDIO_SDIST"
  local hash; hash=$(input_hash "$dir" "$flags" "$OLLAMA_VERSION")
  if up_to_date ollama "$hash" ollama; then log "ollama: cached ($(sed -n 2p "$STAMPS/ollama"))"; return; fi
  ensure_ollama_deps
  local inc; inc=$(ollama_vendor_headers)
  local stage; stage=$(mktemp -d "$LOGS/ollama.XXXXXX")
  run_build ollama "$hash" env -C "$dir" CGO_ENABLED=1 CGO_CPPFLAGS="-I$inc" go build -trimpath \
    -ldflags "-s -w -X github.com/ollama/ollama/version.Version=$OLLAMA_VERSION" -o "$stage/ollama" \
    github.com/ollama/ollama
  install_bins "$stage" ollama
  rmdir "$stage"
}

build_helm() {
  # helm.sh/helm/v4 at its pin; the version is stamped the way Helm's own Makefile does.
  local dir=$TOOLS_DIR/helm flags="-trimpath -ldflags=-s -w CGO_ENABLED=0"
  local ver; ver=$(cd "$dir" && go list -m -f '{{.Version}}' helm.sh/helm/v4)
  local hash; hash=$(input_hash "$dir" "$flags" "$ver")
  if up_to_date helm "$hash" helm; then log "helm: cached ($(sed -n 2p "$STAMPS/helm"))"; return; fi
  local stage; stage=$(mktemp -d "$LOGS/helm.XXXXXX")
  run_build helm "$hash" env -C "$dir" CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$ver" -o "$stage/helm" helm.sh/helm/v4/cmd/helm
  install_bins "$stage" helm
  rmdir "$stage"
}

publish_k3s_mirror() {
  # Same layout as a k3s GitHub release: <version>/k3s, sha256sum-amd64.txt, k3s-airgap-images-amd64.tar.zst
  [ -x "$BIN/k3s" ] || die "k3s test double not built (run: tools/build.sh k3s)"
  local dest=$CACHE/mirror/k3s/$K3S_DOUBLE_VERSION
  if [ "$FORCE" = 0 ] && [ -f "$dest/k3s" ] && cmp -s "$BIN/k3s" "$dest/k3s" && [ -f "$dest/sha256sum-amd64.txt" ]; then
    log "k3s-mirror: cached ($dest)"; return
  fi
  mkdir -p "$dest"
  install -m 0755 "$BIN/k3s" "$dest/k3s.tmp" && mv -f "$dest/k3s.tmp" "$dest/k3s"
  if [ ! -f "$dest/k3s-airgap-images-amd64.tar.zst" ] && command -v zstd >/dev/null; then
    # Stand-in: a valid tar.zst holding only a note (the double runs no containers, so needs no images).
    local t; t=$(mktemp -d)
    printf 'shai k3s TEST DOUBLE %s: no container images (no kubelet, pods never run)\n' \
      "$K3S_DOUBLE_VERSION" >"$t/README.shai-test-double"
    tar -C "$t" -cf - README.shai-test-double | zstd -q -o "$dest/k3s-airgap-images-amd64.tar.zst"
    rm -rf "$t"
  fi
  local files=(k3s)
  [ -f "$dest/k3s-airgap-images-amd64.tar.zst" ] && files+=(k3s-airgap-images-amd64.tar.zst)
  (cd "$dest" && sha256sum "${files[@]}" >sha256sum-amd64.txt.tmp && mv -f sha256sum-amd64.txt.tmp sha256sum-amd64.txt)
  log "published k3s test double to $dest"
}

# The LiteLLM proxy's own venv (Python, not Go): its builder caches by the lock's hash.
build_litellm() {
  local args=()
  [ "$FORCE" = 1 ] && args+=(--force)
  "$TOOLS_DIR/litellm/build.sh" "${args[@]}"
}

for t in "${targets[@]}"; do
  case "$t" in
    k3s) build_k3s ;;
    kube) build_kube ;;
    sealed-secrets) build_sealed_secrets ;;
    ollama) build_ollama ;;
    helm) build_helm ;;
    k3s-mirror) publish_k3s_mirror ;;
    litellm) build_litellm ;;
  esac
done
