"""Looks for secrets where none may be: in the programs we build and in the
files a provisioned device is left with.

Findings:
  - a PEM private key (PKCS#8, PKCS#1, SEC1, OpenSSH, encrypted PKCS#8);
  - a DER private key: PKCS#8 for P-256, ed25519 or RSA, SEC1 for P-256,
    PKCS#1 for RSA;
  - a password, PIN or token the tests and the demo use (KNOWN_TEST_SECRETS):
    one of them in a shipped program or on a device means test material
    leaked into what users get.

Usage:
  scan_secrets.py --self-test
      plants each kind of secret in a scratch tree and checks each is found,
      and that clean files pass.
  scan_secrets.py --build-dir DIR [--allow FILE]
      every ELF file and static library under DIR except test-only ones
      (tests, fuzz targets, benchmarks, the helpers tests run, testing/
      libraries).
  scan_secrets.py --device WARDEN_BIN [--wardend WARDEND_BIN] [--allow FILE]
      runs `warden mfg init` and `warden mfg provision` as a maker would
      and scans everything they leave for the unit (--allow applies to
      this factory output only). With --wardend, also:
        - the same unit after its first start, once wardend has sealed
          its identity into the keystore: nothing is allowed;
        - a unit provisioned by the request flow (`wardend
          --identity-request`, then `warden mfg provision
          --identity-request`), before and after its first start:
          nothing is allowed.
      The maker directory and its KEK file are scanned too (nothing
      allowed); then, when SoftHSM is installed, again with the CA key
      made in a SoftHSM token and two units provisioned from it.
  scan_secrets.py [--allow FILE] PATH...
      files and directories as given.

--allow names findings that are known and accepted for now, one a line:
"<path glob relative to the scanned root> <kind>"; everything else fails.
Exit status 0 when nothing (unaccepted) is found, 1 otherwise."""
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

PEM_PRIVATE = re.compile(
    rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"
    rb"\r?\n(?:[A-Za-z0-9+/=]{16,}\r?\n|[A-Za-z-]+: [^\n]*\n|\r?\n)")

