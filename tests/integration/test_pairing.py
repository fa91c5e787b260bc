"""Pairing, owner control, reset and re-pair, driven through the real CLI."""
import json
import os
import pty
import select
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import run_cli


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
            {"password": "marmalade sandwich at noon 42"})
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
        wrong = "%08d" % (12345670 if str(self.unit["passcode"]) != "12345670"
                          else 12345680)
        proc = self.pair(d, code=wrong, check=False)
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
        proc = run_cli("pair", "https://127.0.0.1:%d" % relay.port, "--code",
                       "-", "--name", "victim", home=self.home,
                       input=self.unit["manual_code"] + "\n", check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertGreater(relay.requests, 0)  # it really went through
        status, _, info = harness.request(d.port, "GET", "/v1/info")
        self.assertFalse(info["paired"])


class Relay:
    """A man in the middle: terminates TLS towards the client with its own
    certificate and opens its own TLS connection to the device, copying the
    HTTP bytes both ways. With the setup code alone it could not pair; here
    it relays a rightful owner's exchange, which must fail."""

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
        try:
            client = self.server_ctx.wrap_socket(conn, server_side=True)
            upstream = harness.tls_context().wrap_socket(
                socket.create_connection(("127.0.0.1", self.device_port)))
        except (OSError, ssl.SSLError):
            conn.close()
            return

        def copy(src, dst, count):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if count:
                        self.requests += 1
                    dst.sendall(data)
            except (OSError, ssl.SSLError):
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.close()
                    except OSError:
                        pass

        t = threading.Thread(target=copy, args=(upstream, client, False),
                             daemon=True)
        t.start()
        copy(client, upstream, True)
        t.join(5)

    def close(self):
        self.closed = True
        self.listener.close()


if __name__ == "__main__":
    unittest.main()
