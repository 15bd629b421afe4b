#!/usr/bin/env bash
# Install everything the project needs on a fresh Debian 12 machine: host packages for
# the lab, uv, and the Python environment (uv sync). Idempotent; safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(shellcheck debootstrap systemd-container tinyproxy nftables iproute2 iptables rsync openssh-client git curl)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${need_apt[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "bootstrap: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # tinyproxy is started per lab by `shai lab`; the packaged daemon is not wanted.
  systemctl disable --now tinyproxy >/dev/null 2>&1 || true
fi

# Python 3.12 from pyenv (ansible-core >= 2.20 needs it).
PY312=$(scripts/python312.sh)

if ! scripts/uv.sh >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  "$PY312" -m pip install -q --disable-pip-version-check uv
fi
echo "bootstrap: uv sync"
"$(scripts/uv.sh)" sync --frozen --python "$PY312" -q

# Make this tree importable as the vectorweight.shai collection (ansible and the CLI).
mkdir -p .cache/collections/ansible_collections/vectorweight
ln -sfn "$PWD" .cache/collections/ansible_collections/vectorweight/shai