# Byte patterns that only private keys have: the version and algorithm of a
# PKCS#8 PrivateKeyInfo, the start of a SEC1 ECPrivateKey for P-256, the
# version and modulus of a PKCS#1 RSAPrivateKey.
P256_OID = bytes.fromhex("2a8648ce3d030107")
DER_PRIVATE = [
    ("der-pkcs8-p256",
     re.compile(re.escape(bytes.fromhex(
         "020100301306072a8648ce3d0201" "0608") + P256_OID + b"\x04"))),
    ("der-pkcs8-ed25519",
     re.compile(re.escape(bytes.fromhex("020100300506032b657004220420")))),
    ("der-pkcs8-rsa",
     re.compile(re.escape(bytes.fromhex(
         "020100300d06092a864886f70d010101050004")))),
    ("der-sec1-p256",
     re.compile(re.escape(bytes.fromhex("30770201010420")) + rb".{32}" +
                re.escape(bytes.fromhex("a00a0608") + P256_OID), re.S)),
    ("der-pkcs1-rsa",
     re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82[\x01-\x04].\x00", re.S)),
]

# Passwords, PINs and passphrases of the tests and the demo.
KNOWN_TEST_SECRETS = [
    b"marmalade sandwich at noon 42",
    b"correct horse battery staple 7",
    b"a quiet lighthouse keeper 9",
    b"set for bob by alice 77",
    b"bobs own new secret 42",
    b"bob now owns this device 1",
    b"the member took over 99",
    b"and again it changes 43",
    b"seven orange kites over Leeds",
    b"data-key-0123456789abcdef-PLAIN",
    # SoftHSM user and security officer PINs of the token tests.
    b"246813",
    b"97531",
]
KNOWN = re.compile(b"|".join(re.escape(s) for s in KNOWN_TEST_SECRETS))

MAX_FILE = 512 << 20

# Programs only the tests run; they carry test keys and passwords on
# purpose.
TEST_ONLY = [
    re.compile(r"(^|/)[a-z0-9_]+_test$"),
    re.compile(r"(^|/)fuzz_[a-z0-9_]+$"),
    re.compile(r"(^|/)bench/"),
    re.compile(r"(^|/)tests/"),
    re.compile(r"(^|/)process_test_child$"),
    re.compile(r"(^|/)CMakeFiles/"),
    re.compile(r"_testing\.a$"),
]


def scan_bytes(data):
    """[(kind, offset)] of what `data` holds."""
    found = []
    for m in PEM_PRIVATE.finditer(data):
        found.append(("pem-private-key", m.start()))
    for kind, pattern in DER_PRIVATE:
        for m in pattern.finditer(data):
            found.append((kind, m.start()))
    for m in KNOWN.finditer(data):
        found.append(("known-test-secret", m.start()))
    return found


def walk(paths):
    for path in paths:
        if os.path.isfile(path) and not os.path.islink(path):
            yield path, os.path.basename(path)
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    yield full, os.path.relpath(full, path)


def is_program(path):
    """An ELF file (program, shared library, object) or a static library."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head[:4] == b"\x7fELF" or head == b"!<arch>\n"


def read_allow(path):
    if not path:
        return []
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                glob, kind = line.split()
                rules.append((glob, kind))
    return rules


def scan(files, allow):
    """Prints each finding; returns how many were not allowed."""
    bad = 0
    for full, rel in files:
        if os.path.getsize(full) > MAX_FILE:
            print("%s: too large to scan" % full)
            bad += 1
            continue
        with open(full, "rb") as f:
            data = f.read()
        for kind, offset in scan_bytes(data):
            allowed = any(fnmatch.fnmatch(rel, g) and k == kind
                          for g, k in allow)
            print("%s: %s at offset %d%s" %
                  (full, kind, offset, " (allowed)" if allowed else ""))
            if not allowed:
                bad += 1
    return bad


def build_files(build_dir):
    for full, rel in walk([build_dir]):
        if any(p.search(rel) for p in TEST_ONLY) or not is_program(full):
            continue
        yield full, rel


SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_PIN = "246813"


def provision_device(warden, work, init_args=(), env=None, units=1):
    """The maker directory and the first unit's directory."""
    maker = os.path.join(work, "maker")
    subprocess.run([warden, "mfg", "init", "--dir", maker, "--name",
                    "Acme Heating", "--contact",
                    "mailto:security@acme.example", "--policy",
                    "https://acme.example/security-policy",
                    "--support-years", "5"] + list(init_args),
                   check=True, stdout=subprocess.DEVNULL, env=env)
    for n in range(1, units + 1):
        unit = os.path.join(work, "unit-%d" % n)
        subprocess.run([warden, "mfg", "provision", "--maker", maker,
                        "--serial", "ACME-%04d" % n, "--model", "Thermo One",
                        "--out", unit, "--label",
                        os.path.join(work, "label-%d" % n)],
                       check=True, stdout=subprocess.DEVNULL, env=env)
    return maker, os.path.join(work, "unit-1")


def token_env(work):
    """A SoftHSM token "maker" of this run's own, and the environment that
    finds it and carries its PIN."""
    tokens = os.path.join(work, "tokens")
    os.makedirs(tokens)
    conf = os.path.join(work, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                "log.level = ERROR\n" % tokens)
    env = dict(os.environ, SOFTHSM2_CONF=conf, WARDEN_PKCS11_PIN=TOKEN_PIN)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label",
                    "maker", "--so-pin", "97531", "--pin", TOKEN_PIN],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def provision_by_request(warden, wardend, work):
    """A unit whose identity key is made on the device and never leaves it:
    wardend writes a certificate request, the maker's station signs it."""
    maker = os.path.join(work, "maker")
    unit = os.path.join(work, "unit-request")
    csr = os.path.join(work, "unit-request.csr")
    # As docs/OPERATIONS.md has it: the keystore lies outside the unit's
    # directory, which the maker's station then fills.
    config = os.path.join(work, "wardend.json")
    with open(config, "w") as f:
        json.dump({"keystore": {
            "backend": "file", "dir": os.path.join(work, "ks-request"),
            "kek_file": os.path.join(work, "ks-request.kek")}}, f)
    subprocess.run([wardend, "--state-dir", unit, "--config", config,
                    "--identity-request", csr, "--serial", "ACME-0002"],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)
    subprocess.run([warden, "mfg", "provision", "--maker", maker, "--serial",
                    "ACME-0002", "--model", "Thermo One", "--out", unit,
                    "--identity-request", csr,
                    "--label", os.path.join(work, "label-request")],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)
    return unit, config


def first_start(wardend, unit, work, config=None):
    """Runs wardend on the unit until it serves (it seals what provisioning
    left in clear before it listens), then stops it."""
    log_path = os.path.join(work, os.path.basename(unit) + ".log")
    with open(log_path, "w") as log:
        cmd = [wardend, "--state-dir", unit, "--listen", "127.0.0.1:0"]
        if config:
            cmd += ["--config", config]
        proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(log_path) as f:
                text = f.read()
            if "listening url=" in text:
                return True
            if proc.poll() is not None:
                print("wardend exited before serving:\n" + text)
                return False
            time.sleep(0.05)
        print("wardend did not start:\n" + text)
        return False
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def scan_device(warden, wardend, allow):
    bad = 0
    if os.path.exists(SOFTHSM):
        with tempfile.TemporaryDirectory() as work:
            env = token_env(work)
            maker, _ = provision_device(
                warden, work, ["--pkcs11-module", SOFTHSM,
                               "--pkcs11-token", "maker"], env, units=2)
            files = list(walk([maker]))
            found = scan(files, [])
            print("%d maker files scanned (PKCS#11 token), %d findings" %
                  (len(files), found))
            bad += found
    with tempfile.TemporaryDirectory() as work:
        maker, unit = provision_device(warden, work)
        files = list(walk([unit]))
        found = scan(files, allow)
        print("%d factory files scanned, %d findings" % (len(files), found))
        bad += found
        files = list(walk([maker, maker + ".kek"]))
        found = scan(files, [])
        print("%d maker files scanned (file keystore), %d findings" %
              (len(files), found))
        bad += found
        if not wardend:
            return bad
        units = [("first start", unit, None, [unit])]
        request_unit, config = provision_by_request(warden, wardend, work)
        request_paths = [request_unit, os.path.join(work, "ks-request")]
        files = list(walk(request_paths))
        found = scan(files, [])
        print("%d files of a unit provisioned by request scanned, "
              "%d findings" % (len(files), found))
        bad += found
        units.append(("request flow's first start", request_unit, config,
                      request_paths))
        for what, path, cfg, paths in units:
            if not first_start(wardend, path, work, cfg):
                bad += 1
                continue
            files = list(walk(paths))
            found = scan(files, [])
            print("%d files after the %s scanned, %d findings" %
                  (len(files), what, found))
            bad += found
        return bad


