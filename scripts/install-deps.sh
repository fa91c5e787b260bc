#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing and
# benchmarking Warden needs, and, when run as root, creates the system user
# the app runs as (warden-app), which the demo and the tests use. Safe to
# run again: it installs only what is missing, and runs apt-get update only
# when something is.
set -euo pipefail

# The app's own system user (docs/OPERATIONS.md): no home, no login.
ensure_app_user() {
  local user=warden-app
  if getent passwd "$user" >/dev/null; then
    return
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: not root, so the system user $user is not created" \
      "(wardend needs it only when it runs as root)"
    return
  fi
  useradd --system --no-create-home --home-dir / \
    --shell /usr/sbin/nologin "$user"
  echo "install-deps: created the system user $user"
}

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format libclang-rt-14-dev
  libssl-dev openssl
  libcurl4-openssl-dev
  libsodium-dev
  libsqlite3-dev sqlite3
  libre2-dev
  libboost-dev
  nlohmann-json3-dev
  libcli11-dev
  libfmt-dev
  libqrencode-dev libssh-dev
  librsvg2-dev libcairo2-dev
  libpwquality-dev cracklib-runtime
  libsystemd-dev
  libp11-dev libp11-kit-dev softhsm2 opensc
  libtss2-dev swtpm swtpm-tools tpm2-openssl
  libubootenv-dev
  libgtest-dev libgmock-dev
  nginx-light curl python3 procps iproute2
  python3-cryptography nmap
  mosquitto zbar-tools chromium faketime
  busybox-static python3-pyftpdlib lighttpd dropbear-bin libcoap3-bin
  hydra testssl.sh
  gdb
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

ensure_app_user

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The assessor's lab starts lighttpd itself, with a configuration of its
# own; Debian's package also installs a system web server on port 80,
# enabled, which nothing here wants running. Only a lighttpd this script
# has just installed is disabled: one the machine already had is left as
# it was.
if [[ " ${missing[*]} " == *" lighttpd "* ]]; then
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now lighttpd >/dev/null 2>&1 || true
  else
    $SUDO update-rc.d lighttpd disable >/dev/null 2>&1 || true
    $SUDO invoke-rc.d lighttpd stop >/dev/null 2>&1 || true
  fi
fi
