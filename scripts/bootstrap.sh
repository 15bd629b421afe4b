#!/usr/bin/env bash
# Install what the project needs on a Debian 12 machine. Idempotent; safe to run every time.
#
#   scripts/bootstrap.sh          the CONTROLLER: uv, the Python environment (uv sync) and the
#                                 collection link. What a homelab operator needs for
#                                 `make collection` and site.yml; installs no Debian package
#                                 (it only says which of git/openssh-client/curl are missing).
#   scripts/bootstrap.sh --lab    the controller plus the LAB and test tooling (debootstrap,
#                                 systemd-container, tinyproxy, nftables, ... ; needs root).
#                                 `make lab`, `labtests`, `molecule`, `sanity` and `test` run it.
set -euo pipefail
cd "$(dirname "$0")/.."

CONTROLLER_PACKAGES=(git openssh-client curl)
LAB_PACKAGES=(shellcheck debootstrap systemd-container tinyproxy nftables iproute2 iptables rsync)

lab=0
case "${1:-}" in
  "") ;;
  --lab) lab=1 ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "bootstrap: unknown argument '$1' (expected: --lab)" >&2; exit 2 ;;
esac

missing() { # packages... -> the ones not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

mapfile -t need_controller < <(missing "${CONTROLLER_PACKAGES[@]}")
if ((lab)); then
  mapfile -t need_apt < <(missing "${CONTROLLER_PACKAGES[@]}" "${LAB_PACKAGES[@]}")
  if ((${#need_apt[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "bootstrap: missing Debian packages for the lab: ${need_apt[*]} (run as root or install them)" >&2
      exit 1
    fi
    echo "bootstrap: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # tinyproxy is started per lab by `shai lab`; the packaged daemon is not wanted.
    systemctl disable --now tinyproxy >/dev/null 2>&1 || true
  fi
elif ((${#need_controller[@]})); then
  echo "bootstrap: the controller also needs: ${need_controller[*]} (apt-get install ${need_controller[*]})" >&2
fi

# Python 3.12 from pyenv (ansible-core >= 2.20 needs it).
PY312=$(scripts/python312.sh)

if ! scripts/uv.sh >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  "$PY312" -m pip install -q --disable-pip-version-check uv
fi
echo "bootstrap: uv sync"
# --compile-bytecode: the venv's bytecode is written once here, so an environment with
# PYTHONDONTWRITEBYTECODE set (CI) does not compile ansible-core, the CLIs and their libraries
# from source in every process (~0.6 s per ansible-playbook run, ~1.2 s per `shai doctor`).
# A venv already compiled costs ~0.6 s here.
"$(scripts/uv.sh)" sync --frozen --python "$PY312" -q --compile-bytecode
# The project itself is an editable install (src/): compile it too (stale files are recompiled
# in memory by Python as usual).
.venv/bin/python -m compileall -q -j 0 src >/dev/null

# Make this tree importable as the vectorweight.shai collection (ansible and the CLI).
mkdir -p .cache/collections/ansible_collections/vectorweight
ln -sfn "$PWD" .cache/collections/ansible_collections/vectorweight/shai