def self_test():
    """Each kind of secret, planted, must be found; clean files must not
    be."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    p256 = ec.generate_private_key(ec.SECP256R1())
    keys = {
        "p256": p256,
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    enc = serialization.Encoding
    fmt = serialization.PrivateFormat
    none = serialization.NoEncryption()
    plants = {
        "pem-pkcs8": (keys["p256"].private_bytes(enc.PEM, fmt.PKCS8, none),
                      "pem-private-key"),
        "pem-sec1": (p256.private_bytes(enc.PEM, fmt.TraditionalOpenSSL,
                                        none), "pem-private-key"),
        "pem-encrypted": (p256.private_bytes(
            enc.PEM, fmt.PKCS8,
            serialization.BestAvailableEncryption(b"pw")), "pem-private-key"),
        "der-p256": (p256.private_bytes(enc.DER, fmt.PKCS8, none),
                     "der-pkcs8-p256"),
        "der-ed25519": (keys["ed25519"].private_bytes(enc.DER, fmt.PKCS8,
                                                      none),
                        "der-pkcs8-ed25519"),
        "der-rsa": (keys["rsa"].private_bytes(enc.DER, fmt.PKCS8, none),
                    "der-pkcs8-rsa"),
        "der-sec1": (p256.private_bytes(enc.DER, fmt.TraditionalOpenSSL,
                                        none), "der-sec1-p256"),
        "der-pkcs1": (keys["rsa"].private_bytes(enc.DER,
                                                fmt.TraditionalOpenSSL, none),
                      "der-pkcs1-rsa"),
        "password": (b"... marmalade sandwich at noon 42 ...",
                     "known-test-secret"),
    }
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (secret, kind) in plants.items():
            # Inside a larger binary, as a key compiled into a program is.
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(os.urandom(4096) + secret + os.urandom(4096))
            kinds = {k for k, _ in scan_bytes(open(path, "rb").read())}
            if kind not in kinds:
                print("self-test: %s not found (got %s)" % (name, kinds))
                failures += 1
        clean = {
            "public-pem": p256.public_key().public_bytes(
                enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            "public-der": p256.public_key().public_bytes(
                enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
            "header-only": b'"-----BEGIN PRIVATE KEY-----"',
        }
        for name, data in clean.items():
            kinds = scan_bytes(data)
            if kinds:
                print("self-test: clean %s flagged: %s" % (name, kinds))
                failures += 1
        # The allow list accepts exactly what it names.
        path = os.path.join(tmp, "tree")
        os.makedirs(path)
        with open(os.path.join(path, "identity.key"), "wb") as f:
            f.write(plants["pem-pkcs8"][0])
        allow = [("identity.key", "pem-private-key")]
        if scan(walk([path]), allow) != 0:
            print("self-test: an allowed finding failed the scan")
            failures += 1
        if scan(walk([path]), [("other.key", "pem-private-key")]) == 0:
            print("self-test: a finding not allowed passed the scan")
            failures += 1
    print("self-test: %s" % ("ok" if failures == 0 else "FAILED"))
    return 1 if failures else 0


def main(argv):
    allow_path = None
    if "--allow" in argv:
        i = argv.index("--allow")
        allow_path = argv[i + 1]
        del argv[i:i + 2]
    allow = read_allow(allow_path)
    if argv[:1] == ["--self-test"]:
        return self_test()
    if argv[:1] == ["--build-dir"] and len(argv) == 2:
        files = list(build_files(argv[1]))
        if not files:
            print("no programs under %s" % argv[1])
            return 1
        bad = scan(files, allow)
        print("%d programs scanned, %d findings" % (len(files), bad))
        return 1 if bad else 0
    wardend = None
    if "--wardend" in argv:
        i = argv.index("--wardend")
        wardend = argv[i + 1]
        del argv[i:i + 2]
    if argv[:1] == ["--device"] and len(argv) == 2:
        return 1 if scan_device(argv[1], wardend, allow) else 0
    if argv and not argv[0].startswith("-"):
        return 1 if scan(walk(argv), allow) else 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
