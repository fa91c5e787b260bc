#!/usr/bin/env bash
# Runs the tuf-conformance suite against `warden tuf`, by hand (not in CI:
# it needs tuf and securesystemslib, which Debian bookworm does not ship).
#
#   scripts/run-tuf-conformance.sh CONFORMANCE PYTHON_TUF SECURESYSTEMSLIB \
#       [WARDEN] [pytest arguments...]
#
# CONFORMANCE, PYTHON_TUF and SECURESYSTEMSLIB are checkouts of
# theupdateframework/tuf-conformance, theupdateframework/python-tuf and
# secure-systems-lab/securesystemslib; WARDEN defaults to the default
# preset's build. Uses Debian's python3 with python3-cryptography and
# python3-pytest, and faketime (apt-get install python3-cryptography
# python3-pytest faketime). No package index is needed.
set -euo pipefail
if (($# < 3)); then
  sed -n 2,13p "$0" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
conformance="$(cd "$1" && pwd)"
python_tuf="$(cd "$2" && pwd)"
sslib="$(cd "$3" && pwd)"
shift 3
warden="$here/build/default/src/cli/warden"
if (($# > 0)) && [[ "$1" != -* ]]; then
  warden="$(realpath "$1")"
  shift
fi
[[ -x "$warden" ]] || { echo "no warden binary at $warden" >&2; exit 2; }
python=/usr/bin/python3
for tool in "$python" faketime; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

# Bookworm's cryptography (38) names two type aliases the older way; a
# sitecustomize adds the newer names securesystemslib imports.
shim="$(mktemp -d)"
trap 'rm -rf "$shim"' EXIT
cat >"$shim/sitecustomize.py" <<'PY'
import cryptography.hazmat.primitives.asymmetric.types as _t
for _new, _old in (("PrivateKeyTypes", "PRIVATE_KEY_TYPES"),
                   ("PublicKeyTypes", "PUBLIC_KEY_TYPES"),
                   ("CertificatePublicKeyTypes",
                    "CERTIFICATE_PUBLIC_KEY_TYPES")):
    if not hasattr(_t, _new) and hasattr(_t, _old):
        setattr(_t, _new, getattr(_t, _old))
PY

cd "$conformance"
export PYTHONPATH="$shim:$conformance:$python_tuf:$sslib"
export PYTHONDONTWRITEBYTECODE=1
exec "$python" -m pytest -p no:cacheprovider -q tuf_conformance \
  --entrypoint "$warden tuf" "$@"
