"""`warden release` makes and publishes a repository, `warden tuf` (the
conformance client) reads it over http on 127.0.0.1: the maker's release
workflow end to end, with the real binaries.

The server is http.server on a thread of this process over the published
directory, shut down by each test.
"""
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

WARDEN = os.environ.get("WARDEN_BIN", "warden")
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class WardenReleaseTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="warden-release-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.repo = os.path.join(self.tmp, "repo")
        self.root_keys = os.path.join(self.tmp, "usb-stick")
        self.out = os.path.join(self.tmp, "www")
        os.makedirs(self.out)
        handler = functools.partial(Quiet, directory=self.out)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      handler)
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.device = os.path.join(self.tmp, "device")
        self.target_dir = os.path.join(self.device, "targets")
        os.makedirs(self.target_dir)

    def release(self, *args):
        return subprocess.run([WARDEN, "release"] + list(args),
                              capture_output=True, text=True, timeout=120)

    def ok(self, *args):
        proc = self.release(*args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def image(self, version):
        path = os.path.join(self.tmp, "thermostat-" + version)
        with open(path, "w") as f:
            f.write("#!/bin/sh\necho thermostat %s\n" % version)
        return path

    def add(self, version, *extra):
        return self.release("add", self.repo, self.image(version),
                            "--hardware-model", "thermostat-v1",
                            "--version", version, *extra)

    def tuf(self, *args):
        return subprocess.run(
            [WARDEN, "tuf", "--metadata-dir",
             os.path.join(self.device, "metadata")] + list(args),
            capture_output=True, text=True, timeout=60)

    def device_trusts_first_root(self):
        proc = self.tuf("init",
                        os.path.join(self.out, "metadata", "1.root.json"))
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def download(self):
        return self.tuf("--metadata-url", self.base + "/metadata",
                        "--target-name", "thermostat-v1.img",
                        "--target-base-url", self.base + "/targets",
                        "--target-dir", self.target_dir, "download")

    def downloaded(self):
        with open(os.path.join(self.target_dir, "thermostat-v1.img"),
                  "rb") as f:
            return f.read()

    def two_releases(self):
        self.ok("init", self.repo, "--root-keys", self.root_keys)
        self.assertEqual(self.add("1.0.0").returncode, 0)
        self.assertEqual(self.add("1.1.0", "--min-from", "1.0.0",
                                  "--support-until", "2031-12-31").returncode,
                         0)
        self.ok("publish", self.repo, self.out)

    def test_the_device_downloads_the_newest_release_and_its_hash_matches(self):
        self.two_releases()
        self.device_trusts_first_root()
        proc = self.download()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.image("1.1.0"), "rb") as f:
            expected = f.read()
        self.assertEqual(self.downloaded(), expected)
        status = json.loads(self.ok("status", self.repo, "--json").stdout)
        target = status["targets"]["thermostat-v1.img"]
        self.assertEqual(hashlib.sha256(self.downloaded()).hexdigest(),
                         target["hashes"]["sha256"])
        self.assertEqual(target["custom"]["warden"],
                         {"version": "1.1.0", "hardware_model": "thermostat-v1",
                          "min_from_version": "1.0.0",
                          "support_until": "2031-12-31"})
        # The published names are the contract's.
        self.assertTrue(os.path.exists(os.path.join(
            self.out, "targets",
            target["hashes"]["sha256"] + ".thermostat-v1.img")))
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "metadata"))),
                         ["1.root.json", "3.snapshot.json", "3.targets.json",
                          "root.json", "timestamp.json"])

    def test_a_tampered_image_is_refused(self):
        self.two_releases()
        self.device_trusts_first_root()
        targets = os.path.join(self.out, "targets")
        for name in os.listdir(targets):
            path = os.path.join(targets, name)
            with open(path, "rb") as f:
                data = bytearray(f.read())
            data[-2] ^= 1
            with open(path, "wb") as f:
                f.write(data)
        proc = self.download()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("hash_mismatch", proc.stderr)
        self.assertEqual(os.listdir(self.target_dir), [])

    def test_tampered_targets_metadata_is_refused(self):
        self.two_releases()
        self.device_trusts_first_root()
        path = os.path.join(self.out, "metadata", "3.targets.json")
        with open(path) as f:
            text = f.read()
        # Same length, another version string: the snapshot's hash catches it.
        with open(path, "w") as f:
            f.write(text.replace('"1.1.0"', '"9.9.9"'))
        proc = self.download()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("hash_mismatch", proc.stderr)
        self.assertEqual(os.listdir(self.target_dir), [])

    def test_a_rotated_timestamp_key_is_followed(self):
        self.two_releases()
        self.device_trusts_first_root()
        self.assertEqual(self.download().returncode, 0)
        self.ok("rotate", self.repo, "--role", "timestamp", "--root-keys",
                self.root_keys)
        self.ok("publish", self.repo, self.out)
        proc = self.tuf("--metadata-url", self.base + "/metadata", "refresh")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("root 2", proc.stderr)

    def test_refusals_and_usage_errors(self):
        self.ok("init", self.repo, "--root-keys", self.root_keys)
        self.assertEqual(self.add("1.1.0").returncode, 0)
        proc = self.add("1.0.0")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not newer", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        proc = self.add("1.2.0", "--support-until", "2031-02-30")
        self.assertEqual(proc.returncode, 2)
        proc = self.release("init", self.repo, "--root-keys", self.root_keys)
        self.assertEqual(proc.returncode, 1)
        proc = self.release("init", os.path.join(self.tmp, "other"),
                            "--root-keys", self.root_keys, "--threshold",
                            "root=x")
        self.assertEqual(proc.returncode, 2)
        proc = self.release("rotate", self.repo, "--role", "targets")
        self.assertEqual(proc.returncode, 2)  # --root-keys is required
        # Private keys are for their owner only.
        for d in (self.root_keys, os.path.join(self.repo, "keys")):
            for name in os.listdir(d):
                self.assertEqual(os.stat(os.path.join(d, name)).st_mode & 0o077,
                                 0, name)

    @unittest.skipUnless(os.path.exists(SOFTHSM), "softhsm2 is not installed")
    def test_a_targets_key_in_a_pkcs11_token_signs_with_the_pin_from_the_environment(self):
        tokens = os.path.join(self.tmp, "tokens")
        os.makedirs(tokens)
        conf = os.path.join(self.tmp, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % tokens)
        env = dict(os.environ, SOFTHSM2_CONF=conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label",
                        "release", "--so-pin", "97531", "--pin", "246813"],
                       env=env, check=True, capture_output=True, timeout=60)
        subprocess.run(["pkcs11-tool", "--module", SOFTHSM, "--token-label",
                        "release", "--login", "--pin", "246813",
                        "--keypairgen", "--key-type", "EC:prime256v1",
                        "--label", "targets", "--id", "01"],
                       env=env, check=True, capture_output=True, timeout=60)
        token = ["--pkcs11-module", SOFTHSM, "--pkcs11-token", "release"]
        init = [WARDEN, "release", "init", self.repo, "--root-keys",
                self.root_keys] + token + ["--pkcs11-key", "targets=targets"]
        # Without the PIN in the environment the token key cannot be used.
        proc = subprocess.run(init, env=env, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("WARDEN_PKCS11_PIN", proc.stderr)
        self.assertFalse(os.path.exists(self.repo))
        self.assertFalse(os.path.exists(self.root_keys))
        env["WARDEN_PKCS11_PIN"] = "246813"
        proc = subprocess.run(init, env=env, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        add = [WARDEN, "release", "add", self.repo, self.image("1.0.0"),
               "--hardware-model", "thermostat-v1", "--version", "1.0.0"]
        proc = subprocess.run(add, env=env, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.ok("publish", self.repo, self.out)
        with open(os.path.join(self.out, "metadata", "root.json")) as f:
            self.assertIn("ecdsa-sha2-nistp256", f.read())
        self.device_trusts_first_root()
        proc = self.download()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.image("1.0.0"), "rb") as f:
            self.assertEqual(self.downloaded(), f.read())


if __name__ == "__main__":
    unittest.main()
