"""`warden tuf` against TUF repositories served over plain http on
127.0.0.1, as the tuf-conformance suite drives it (CLIENT-CLI.md): init,
refresh and download, exit 0 on success and 1 on any failure.

The repositories come from tuf_repo_tool (TUF_REPO_TOOL_BIN); the server is
http.server on a thread of this process, shut down by each test.
"""
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

WARDEN = os.environ.get("WARDEN_BIN", "warden")
REPO_TOOL = os.environ.get("TUF_REPO_TOOL_BIN", "tuf_repo_tool")


class Quiet(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Quiet.requests.append(self.path)
        super().do_GET()


class WardenTufTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="warden-tuf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.repos = os.path.join(self.tmp, "repos")
        subprocess.run([REPO_TOOL, self.repos], check=True, timeout=60)
        self.serve = os.path.join(self.tmp, "serve")
        self.publish("v1")
        handler = functools.partial(Quiet, directory=self.serve)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      handler)
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.metadata_url = base + "/metadata"
        self.targets_url = base + "/targets"
        self.metadata_dir = os.path.join(self.tmp, "client", "metadata")
        self.target_dir = os.path.join(self.tmp, "client", "targets")
        os.makedirs(self.target_dir)
        Quiet.requests = []

    def publish(self, name):
        shutil.rmtree(self.serve, True)
        shutil.copytree(os.path.join(self.repos, name), self.serve)

    def tuf(self, *args):
        return subprocess.run([WARDEN, "tuf", "--metadata-dir",
                               self.metadata_dir] + list(args),
                              capture_output=True, text=True, timeout=60)

    def init(self):
        root = os.path.join(self.repos, "v1", "metadata", "1.root.json")
        proc = self.tuf("init", root)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def refresh(self):
        return self.tuf("--metadata-url", self.metadata_url, "refresh")

    def download(self, name="firmware.bin"):
        return self.tuf("--metadata-url", self.metadata_url, "--target-name",
                        name, "--target-base-url", self.targets_url,
                        "--target-dir", self.target_dir, "download")

    def local(self, name):
        with open(os.path.join(self.metadata_dir, name), "rb") as f:
            return f.read()

    def target(self):
        with open(os.path.join(self.target_dir, "firmware.bin"), "rb") as f:
            return f.read()

    def test_init_makes_no_request_and_refresh_stores_plain_names(self):
        self.init()
        self.assertEqual(Quiet.requests, [])
        proc = self.refresh()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(os.listdir(self.metadata_dir)),
                         ["root.json", "snapshot.json", "targets.json",
                          "timestamp.json"])
        self.assertIn("/metadata/2.root.json", Quiet.requests)

    def test_download_verifies_caches_and_follows_a_rotation(self):
        self.init()
        proc = self.download()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.target(), b"firmware one")
        # Again: cached, not fetched a second time.
        Quiet.requests = []
        proc = self.download()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("/targets/firmware.bin", Quiet.requests)
        # The repository rotates its timestamp key and ships a new image.
        self.publish("v2")
        proc = self.download()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.target(), b"firmware two")
        self.assertIn(b'"version":2', self.local("root.json"))

    def test_a_tampered_target_is_refused_and_the_old_one_kept(self):
        self.init()
        self.assertEqual(self.download().returncode, 0)
        self.publish("tampered")
        proc = self.download()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("hash_mismatch", proc.stderr)
        self.assertEqual(self.target(), b"firmware one")
        self.assertEqual(os.listdir(self.target_dir), ["firmware.bin"])

    def test_a_rolled_back_timestamp_fails_the_refresh(self):
        self.init()
        self.publish("v3")
        self.assertEqual(self.refresh().returncode, 0)
        trusted = self.local("timestamp.json")
        self.publish("rollback")
        proc = self.refresh()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("rollback", proc.stderr)
        self.assertEqual(self.local("timestamp.json"), trusted)

    def test_an_unreachable_repository_is_a_failure(self):
        self.init()
        self.server.shutdown()
        self.server.server_close()
        proc = self.refresh()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("fetch_failed", proc.stderr)

    def test_a_missing_metadata_url_is_a_usage_error(self):
        proc = subprocess.run([WARDEN, "tuf", "refresh"], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 2)


if __name__ == "__main__":
    unittest.main()
