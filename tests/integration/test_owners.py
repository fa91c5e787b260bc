"""Owners and their credentials against the real wardend: password login
under a spray from many addresses, device cookies, roles, logout,
wardend --reset-owner, and security.txt's Canonical URL."""
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import unittest

import harness
from harness import run_cli

ADMIN_PASSWORD = "marmalade sandwich at noon 42"
MEMBER_PASSWORD = "seven orange kites over Leeds"


def request_from(source, port, method, path, body=None, headers=None):
    """One HTTP/1.1 request on a fresh TLS connection from `source` (a
    loopback address such as 127.0.0.7)."""
    h = {"Host": "device", "Connection": "close"}
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
        h["Content-Length"] = str(len(payload))
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    ctx = harness.tls_context()
    with socket.create_connection(("127.0.0.1", port), timeout=60,
                                  source_address=(source, 0)) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(head.encode() + payload)
            chunks = []
            while True:
                try:
                    b = t.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not b:
                    break
                chunks.append(b)
    status, headers, raw = harness.parse_response(b"".join(chunks))
    return status, headers, json.loads(raw) if raw else None


def login(port, owner, password, source="127.0.0.1", cookie=None):
    body = {"owner": owner, "password": password}
    if cookie:
        body["device_cookie"] = cookie
    return request_from(source, port, "POST", "/v1/login", body)


