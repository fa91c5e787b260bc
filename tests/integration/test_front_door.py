"""The device's front door under hostile input: TLS versions, one port,
limits on every size, malformed requests, security.txt."""
import datetime
import json
import os
import socket
import ssl
import time
import unittest

import harness


def listening_inodes():
    """Inodes of every listening TCP socket on the machine."""
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[3] == "0A":  # TCP_LISTEN
                    inodes.add(parts[9])
    return inodes


def socket_inodes(pid):
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


class FrontDoorTest(harness.DeviceTestCase):

    def setUp(self):
        super().setUp()
        self.d = self.start()

    def assertHealthy(self):
        self.assertTrue(self.d.alive(), self.d.read_log())
        status, _, info = harness.request(self.d.port, "GET", "/v1/info")
        self.assertEqual(status, 200)
        self.assertEqual(info["serial"], self.unit["serial"])

    def test_tls12_and_older_are_refused(self):
        ctx = harness.tls_context(minimum=ssl.TLSVersion.TLSv1_2,
                                  maximum=ssl.TLSVersion.TLSv1_2)
        with self.assertRaises(ssl.SSLError):
            harness.request(self.d.port, "GET", "/v1/info", ctx=ctx)
        # Plain HTTP on the port gets no HTTP answer.
        with socket.create_connection(("127.0.0.1", self.d.port), 5) as s:
            s.sendall(b"GET /v1/info HTTP/1.1\r\nHost: d\r\n\r\n")
            s.settimeout(5)
            try:
                data = s.recv(1024)
            except (ConnectionResetError, socket.timeout):
                data = b""
            self.assertNotIn(b"HTTP/1.1 200", data)
        # TLS 1.3 works.
        ctx13 = harness.tls_context()
        with socket.create_connection(("127.0.0.1", self.d.port), 5) as s:
            with ctx13.wrap_socket(s) as t:
                self.assertEqual(t.version(), "TLSv1.3")
        self.assertHealthy()

    def test_exactly_one_listening_port(self):
        self.pair(self.d)
        self.d.wait_app_ready(self.home, "home")
        listening = listening_inodes()
        pids = [self.d.proc.pid] + children(self.d.proc.pid)
        mine = set()
        for pid in pids:
            mine |= socket_inodes(pid) & listening
        self.assertEqual(len(mine), 1, "listening sockets: %s" % mine)

    def test_security_txt(self):
        status, headers, body = harness.request(
            self.d.port, "GET", "/.well-known/security.txt")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        fields = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.partition(": ")
                fields.setdefault(k, v)
        self.assertEqual(fields["Contact"], "mailto:security@acme.example")
        self.assertEqual(fields["Policy"],
                         "https://acme.example/security-policy")
        self.assertIn("en", fields["Preferred-Languages"])
        self.assertTrue(fields["Canonical"].endswith(
            "/.well-known/security.txt"))
        expires = datetime.datetime.strptime(fields["Expires"],
                                             "%Y-%m-%dT%H:%M:%SZ")
        self.assertGreater(expires, datetime.datetime.utcnow())
        self.assertLess(expires, datetime.datetime.utcnow() +
                        datetime.timedelta(days=366))

    def test_info_has_nothing_secret(self):
        status, _, info = harness.request(self.d.port, "GET", "/v1/info")
        self.assertEqual(status, 200)
        self.assertEqual(set(info), {"serial", "model", "maker",
                                     "firmware_version", "support_end",
                                     "paired", "api"})
        text = str(info)
        self.assertNotIn(str(self.unit["passcode"]), text)

    def raw(self, data):
        return harness.parse_response(harness.raw_exchange(self.d.port, data))

    def test_malformed_and_oversized_requests(self):
        big_header = b"X-Fill: " + b"a" * 9000 + b"\r\n"
        many = b"".join(b"X-%d: 1\r\n" % i for i in range(70))
        cases = [
            (b"GET /v1/info HTTP/1.1\r\nHost: d\r\n" + big_header + b"\r\n",
             431),
            (b"GET /v1/info HTTP/1.1\r\nHost: d\r\n" + many + b"\r\n", 431),
            (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: d\r\n\r\n", 414),
            (b"POST /v1/login HTTP/1.1\r\nHost: d\r\nContent-Type: "
             b"application/json\r\nContent-Length: 70000\r\n\r\n" +
             b"{" * 100, 413),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /v1/info HTTP/1.1\r\nHost d\r\n\r\n", 400),
            (b"POST /v1/login HTTP/1.1\r\nHost: d\r\nContent-Type: "
             b"application/json\r\nContent-Length: 5\r\n\r\n{\"a\":", 400),
            (b"POST /v1/login HTTP/1.1\r\nHost: d\r\nContent-Type: "
             b"text/plain\r\nContent-Length: 2\r\n\r\n{}", 415),
            (b"GET /nowhere HTTP/1.1\r\nHost: d\r\n\r\n", 404),
            (b"DELETE /v1/info HTTP/1.1\r\nHost: d\r\n\r\n", 405),
            (b"GET http://evil/v1/info HTTP/1.1\r\nHost: d\r\n\r\n", 400),
            (b"POST /v1/login HTTP/1.1\r\nHost: d\r\nContent-Length: 1\r\n"
             b"Content-Length: 2\r\n\r\nab", 400),
            (b"GET /v1/state HTTP/1.1\r\nHost: d\r\n\r\n", 401),
        ]
        for data, expected in cases:
            with self.subTest(request=data[:40]):
                status, headers, body = self.raw(data)
                self.assertEqual(status, expected, body[:300])
                # Every refusal, limits and routing alike, is the JSON error
                # of docs/PROTOCOLS.md.
                self.assertTrue(
                    headers["content-type"].startswith("application/json"))
                error = json.loads(body)["error"]
                self.assertIsInstance(error["code"], str)
                self.assertTrue(error["message"])
                if expected == 405:
                    self.assertEqual(headers["allow"], "GET")
                self.assertHealthy()

    def test_connection_flood_is_bounded_and_recovers(self):
        idle = []
        try:
            for _ in range(80):
                idle.append(socket.create_connection(
                    ("127.0.0.1", self.d.port), 5))
            # Half a request line, then silence: the slow sender's trick.
            for s in idle[:10]:
                s.sendall(b"\x16\x03\x01")
            # Past the limit the device closes new connections at once.
            deadline = time.time() + 10
            while ("too many connections" not in self.d.read_log() and
                   time.time() < deadline):
                time.sleep(0.05)
            self.assertIn("too many connections", self.d.read_log())
            self.assertTrue(self.d.alive())
        finally:
            for s in idle:
                s.close()
        # Closed connections free their slots at once.
        for _ in range(50):
            try:
                status, _, _ = harness.request(self.d.port, "GET", "/v1/info")
                if status == 200:
                    break
            except (ssl.SSLError, OSError):
                pass
            time.sleep(0.1)
        self.assertHealthy()

    def test_json_limits_name_the_rule(self):
        deep = "[" * 40 + "]" * 40
        status, _, body = harness.request(self.d.port, "POST",
                                          "/v1/pair/begin", deep)
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["rule"], "max_depth")
        status, _, body = harness.request(self.d.port, "POST",
                                          "/v1/pair/begin",
                                          '{"a": "' + "x" * 9000 + '"}')
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["rule"], "max_string")
        status, _, body = harness.request(self.d.port, "POST",
                                          "/v1/pair/begin", '{"a":1,"a":2}')
        self.assertEqual(status, 400)
        self.assertHealthy()

    def test_values_are_checked_against_the_app_schema(self):
        self.pair(self.d, password="a quiet lighthouse keeper 9")
        self.d.wait_app_ready(self.home, "home")
        _, _, login = harness.request(
            self.d.port, "POST", "/v1/login",
            {"owner": "home", "password": "a quiet lighthouse keeper 9"})
        auth = {"Authorization": "Bearer " + login["token"]}
        cases = [
            ("setpoint", {"value": 31}, "/value", "maximum"),
            ("setpoint", {"value": 4.5}, "/value", "minimum"),
            ("setpoint", {"value": "22"}, "/value", "type"),
            ("setpoint", {"value": 22, "extra": 1}, "/extra",
             "additionalProperties"),
            ("setpoint", {}, "/value", "required"),
            ("mode", {"value": "hot"}, "/value", "enum"),
            ("schedule", {"value": {"mon": []}}, "/value", "required"),
        ]
        _, _, before = harness.request(self.d.port, "GET", "/v1/state",
                                       headers=auth)
        for key, body, field, rule in cases:
            with self.subTest(key=key, body=body):
                status, _, reply = harness.request(
                    self.d.port, "PUT", "/v1/state/" + key, body,
                    headers=auth)
                self.assertEqual(status, 400, reply)
                self.assertEqual(reply["error"]["field"], field)
                self.assertEqual(reply["error"]["rule"], rule)
        status, _, reply = harness.request(self.d.port, "PUT",
                                           "/v1/state/temperature",
                                           {"value": 20}, headers=auth)
        self.assertEqual(status, 409)
        status, _, reply = harness.request(self.d.port, "PUT",
                                           "/v1/state/nonexistent",
                                           {"value": 20}, headers=auth)
        self.assertEqual(status, 404)
        _, _, after = harness.request(self.d.port, "GET", "/v1/state",
                                      headers=auth)
        for key in ("setpoint", "mode", "schedule"):
            self.assertEqual(before["state"][key], after["state"][key])
        self.assertHealthy()

    def test_weak_owner_passwords_are_refused(self):
        self.pair(self.d)
        for weak in ("password", "admin", "xc3511", "12345678",
                     "password1234", self.unit["serial"] + "-secret!"):
            with self.subTest(password=weak):
                proc = harness.run_cli("password", "home",
                                       "--password-stdin", home=self.home,
                                       input=weak + "\n", check=False)
                self.assertEqual(proc.returncode, 1, proc.stdout)
        proc = harness.run_cli("password", "home", "--password-stdin",
                               home=self.home,
                               input="seven orange kites over Leeds\n")
        self.assertEqual(proc.returncode, 0)

    def test_sigterm_stops_cleanly(self):
        self.pair(self.d)
        self.d.wait_app_ready(self.home, "home")
        kids = children(self.d.proc.pid)
        self.assertEqual(self.d.stop(), 0)
        for pid in kids:
            self.assertFalse(os.path.exists("/proc/%d/status" % pid) and
                             "zombie" not in open(
                                 "/proc/%d/status" % pid).read().lower(),
                             "app %d still running" % pid)


if __name__ == "__main__":
    unittest.main()
