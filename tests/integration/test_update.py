"""wardend updated end to end: from a repository served over HTTPS on
loopback (a CA the test makes, ranged requests), from a local copy
(--update-from and the owner's upload), a release that fails its health
check rolling back, a tampered slot at start (safe mode, reinstall), and
kill -9 of wardend at random points of an update.

Images are the app itself (the release contract): a shell script that says
which release it is and execs the thermostat example."""
import http.server
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import run_cli

TOOL = os.environ.get("UPDATE_REPO_TOOL_BIN", "update_repo_tool")
MODEL = "thermostat-v1"
KILLS = int(os.environ.get("WARDEN_UPDATE_KILLS", "12"))


def image(version, body=None):
    """An app image: a script naming its release, padded so that a
    download takes several chunks and checkpoints."""
    body = body or 'exec %s "$@"\n' % harness.THERMOSTAT
    pad = "# " + ("%s " % version) * 40 + "\n"
    return ("#!/bin/sh\necho running release %s\n%s" % (version, body) +
            pad * 1500)


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single ranges (bytes=N-), as a CDN serves them."""

    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().send_head()
        m = re.match(r"bytes=(\d+)-$", rng)
        size = os.path.getsize(path)
        start = int(m.group(1)) if m else 0
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range",
                         "bytes %d-%d/%d" % (start, size - 1, size))
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        return f


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UpdateTest(harness.DeviceTestCase):

    def setUp(self):
        super().setUp()
        self.work = os.path.join(self.root, "update")
        os.makedirs(self.work)
        self.boot = os.path.join(self.root, "boot")
        os.makedirs(self.boot)
        os.chmod(self.boot, 0o711)
        self.port = free_port()

    # ---- fixtures ---------------------------------------------------------

    def releases(self, *versions, bodies=None):
        """Writes r1 (factory), r2, ... and slot A with the factory image."""
        bodies = bodies or {}
        args = []
        for v in versions:
            p = os.path.join(self.work, "img-%s" % v)
            with open(p, "w") as f:
                f.write(image(v, bodies.get(v)))
            args.append("%s=%s" % (v, p))
        repos = os.path.join(self.work, "repos")
        subprocess.run([TOOL, repos, MODEL] + args, check=True, timeout=60)
        shutil.copy(os.path.join(self.work, "img-%s" % versions[0]),
                    os.path.join(self.boot, "slot_a.img"))
        return repos

    def make_ca(self):
        """A CA and a certificate for 127.0.0.1, with openssl."""
        d = os.path.join(self.work, "tls")
        os.makedirs(d)
        def ossl(*a):
            subprocess.run(["openssl"] + list(a), check=True,
                           capture_output=True, timeout=60, cwd=d)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=update test CA")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj",
             "/CN=127.0.0.1")
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
             "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2",
             "-extfile", "ext")
        return d

    def serve(self, directory, tls_dir):
        """An HTTPS server on loopback in this process; stopped at cleanup."""
        handler = lambda *a, **kw: RangeHandler(*a, directory=self.served,
                                                **kw)
        self.served = directory
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tls_dir, "srv.pem"),
                            os.path.join(tls_dir, "srv.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return "https://127.0.0.1:%d" % srv.server_address[1]

    def config(self, repos, repository=None, ca=None, automatic=True):
        u = {"root": os.path.join(repos, "root.json"),
             "factory_targets": os.path.join(repos, "factory.targets.json"),
             "hardware_model": MODEL, "factory_version": "1.0.0",
             "slots": {"dir": self.boot}, "health_timeout_seconds": 8,
             "automatic": automatic, "max_defer_hours": 48}
        if repository:
            u["repository"] = repository
            u["ca_file"] = ca
        cfg = {"update": u,
               "app": {"command": ["/unused"], "user": harness.APP_USER,
                       "allow_shared_user": True}}
        path = os.path.join(self.work, "wardend.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def start_device(self, cfg, extra=()):
        return self.start(app=False, port=self.port,
                          extra=["--config", cfg] + list(extra))

    def wait_log(self, daemon, pattern, timeout=60, since=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = daemon.read_log()[since:]
            if re.search(pattern, text):
                return text
            if not daemon.alive():
                break
            time.sleep(0.1)
        raise AssertionError("no %r in the log:\n%s" %
                             (pattern, daemon.read_log()[-6000:]))

    def update(self, *args, check=True):
        return run_cli("update", "home", *args, home=self.home, check=check)

    def status(self):
        return json.loads(run_cli("update", "home", "--check", "--json",
                                  home=self.home, check=False).stdout)

    def info(self, daemon):
        code, _, body = harness.request(daemon.port, "GET", "/v1/info")
        self.assertEqual(code, 200)
        return body

    def running_release(self, daemon, since=0):
        """The release whose app output the log shows last."""
        found = re.findall(r"running release ([0-9.]+)",
                           daemon.read_log()[since:])
        return found[-1] if found else None

    # ---- tests ------------------------------------------------------------

    def test_update_over_https_installs_commits_and_runs_the_new_release(self):
        repos = self.releases("1.0.0", "1.1.0")
        tls = self.make_ca()
        url = self.serve(os.path.join(repos, "r2"), tls)
        d = self.start_device(self.config(repos, url, os.path.join(tls,
                                                                   "ca.pem")))
        self.wait_log(d, r"running release 1\.0\.0")
        self.pair(d, name="home")
        out = self.update("--json")
        s = json.loads(out.stdout)
        self.assertEqual(s["current_version"], "1.1.0")
        self.assertEqual(s["phase"], "committed")
        self.wait_log(d, r"update_committed")
        self.assertEqual(self.running_release(d), "1.1.0")
        info = self.info(d)
        self.assertEqual(info["firmware_version"], "1.1.0")
        self.assertEqual(info["support_until"], "2031-12-31")
        # One support period: the signed release's, not the factory's.
        self.assertEqual(info["support_end"], "2031-12-31")
        self.assertTrue(info["supported"])
        self.assertTrue(info["integrity"]["ok"])

    def test_a_repository_over_https_with_another_ca_is_refused(self):
        repos = self.releases("1.0.0", "1.1.0")
        tls = self.make_ca()
        url = self.serve(os.path.join(repos, "r2"), tls)
        other = os.path.join(self.work, "other.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        os.path.join(self.work, "other.key"), "-out", other,
                        "-days", "2", "-subj", "/CN=other"], check=True,
                       capture_output=True)
        d = self.start_device(self.config(repos, url, other))
        self.pair(d, name="home")
        out = self.update(check=False)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.wait_log(d, r"update_failed")
        self.assertEqual(self.running_release(d), "1.0.0")

    def test_update_from_a_local_copy_with_the_same_checks(self):
        repos = self.releases("1.0.0", "1.1.0")
        copy = os.path.join(repos, "r2")
        d = self.start_device(self.config(repos), ["--update-from", copy])
        self.wait_log(d, r"update_committed")
        self.wait_log(d, r"running release 1\.1\.0")
        self.assertTrue(self.info(d)["integrity"]["ok"])

    def test_the_owner_uploads_a_copy_and_a_tampered_copy_is_refused(self):
        repos = self.releases("1.0.0", "1.1.0")
        d = self.start_device(self.config(repos))
        self.pair(d, name="home")
        bad = os.path.join(self.work, "bad")
        shutil.copytree(os.path.join(repos, "r2"), bad)
        for name in os.listdir(os.path.join(bad, "targets")):
            p = os.path.join(bad, "targets", name)
            data = open(p).read()
            with open(p, "w") as f:
                f.write(data.replace("1.1.0", "6.6.6", 1))
        out = self.update("--from", bad, check=False)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.wait_log(d, r"update_refused.*wrong_hash")
        self.assertEqual(self.running_release(d), "1.0.0")
        out = self.update("--from", os.path.join(repos, "r2"), "--json")
        self.assertEqual(json.loads(out.stdout)["current_version"], "1.1.0")
        self.wait_log(d, r"running release 1\.1\.0")

    def test_a_release_whose_app_exits_rolls_back_to_the_old_one(self):
        repos = self.releases("1.0.0", "1.2.0",
                              bodies={"1.2.0": "exit 3\n"})
        d = self.start_device(self.config(repos))
        self.pair(d, name="home")
        out = self.update("--from", os.path.join(repos, "r2"), check=False)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        text = self.wait_log(d, r"update_rolled_back")
        self.assertIn("running release 1.2.0", text)
        self.wait_log(d, r"update_rolled_back[\s\S]*running release 1\.0\.0")
        s = json.loads(run_cli("update", "home", "--check", "--json",
                               "--from", os.path.join(repos, "r2"),
                               home=self.home, check=False).stdout)
        self.assertEqual(s["current_version"], "1.0.0")

    def test_a_release_that_never_says_hello_rolls_back(self):
        repos = self.releases("1.0.0", "1.2.0",
                              bodies={"1.2.0": "exec sleep 600\n"})
        d = self.start_device(self.config(repos))
        self.pair(d, name="home")
        out = self.update("--from", os.path.join(repos, "r2"), check=False)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.wait_log(d, r"update_rolled_back.*hello")
        self.wait_log(d, r"update_rolled_back[\s\S]*running release 1\.0\.0")

    def test_a_tampered_slot_at_start_is_safe_mode_and_reinstall_restores(
            self):
        repos = self.releases("1.0.0", "1.1.0")
        d = self.start_device(self.config(repos))
        self.wait_log(d, r"running release 1\.0\.0")
        self.pair(d, name="home")
        d.stop()
        self.daemons.remove(d)
        slot = os.path.join(self.boot, "slot_a.img")
        with open(slot) as f:
            data = f.read()
        with open(slot, "w") as f:
            f.write(data.replace("running release", "evil code ran", 1))
        d = self.start_device(self.config(repos))
        self.wait_log(d, r"tamper")
        time.sleep(1)
        self.assertNotIn("evil code ran", d.read_log())
        self.assertNotIn("app_started", d.read_log()[d.log_start:])
        info = self.info(d)
        self.assertFalse(info["integrity"]["ok"])
        self.assertTrue(info["safe_mode"])
        st = run_cli("status", "home", home=self.home, check=False)
        self.assertIn("SAFE MODE", st.stdout)
        out = self.update("--reinstall", "--from", os.path.join(repos, "r1"))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.wait_log(d, r"running release 1\.0\.0", since=d.log_start)
        self.assertTrue(self.info(d)["integrity"]["ok"])

    def settled_status(self, d, timeout=90):
        """The update status once nothing is under way (through reboots)."""
        deadline = time.time() + timeout
        s = None
        while time.time() < deadline:
            out = run_cli("update", "home", "--status", "--json",
                          home=self.home, check=False)
            if out.returncode == 0:
                s = json.loads(out.stdout)
                if not s["busy"] and s["phase"] not in (
                        "downloading", "verified", "trial_pending", "trial"):
                    return s
            time.sleep(0.2)
        raise AssertionError("did not settle: %s\n%s" % (
            s, d.read_log()[-4000:]))

    def test_kill_9_during_an_update_always_ends_on_a_verified_image(self):
        seed = int(os.environ.get("WARDEN_UPDATE_SEED", time.time()))
        rng = random.Random(seed)
        repos = self.releases("1.0.0", "1.1.0")
        cfg = self.config(repos)
        copy = os.path.join(repos, "r2")
        d = self.start_device(cfg)
        self.pair(d, name="home")
        d.stop()
        self.daemons.remove(d)
        outcomes = set()
        for i in range(KILLS):
            d = self.start_device(cfg, ["--update-from", copy])
            time.sleep(rng.uniform(0.0, 1.2))
            d.proc.kill()
            d.proc.wait()
            d.log.close()
            self.daemons.remove(d)
            # The power comes back: wardend starts as the supervisor would,
            # without the copy; what was under way finishes from its
            # record or is undone.
            d = self.start_device(cfg)
            s = self.settled_status(d)
            msg = "seed %d round %d: %s\n%s" % (seed, i, s,
                                                  d.read_log()[-3000:])
            self.assertTrue(s["integrity"]["ok"], msg)
            self.assertIn(s["current_version"], ("1.0.0", "1.1.0"), msg)
            self.wait_log(d, r"running release", since=d.log_start)
            self.assertEqual(self.running_release(d, since=d.log_start),
                             s["current_version"], msg)
            self.assertNotIn("tamper", d.read_log()[d.log_start:], msg)
            outcomes.add(s["current_version"])
            d.stop()
            self.daemons.remove(d)
            if s["current_version"] == "1.1.0":
                # Back to a factory device for the next round.
                shutil.rmtree(self.boot)
                os.makedirs(self.boot)
                os.chmod(self.boot, 0o711)
                shutil.copy(os.path.join(self.work, "img-1.0.0"),
                            os.path.join(self.boot, "slot_a.img"))
                shutil.rmtree(os.path.join(self.unit["dir"], "update"))
        print("seed %d: %d kills, rounds ended at %s" % (
            seed, KILLS, sorted(outcomes)), file=sys.stderr)

if __name__ == "__main__":
    unittest.main()
