#!/usr/bin/env bash
# The whole product on loopback, end to end: a maker provisions a unit and
# publishes its signed firmware 1.0 (the factory image); the unit runs with
# the thermostat app; an owner pairs with the code from its label, reads and
# sets values, sees a bad value refused; the maker publishes 1.1 and the
# unit updates to it; a deliberately failing 1.2 rolls back by itself; an
# assessor tests the unit and prints its label; the unit stops. Installs
# what is missing and builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/install-deps.sh >/dev/null
echo "== building"
cmake --preset default >/dev/null
cmake --build --preset default --target warden wardend warden-thermostat \
  -j"$(nproc)" >/dev/null

bin=$repo/build/default
warden=$bin/src/cli/warden
wardend=$bin/src/daemon/wardend
thermostat=$bin/examples/thermostat/warden-thermostat

work=$(mktemp -d /tmp/warden-demo-XXXXXX)
# As root, wardend runs the app as its own system user, warden-app (made by
# install-deps.sh), which must pass through to its folder.
chmod 711 "$work"
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*" | sed "s#$bin/[a-z/]*/##g; s#$work#\$WORK#g"; "$@"; }

step "maker: create the device CA and disclosure settings"
show "$warden" mfg init --dir "$work/maker" --name "Acme Heating" \
  --contact mailto:security@acme.example \
  --policy https://acme.example/security-policy --support-years 5

step "maker: provision one unit (the code goes to the label, nowhere else)"
"$warden" mfg provision --maker "$work/maker" --serial ACME-0001 \
  --model "Thermo One" --out "$work/unit" --label "$work/label" \
  --json >"$work/unit.json"
cat "$work/label/label.txt"
code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manual_code"])' "$work/unit.json")
rm "$work/unit.json"
echo "files on the unit: $(ls "$work/unit" | tr '\n' ' ')"

# A firmware image for the demo's file-backed slots is the app's program: a
# script that names its release and runs the thermostat. 1.2 is broken on
# purpose: it exits at once, so its trial boot fails its health check.
release_image() {
  local version=$1 body=${2:-"exec $thermostat \"\$@\""}
  printf '#!/bin/sh\necho "thermostat firmware %s"\n%s\n' "$version" "$body" \
    >"$work/image-$version"
  chmod 755 "$work/image-$version"
}
model=thermo-one

step "maker: create the update repository (root keys offline, 2 of 3)"
show "$warden" release init "$work/release" --root-keys "$work/root-keys"
release_image 1.0.0
show "$warden" release add "$work/release" "$work/image-1.0.0" \
  --hardware-model "$model" --version 1.0.0 --support-until 2031-12-31
show "$warden" release publish "$work/release" "$work/published"
# The factory image ships with the signed targets that name it and the
# first trusted root: the unit checks one against the other before it
# first runs the image.
factory_targets=$(ls "$work"/published/metadata/*.targets.json | sort -V | tail -1)
mkdir -p "$work/boot"
cp "$work/image-1.0.0" "$work/boot/slot_a.img"
chmod 755 "$work/boot"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/wardend.json" <<END
{"listen": "127.0.0.1:$port",
 "app": {"command": ["/usr/lib/acme/thermostat"]},
 "update": {"root": "$work/published/metadata/1.root.json",
            "factory_targets": "$factory_targets",
            "hardware_model": "$model", "factory_version": "1.0.0",
            "slots": {"dir": "$work/boot"}, "health_timeout_seconds": 10}}
END

step "device: start wardend on loopback with the thermostat app (firmware 1.0)"
"$wardend" --state-dir "$work/unit" --config "$work/wardend.json" \
  2>"$work/wardend.log" &
daemon_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/wardend.log" | head -1 || true)
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/wardend.log"; exit 1; }
echo "wardend is serving on $url (TLS 1.3 only)"

home=$work/owner
step "owner: pair with the code from the label"
# The code goes in a file (or standard input, or the prompt), never on the
# command line where other local users could read it.
printf '%s\n' "$code" >"$work/code"
show "$warden" --home "$home" pair "$url" --code-file "$work/code" \
  --name living-room --password-stdin <<<"seven orange kites over Leeds"

for _ in $(seq 50); do
  "$warden" --home "$home" get living-room mode >/dev/null 2>&1 && break
  sleep 0.1
done

step "owner: read and set values"
show "$warden" --home "$home" status living-room
show "$warden" --home "$home" get living-room temperature
show "$warden" --home "$home" set living-room setpoint 21.5
show "$warden" --home "$home" set living-room mode heat
show "$warden" --home "$home" get living-room setpoint

step "owner: a bad value is refused and changes nothing"
if show "$warden" --home "$home" set living-room setpoint 45; then
  echo "demo: the bad value was accepted" >&2
  exit 1
fi
show "$warden" --home "$home" get living-room setpoint

step "owner: the personal data it keeps, exported, deleted, with a signed receipt"
show "$warden" --home "$home" data inventory living-room
show "$warden" --home "$home" data export living-room
show "$warden" --home "$home" data delete living-room --yes \
  --receipt "$work/receipt.json"
show "$warden" --home "$home" data verify-receipt "$work/receipt.json" \
  living-room

step "a stranger cannot pair a second time"
if "$warden" --home "$work/stranger" pair "$url" --code - <<<"$code" 2>&1; then
  echo "demo: a second pairing succeeded" >&2
  exit 1
fi

step "maker: publish firmware 1.1"
release_image 1.1.0
show "$warden" release add "$work/release" "$work/image-1.1.0" \
  --hardware-model "$model" --version 1.1.0 --support-until 2032-12-31
show "$warden" release publish "$work/release" "$work/published"

step "owner: update the device (from a copy of the repository, the same checks)"
# The device checks the copy against the metadata it trusts, writes the
# image into its other slot as it verifies it, boots it for a trial, and
# commits it once the app answers.
show "$warden" --home "$home" update living-room --from "$work/published"
show "$warden" --home "$home" status living-room

step "maker: publish a broken firmware 1.2; the device rolls back by itself"
release_image 1.2.0 "exit 1"
show "$warden" release add "$work/release" "$work/image-1.2.0" \
  --hardware-model "$model" --version 1.2.0 --support-until 2032-12-31
show "$warden" release publish "$work/release" "$work/published"
if show "$warden" --home "$home" update living-room --from "$work/published"; then
  echo "demo: the broken release was kept" >&2
  exit 1
fi
show "$warden" --home "$home" update living-room --status
show "$warden" --home "$home" get living-room setpoint

step "assessor: test the device against the Code of Practice"
cat >"$work/declaration.json" <<EOF
{"services": [{"port": $port, "protocol": "https", "purpose": "owner API"}]}
EOF
# Only the device's port: the rest of this machine's loopback is not the
# device's.
show "$warden" assess "$url" --declaration "$work/declaration.json" \
  --ports "$port-$port" --out "$work/assessment"

step "device: stop"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""
sed 's/^/  /' "$work/wardend.log"
echo
echo "demo: done"
