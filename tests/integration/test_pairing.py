"""Pairing, owner control, reset and re-pair, driven through the real CLI
and through a raw SPAKE2+ client that behaves as an attacker's tool."""
import json
import os
import pty
import select
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import run_cli

SPAKE_CLIENT = os.environ.get("SPAKE_CLIENT_BIN", "")


def spake_attempts(port, code, attempts=1, confirm=False):
    """Pairing attempts on one TLS connection with the raw SPAKE2+ client;
    one dict per attempt, the last one refused if any was."""
    args = [SPAKE_CLIENT, "--port", str(port), "--code", str(code),
            "--attempts", str(attempts)]
    if confirm:
        args.append("--confirm")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("spake client failed: " + proc.stderr)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def refused_step(attempt):
    """The status of the step the device refused, or None."""
    if attempt["begin"] != 200:
        return attempt["begin"]
    if attempt.get("exchange", 200) != 200:
        return attempt["exchange"]
    return None


def wrong_code(unit):
    return "%08d" % (12345670 if str(unit["passcode"]) != "12345670"
                     else 12345680)


class PairingTest(harness.DeviceTestCase):

    def test_pair_control_and_persist(self):
        d = self.start()
        self.pair(d, password="marmalade sandwich at noon 42")
        d.wait_app_ready(self.home, "home")
        status = json.loads(run_cli("status", "home", "--json",
                                    home=self.home).stdout)
        self.assertIn("info", status)
        self.assertTrue(status["info"]["paired"])

        run_cli("set", "home", "setpoint", "22.5", home=self.home)
        got = json.loads(run_cli("get", "home", "setpoint", "--json",
                                 home=self.home).stdout)
        self.assertEqual(got["value"], 22.5)

        # A bad value is refused with the field and the rule, and changes
        # nothing.
        bad = run_cli("set", "home", "setpoint", "40", home=self.home,
                      check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("maximum", bad.stderr)
        got = json.loads(run_cli("get", "home", "setpoint", "--json",
                                 home=self.home).stdout)
        self.assertEqual(got["value"], 22.5)
        bad = run_cli("set", "home", "mode", "hot", home=self.home,
                      check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("enum", bad.stderr)
        bad = run_cli("set", "home", "temperature", "20", home=self.home,
                      check=False)
        self.assertEqual(bad.returncode, 1)

        # Password login works for the browser path.
        status, _, body = harness.request(
            d.port, "POST", "/v1/login",
            {"owner": "home", "password": "marmalade sandwich at noon 42"})
        self.assertEqual(status, 200, body)
        token = body["token"]
        status, _, body = harness.request(
            d.port, "GET", "/v1/state",
            headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"]["setpoint"], 22.5)

        # State survives a restart of the daemon.
        self.assertEqual(d.stop(), 0)
        d2 = self.start(port=d.port)
        run_cli("status", "home", home=self.home)  # same pinned certificate
        d2.wait_app_ready(self.home, "home")
        status, _, body = harness.request(
            d2.port, "GET", "/v1/state/setpoint",
            headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)

    def test_wrong_code_fails_and_device_stays_unpaired(self):
        d = self.start(app=False)
        proc = self.pair(d, code=wrong_code(self.unit), check=False)
        self.assertEqual(proc.returncode, 1)
        # The client sent its confirm all the same: the device refused it
        # and logged the failure.
        self.assertIn("the setup code is wrong", proc.stderr)
        self.assertIn("the device refused it too", proc.stderr)
        self.assertIn("pairing_failed", d.read_log()[d.log_start:])
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertEqual(status, 200)
        self.assertFalse(info["paired"])
        # The right code still works afterwards.
        self.pair(d)

    def test_code_prompt_does_not_echo(self):
        d = self.start(app=False)
        code = self.unit["manual_code"]
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [harness.WARDEN, "--home", self.home, "pair", d.url, "--name",
             "home"], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.addCleanup(os.close, master)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        seen = self.read_pty_until(master, proc, b"Setup code")
        self.assertIn(b"Setup code", seen)
        os.write(master, code.encode() + b"\n")
        seen += self.read_pty_until(master, proc, None)
        self.assertEqual(proc.wait(timeout=30), 0, seen)
        self.assertIn(b"paired with", seen)
        # Typed with echo off: the code never showed on the terminal.
        self.assertNotIn(code.encode(), seen)

    def read_pty_until(self, fd, proc, needle, timeout=30):
        out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                out += chunk
                if needle is not None and needle in out:
                    break
            elif proc.poll() is not None and needle is None:
                break
        return out

    def test_code_on_the_command_line_warns_and_leaves_the_process_list(self):
        # A peer that accepts TCP and never answers keeps warden waiting in
        # its handshake long enough to look at its command line.
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        self.addCleanup(listener.close)
        code = self.unit["manual_code"]
        proc = subprocess.Popen(
            [harness.WARDEN, "--home", self.home, "pair",
             "https://127.0.0.1:%d" % listener.getsockname()[1], "--code",
             code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        warning = proc.stderr.readline().decode()
        self.assertIn("warning", warning)
        self.assertIn("process list", warning)
        with open("/proc/%d/cmdline" % proc.pid, "rb") as f:
            cmdline = f.read()
        self.assertIn(b"--code", cmdline)
        self.assertNotIn(code.encode(), cmdline)

    def test_second_owner_refused_until_reset(self):
        d = self.start()
        self.pair(d)
        other_home = os.path.join(self.root, "other-home")
        proc = self.pair(d, home=other_home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("already paired", proc.stderr)

        reset = json.loads(run_cli("reset", "home", "--yes", "--json",
                                   home=self.home).stdout)
        self.assertEqual(reset, {"name": "home", "paired": False})
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])
        # The old owner's key no longer opens anything.
        self.pair(d, home=other_home, name="new")
        d.wait_app_ready(other_home, "new")
        st = run_cli("status", "new", home=other_home)
        self.assertEqual(st.returncode, 0)
        # ...and the old owner is locked out.
        old = run_cli("get", "home", "mode", home=self.home, check=False)
        self.assertEqual(old.returncode, 1)

    def test_owner_consent_admits_exactly_one_more_owner(self):
        d = self.start()
        self.pair(d)
        second = os.path.join(self.root, "second-home")
        third = os.path.join(self.root, "third-home")
        shared = json.loads(run_cli("share", "home", "--minutes", "5",
                                    "--json", home=self.home).stdout)
        self.assertGreater(shared["open_until"], time.time() + 240)
        self.pair(d, home=second, name="shared")
        proc = self.pair(d, home=third, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("already paired", proc.stderr)
        d.wait_app_ready(second, "shared")
        run_cli("set", "shared", "mode", "auto", home=second)
        got = json.loads(run_cli("get", "home", "mode", "--json",
                                 home=self.home).stdout)
        self.assertEqual(got["value"], "auto")

    def test_unreachable_app_folder_is_a_clear_start_error(self):
        if os.geteuid() != 0:
            self.skipTest("the app runs as another user only under root")
        locked = os.path.join(self.root, "locked")
        os.mkdir(locked, 0o700)
        unit = self.maker.provision(serial="ACME-LOCKED")
        moved = os.path.join(locked, "unit")
        os.rename(unit["dir"], moved)
        proc = subprocess.run([harness.WARDEND, "--state-dir", moved,
                               "--listen", "127.0.0.1:0", "--app",
                               harness.THERMOSTAT] + harness.APP_ARGS,
                              capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot reach its folder", proc.stderr)
        self.assertIn(locked, proc.stderr)

    def test_relayed_pairing_fails(self):
        d = self.start(app=False)
        relay = Relay(d.port, self.root)
        self.addCleanup(relay.close)
        # The rightful owner's exchange, with the right code, relayed: the
        # device itself refuses the confirmation, because the two TLS
        # connections give the two sides different exporter values.
        [attempt] = spake_attempts(relay.port, self.unit["passcode"],
                                   confirm=True)
        self.assertEqual(attempt["exchange"], 200, attempt)
        self.assertFalse(attempt["guess_ok"])  # the client sees it too
        self.assertEqual(attempt["confirm"], 401, attempt)
        self.assertEqual(attempt["error"]["code"], "unauthenticated")
        self.assertIn("does not match", attempt["error"]["message"])
        self.assertGreater(relay.requests, 0)  # it really went through
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])
        self.assertRegex(d.read_log(), r"pairing_failed .*wrong setup code")

        # The owner's CLI through the relay fails on the mismatch, not on a
        # timeout.
        proc = run_cli("pair", "https://127.0.0.1:%d" % relay.port, "--code",
                       "-", "--name", "victim", home=self.home,
                       input=self.unit["manual_code"] + "\n", check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("relayed", proc.stderr)
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])

        # The same client, with the same code, straight to the device pairs:
        # the refusal above was the relay's doing.
        [direct] = spake_attempts(d.port, self.unit["passcode"], confirm=True)
        self.assertTrue(direct["guess_ok"])
        self.assertEqual(direct["confirm"], 200, direct)

    def test_a_guesser_that_never_confirms_is_delayed_then_locked(self):
        # The delays are capped at one second here (the lock is fixed), so
        # the twenty attempts take seconds rather than minutes.
        config = os.path.join(self.root, "wardend.json")
        with open(config, "w") as f:
            json.dump({"pairing": {"max_delay_seconds": 1}}, f)
        d = self.start(app=False, extra=["--config", config])
        wrong = wrong_code(self.unit)

        # Four attempts back to back on one connection: three go at once,
        # the fourth must wait.
        first = spake_attempts(d.port, wrong, attempts=4)
        self.assertEqual(len(first), 4, first)
        for attempt in first[:3]:
            self.assertEqual(attempt["exchange"], 200, attempt)
            self.assertFalse(attempt["guess_ok"])
        self.assertEqual(refused_step(first[3]), 429, first[3])
        self.assertEqual(first[3]["retry_after"], 1)

        made = 3
        retry_after = first[3]["retry_after"]
        while made < 20:
            time.sleep(retry_after)
            [attempt] = spake_attempts(d.port, wrong)
            if refused_step(attempt) is None:
                made += 1
                continue
            self.assertEqual(refused_step(attempt), 429, attempt)
            self.assertLessEqual(attempt["retry_after"], 1, attempt)
            retry_after = attempt["retry_after"]

        # Locked at the twentieth: not even the right code gets an exchange.
        [locked] = spake_attempts(d.port, self.unit["passcode"])
        self.assertEqual(refused_step(locked), 429, locked)
        self.assertGreater(locked["retry_after"], 3000)
        self.assertIn("locked", locked["error"]["message"])
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])

        deadline = time.time() + 10
        while (len(re.findall(r"pairing_failed ", d.read_log())) < 20 and
               time.time() < deadline):
            time.sleep(0.1)
        log = d.read_log()
        self.assertEqual(len(re.findall(r"pairing_locked ", log)), 1, log)
        self.assertIn("pairing_locked failures=20", log)
        counts = [int(n) for n in
                  re.findall(r"pairing_failed .*failures=(\d+)", log)]
        self.assertEqual(len(counts), 20, log)
        self.assertEqual(max(counts), 20)

    def test_pairing_again_after_a_lost_reply_completes(self):
        d = self.start(app=False)
        self.pair(d, password="marmalade sandwich at noon 42")
        # The device committed, but the owner never heard: their registry
        # has no entry for it. Pairing again with the same key completes.
        with open(os.path.join(self.home, "devices.json"), "w") as f:
            json.dump({"devices": {}}, f)
        proc = self.pair(d)
        self.assertIn("paired with", proc.stdout)
        owners = json.loads(run_cli("owners", "home", "--json",
                                    home=self.home).stdout)
        self.assertEqual([o["name"] for o in owners["owners"]], ["home"])
        self.assertEqual(owners["owners"][0]["role"], "admin")
        self.assertIn("paired_again", d.read_log())
        # Another owner's key still cannot pair.
        other = os.path.join(self.root, "other-home")
        proc = self.pair(d, home=other, name="intruder", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("already paired", proc.stderr)


def read_message(sock):
    """One HTTP/1.1 message (head and Content-Length body) from `sock`, or
    b"" when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head + b"\r\n\r\n" + body


class Relay:
    """A man in the middle: terminates TLS towards the client with its own
    certificate and opens its own TLS connection to the device, copying
    each HTTP request and its response. With the setup code alone it could
    not pair; here it relays a rightful owner's exchange, which must fail.

    One thread per connection takes turns (request, then response): an
    SSL socket must not be read and written from two threads at once."""

    def __init__(self, device_port, root):
        cert = os.path.join(root, "relay.crt")
        key = os.path.join(root, "relay.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj",
                        "/CN=relay"], check=True, capture_output=True)
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.server_ctx.load_cert_chain(cert, key)
        self.device_port = device_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.closed = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.pipe, args=(conn,),
                             daemon=True).start()

    def pipe(self, conn):
        conn.settimeout(30)
        client = upstream = None
        try:
            client = self.server_ctx.wrap_socket(conn, server_side=True)
            upstream = harness.tls_context().wrap_socket(
                socket.create_connection(("127.0.0.1", self.device_port),
                                         timeout=30))
            while True:
                request = read_message(client)
                if not request:
                    break
                self.requests += 1
                upstream.sendall(request)
                response = read_message(upstream)
                if not response:
                    break
                client.sendall(response)
        except (OSError, ssl.SSLError):
            pass
        finally:
            for s in (client, upstream, conn):
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.listener.close()


if __name__ == "__main__":
    unittest.main()
