#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing and
# benchmarking Warden needs. Safe to run again: it installs only what is
# missing, and runs apt-get update only when something is.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format libclang-rt-14-dev
  libssl-dev openssl
  libcurl4-openssl-dev
  libsodium-dev
  libsqlite3-dev sqlite3
  libboost-dev
  nlohmann-json3-dev
  libcli11-dev
  libfmt-dev
  libqrencode-dev
  libpwquality-dev cracklib-runtime
  libcap-ng-dev libseccomp-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx-light curl python3 procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

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