class OwnersTest(harness.DeviceTestCase):

    def pair_admin_and_member(self, d):
        """"admin" pairs first; "member" joins with warden share."""
        self.pair(d, name="admin", password=ADMIN_PASSWORD)
        self.member_home = os.path.join(self.root, "member-home")
        shared = json.loads(run_cli("share", "admin", "--json",
                                    home=self.home).stdout)
        self.assertEqual(shared["role"], "member")
        self.pair(d, name="member", home=self.member_home,
                  password=MEMBER_PASSWORD)

    def test_a_password_spray_does_not_lock_out_the_owner_with_a_cookie(self):
        d = self.start(app=False)
        self.pair(d, name="home", password=ADMIN_PASSWORD)
        status, headers, first = login(d.port, "home", ADMIN_PASSWORD)
        self.assertEqual(status, 200, first)
        cookie = first["device_cookie"]
        self.assertIn("HttpOnly", headers["set-cookie"])

        # 64 source addresses (127.0.0.2 to .65) guess the password as fast
        # as they are let, from 32 threads so that the spray alone does not
        # fill the server's connection slots.
        stop = threading.Event()
        refused = set()
        accepted = []
        lock = threading.Lock()

        def spray(first):
            guess = 0
            while not stop.is_set():
                guess += 1
                n = first + 32 * (guess % 2)
                try:
                    status, _, _ = login(d.port, "home",
                                         "guess %d from %d" % (guess, n),
                                         source="127.0.0.%d" % n)
                except OSError:
                    continue
                with lock:
                    if status == 200:
                        accepted.append(n)
                    if status == 429:
                        refused.add(n)
                if status == 429:
                    time.sleep(0.2)

        threads = [threading.Thread(target=spray, args=(n,), daemon=True)
                   for n in range(2, 34)]
        for t in threads:
            t.start()
        try:
            # The spray works: a stranger's login with the right password,
            # from a fresh address, is refused once the overall limit is hit.
            deadline = time.time() + 120
            stranger = None
            while time.time() < deadline:
                stranger, _, _ = login(d.port, "home", ADMIN_PASSWORD,
                                       source="127.0.0.200")
                if stranger == 429:
                    break
                time.sleep(0.2)
            self.assertEqual(stranger, 429)
            self.assertGreater(len(refused), 10)
            # During it, the owner with the device cookie is in at the
            # first try.
            status, _, body = login(d.port, "home", ADMIN_PASSWORD,
                                    source="127.0.0.1", cookie=cookie)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["owner"], "home")
            # ...and through the Cookie header, as a browser sends it.
            status, _, body = request_from(
                "127.0.0.1", d.port, "POST", "/v1/login",
                {"owner": "home", "password": ADMIN_PASSWORD},
                headers={"Cookie": "__Host-warden_device=" + cookie})
            self.assertEqual(status, 200, body)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(accepted, [])
        self.assertTrue(d.alive())
        self.assertIn("login_throttled", d.read_log())

    def test_a_member_cannot_reset_or_change_the_administrators_password(self):
        d = self.start(app=False)
        self.pair_admin_and_member(d)
        owners = json.loads(run_cli("owners", "admin", "--json",
                                    home=self.home).stdout)
        self.assertEqual({o["name"]: o["role"] for o in owners["owners"]},
                         {"admin": "admin", "member": "member"})
        self.assertEqual(owners["you"], "admin")

        reset = run_cli("reset", "member", "--yes", home=self.member_home,
                        check=False)
        self.assertEqual(reset.returncode, 1)
        self.assertIn("administrator", reset.stderr)
        share = run_cli("share", "member", home=self.member_home, check=False)
        self.assertEqual(share.returncode, 1)
        remove = run_cli("owners", "member", "--remove", "admin",
                         home=self.member_home, check=False)
        self.assertEqual(remove.returncode, 1)

        status, _, body = login(d.port, "member", MEMBER_PASSWORD)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["role"], "member")
        token = {"Authorization": "Bearer " + body["token"]}
        status, _, body = request_from(
            "127.0.0.1", d.port, "PUT", "/v1/owners/admin/password",
            {"password": "the member took over 99"}, headers=token)
        self.assertEqual(status, 403, body)
        status, _, body = request_from("127.0.0.1", d.port, "POST",
                                       "/v1/reset", headers=token)
        self.assertEqual(status, 403, body)

        # Nothing changed: the device is paired and the administrator's
        # password is the old one.
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertTrue(info["paired"])
        self.assertEqual(login(d.port, "admin", ADMIN_PASSWORD)[0], 200)
        self.assertEqual(
            login(d.port, "admin", "the member took over 99")[0], 401)
        self.assertIn("access_denied", d.read_log())

        # The member changes their own password; the administrator removes
        # the member, whose key then opens nothing.
        run_cli("password", "member", "--password-stdin",
                home=self.member_home, input="a brand new member secret 5\n")
        self.assertEqual(
            login(d.port, "member", "a brand new member secret 5")[0], 200)
        run_cli("owners", "admin", "--remove", "member", home=self.home)
        gone = run_cli("owners", "member", home=self.member_home, check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("owner_removed", d.read_log())

    def test_share_admin_admits_an_administrator(self):
        d = self.start(app=False)
        self.pair(d, name="first")
        shared = json.loads(run_cli("share", "first", "--admin", "--json",
                                    home=self.home).stdout)
        self.assertEqual(shared["role"], "admin")
        second = os.path.join(self.root, "second-home")
        self.pair(d, name="second", home=second)
        owners = json.loads(run_cli("owners", "second", "--json",
                                    home=second).stdout)
        self.assertEqual({o["name"]: o["role"] for o in owners["owners"]},
                         {"first": "admin", "second": "admin"})
        listing = run_cli("owners", "second", home=second).stdout
        self.assertIn("second  admin  (you)", listing)

    def test_logout_ends_the_session(self):
        d = self.start(app=False)
        self.pair(d, name="home", password=ADMIN_PASSWORD)
        _, _, first = login(d.port, "home", ADMIN_PASSWORD)
        _, _, second = login(d.port, "home", ADMIN_PASSWORD)
        auth = {"Authorization": "Bearer " + first["token"]}
        self.assertEqual(request_from("127.0.0.1", d.port, "GET",
                                      "/v1/owners", headers=auth)[0], 200)
        status, _, body = request_from("127.0.0.1", d.port, "POST",
                                       "/v1/logout", headers=auth)
        self.assertEqual(status, 204, body)
        self.assertEqual(request_from("127.0.0.1", d.port, "GET",
                                      "/v1/owners", headers=auth)[0], 401)
        other = {"Authorization": "Bearer " + second["token"]}
        self.assertEqual(request_from("127.0.0.1", d.port, "GET",
                                      "/v1/owners", headers=other)[0], 200)
        self.assertIn("logout", d.read_log())

    def test_reset_owner_on_the_device_unpairs_it(self):
        d = self.start(app=False)
        self.pair(d, name="home", password=ADMIN_PASSWORD)
        _, _, session = login(d.port, "home", ADMIN_PASSWORD)
        self.assertEqual(d.stop(), 0)
        proc = subprocess.run(
            [harness.WARDEND, "--state-dir", self.unit["dir"],
             "--reset-owner"], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("owner reset", proc.stdout)

        d2 = self.start(app=False, port=d.port)
        status, _, info = harness.request(d2.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])
        # Neither the old key nor the old session opens anything.
        old = run_cli("owners", "home", home=self.home, check=False)
        self.assertEqual(old.returncode, 1)
        auth = {"Authorization": "Bearer " + session["token"]}
        self.assertEqual(request_from("127.0.0.1", d2.port, "GET",
                                      "/v1/owners", headers=auth)[0], 401)
        self.assertEqual(login(d2.port, "home", ADMIN_PASSWORD)[0], 401)
        # The label's code pairs it again.
        self.pair(d2, name="again", home=os.path.join(self.root, "new-home"))

    def canonical(self, daemon):
        _, _, body = harness.request(daemon.port, "GET",
                                     "/.well-known/security.txt")
        m = re.search(r"^Canonical: (\S+)$", body, re.M)
        self.assertIsNotNone(m, body)
        return m.group(1)

    def test_security_txt_canonical_is_the_host_name_or_the_public_url(self):
        d = self.start(app=False)
        host = socket.gethostname()
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", host):
            host = "localhost"
        # Never the address it is bound to.
        self.assertEqual(self.canonical(d), "https://%s:%d/.well-known/"
                         "security.txt" % (host, d.port))
        self.assertEqual(d.stop(), 0)

        d = self.start(app=False,
                       extra=["--public-url", "https://thermo.example:9443"])
        self.assertEqual(self.canonical(d),
                         "https://thermo.example:9443/.well-known/security.txt")
        self.assertEqual(d.stop(), 0)

        config = os.path.join(self.root, "wardend.json")
        with open(config, "w") as f:
            json.dump({"public_url": "https://thermo.local/"}, f)
        d = self.start(app=False, extra=["--config", config])
        self.assertEqual(self.canonical(d),
                         "https://thermo.local/.well-known/security.txt")
        self.assertEqual(d.stop(), 0)

        bad = subprocess.run(
            [harness.WARDEND, "--state-dir", self.unit["dir"], "--listen",
             "127.0.0.1:0", "--public-url", "http://thermo.example"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("https://", bad.stderr)


if __name__ == "__main__":
    unittest.main()
