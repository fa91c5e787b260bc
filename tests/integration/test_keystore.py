"""wardend's secrets in its keystore, with the real binaries: a unit
provisioned with clear files is moved into the file backend at its first
start; a unit whose key is made in a SoftHSM token is provisioned from its
signing request and serves TLS and pairing with that key, which never
exists as a file."""
import hashlib
import json
import os
import socket
import subprocess
import unittest

import harness
from harness import WARDEND, run_cli

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246813"


def files_under(path):
    for base, _, names in os.walk(path):
        for name in names:
            yield os.path.join(base, name)


def holds_private_key(path):
    for name in files_under(path):
        with open(name, "rb") as f:
            if b"PRIVATE KEY-----" in f.read():
                return name
    return None


def served_fingerprint(port):
    """SHA-256 of the certificate the device presents in a TLS 1.3
    handshake, which it completes only with the matching private key."""
    ctx = harness.tls_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


class KeystoreTest(harness.DeviceTestCase):

    def write_config(self, name, keystore):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            json.dump({"keystore": keystore}, f)
        return path

    def pair_and_check(self, daemon, unit):
        """A real TLS 1.3 handshake and SPAKE2+ pairing; the owner's client
        pins the certificate the device served, which must be the unit's."""
        out = self.pair(daemon, code=unit["manual_code"]).stdout
        self.assertIn("paired with " + unit["serial"], out)
        with open(os.path.join(self.home, "devices.json")) as f:
            devices = f.read()
        self.assertIn(unit["certificate_fingerprint"], devices)

    def test_a_unit_with_clear_files_is_moved_into_the_keystore(self):
        unit_dir = self.unit["dir"]
        self.assertTrue(os.path.exists(os.path.join(unit_dir, "identity.key")))
        d = self.start(app=False)
        self.assertFalse(os.path.exists(os.path.join(unit_dir, "identity.key")))
        self.assertFalse(os.path.exists(os.path.join(unit_dir, "pairing.json")))
        self.assertIsNone(holds_private_key(unit_dir))
        self.pair_and_check(d, self.unit)
        d.stop()
        # The next start serves the same identity from the keystore alone.
        d = self.start(app=False)
        self.assertEqual(served_fingerprint(d.port),
                         self.unit["certificate_fingerprint"])

    @unittest.skipUnless(os.path.exists(SOFTHSM), "softhsm2 is not installed")
    def test_a_key_made_in_a_pkcs11_token_serves_tls_and_pairing(self):
        tokens = os.path.join(self.root, "tokens")
        os.makedirs(tokens)
        conf = os.path.join(self.root, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % tokens)
        env = dict(os.environ, SOFTHSM2_CONF=conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label",
                        "unit", "--so-pin", "97531", "--pin", PIN],
                       env=env, check=True, capture_output=True, timeout=60)
        config = self.write_config("pkcs11.json", {
            "backend": "pkcs11", "dir": os.path.join(self.root, "ks-p11"),
            "module": SOFTHSM, "token": "unit"})
        serial = "ACME-7001"
        unit_dir = os.path.join(self.root, "unit-" + serial)
        csr = os.path.join(self.root, serial + ".csr")
        request = [WARDEND, "--state-dir", unit_dir, "--config", config,
                   "--identity-request", csr, "--serial", serial]

        # Without the PIN in the environment the token is not opened.
        proc = subprocess.run(request, env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("$WARDEN_KEYSTORE_PIN", proc.stderr)
        self.assertFalse(os.path.exists(csr))

        env["WARDEN_KEYSTORE_PIN"] = PIN
        subprocess.run(request, env=env, check=True, capture_output=True,
                       timeout=60)
        proc = run_cli("mfg", "provision", "--maker", self.maker.dir,
                       "--serial", serial, "--model", "Thermo One", "--out",
                       unit_dir, "--identity-request", csr, "--json")
        unit = json.loads(proc.stdout)
        self.assertFalse(os.path.exists(os.path.join(unit_dir,
                                                     "identity.key")))

        d = self.start(unit={"dir": unit_dir}, app=False,
                       extra=["--config", config], env=env)
        self.pair_and_check(d, unit)
        self.assertEqual(served_fingerprint(d.port),
                         unit["certificate_fingerprint"])
        # Nothing the unit keeps on disk holds a private key.
        self.assertIsNone(holds_private_key(unit_dir))
        self.assertIsNone(holds_private_key(os.path.join(self.root, "ks-p11")))
        d.stop()

        # A request for another serial is refused by the maker's station.
        proc = run_cli("mfg", "provision", "--maker", self.maker.dir,
                       "--serial", "ACME-7002", "--model", "Thermo One",
                       "--out", os.path.join(self.root, "unit-ACME-7002"),
                       "--identity-request", csr, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(
            os.path.join(self.root, "unit-ACME-7002")))


if __name__ == "__main__":
    unittest.main()
