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
  avahi-daemon minissdpd
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

had_dbus=no
if dpkg-query -W -f='${Status}' dbus 2>/dev/null | grep -q "install ok installed"; then
  had_dbus=yes
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The assessor's lab starts lighttpd, avahi-daemon and minissdpd itself,
# each with a configuration of its own; Debian's packages also install them
# as system services, enabled (lighttpd a web server on port 80,
# avahi-daemon an mDNS responder with the D-Bus system bus it pulls in,
# minissdpd an SSDP listener), which nothing here wants running. Only a
# service this script has just installed is stopped and disabled: one the
# machine already had is left as it was.
disable_service() {
  local unit=$1
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
  else
    $SUDO invoke-rc.d "$unit" stop >/dev/null 2>&1 || true
    $SUDO update-rc.d "$unit" disable >/dev/null 2>&1 || true
    # Without systemd running, still drop the units' links, so that the
    # machine does not start them if it is later booted with systemd.
    if command -v systemctl >/dev/null; then
      $SUDO systemctl disable "$unit" >/dev/null 2>&1 || true
    fi
  fi
}

for service in lighttpd avahi-daemon minissdpd; do
  if [[ " ${missing[*]} " == *" $service "* ]]; then
    disable_service "$service"
  fi
done
if [[ " ${missing[*]} " == *" avahi-daemon "* ]]; then
  disable_service avahi-daemon.socket
  # D-Bus came in with avahi-daemon only where nothing used it before (a
  # container): there, it is not left running either. A machine booted with
  # systemd has had it all along.
  if [[ $had_dbus == no ]] && ! [[ -d /run/systemd/system ]]; then
    disable_service dbus
  fi
fi
