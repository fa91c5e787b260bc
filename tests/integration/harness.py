"""Starts real Warden processes on loopback for the integration tests.

Every process a test starts is stopped again by the test's cleanup, by its
own pid. Binaries come from the environment that ctest sets:
WARDEN_BIN, WARDEND_BIN, THERMOSTAT_BIN.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

WARDEN = os.environ.get("WARDEN_BIN", "warden")
WARDEND = os.environ.get("WARDEND_BIN", "wardend")
THERMOSTAT = os.environ.get("THERMOSTAT_BIN", "")

# The app's own system user, which scripts/install-deps.sh creates; wardend
# uses it only when it runs as root. Test runs on one machine share it, so
# the daemons here allow it to be shared; test_app_isolation checks the
# refusal wardend makes without that flag.
APP_USER = "warden-app"
APP_ARGS = ["--app-user", APP_USER, "--app-allow-shared-user"]


def run_cli(*args, home=None, input=None, check=True):
    cmd = [WARDEN]
    if home:
        cmd += ["--home", home]
    cmd += list(args)
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (
            " ".join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return proc


class Maker:
    """A maker directory and the units provisioned from it."""

    def __init__(self, root):
        self.dir = os.path.join(root, "maker")
        run_cli("mfg", "init", "--dir", self.dir, "--name", "Acme Heating",
                "--contact", "mailto:security@acme.example",
                "--policy", "https://acme.example/security-policy",
                "--support-years", "5")
        self.root = root
        self.count = 0

    def provision(self, serial=None, model="Thermo One"):
        self.count += 1
        serial = serial or "ACME-%04d" % self.count
        out = os.path.join(self.root, "unit-" + serial)
        proc = run_cli("mfg", "provision", "--maker", self.dir, "--serial",
                       serial, "--model", model, "--out", out, "--json")
        unit = json.loads(proc.stdout)
        unit["dir"] = out
        return unit


class Daemon:
    """One wardend process on 127.0.0.1 with an ephemeral port."""

    def __init__(self, state_dir, app=True, extra=(), port=0, prefix=(),
                 env=None):
        self.state_dir = state_dir
        # `prefix` runs wardend through another program that execs it
        # (ip netns exec), so the pid stays wardend's own.
        cmd = list(prefix) + [WARDEND, "--state-dir", state_dir, "--listen",
               "127.0.0.1:%d" % port]
        if app and THERMOSTAT:
            cmd += ["--app", THERMOSTAT] + APP_ARGS
        cmd += list(extra)
        self.log_path = os.path.join(state_dir, "..",
                                     os.path.basename(state_dir) + ".log")
        self.log = open(self.log_path, "a+")
        self.log_start = len(self.read_log())
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                     env=env)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.read_log()[self.log_start:]
            m = re.search(r"listening url=https://127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError("wardend exited: " + text)
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise AssertionError("wardend did not start: " + self.read_log())
        self.url = "https://127.0.0.1:%d" % self.port

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_app_ready(self, home, name, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            proc = run_cli("get", name, "mode", home=home, check=False)
            if proc.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("app not ready: " + self.read_log())

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def tls_context(minimum=ssl.TLSVersion.TLSv1_3,
                maximum=ssl.TLSVersion.TLSv1_3):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = minimum
    ctx.maximum_version = maximum
    return ctx


def raw_exchange(port, data, timeout=10, ctx=None):
    """Sends raw bytes over TLS; returns everything the server answered."""
    ctx = ctx or tls_context()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(data)
            chunks = []
            try:
                while True:
                    b = t.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
                    if b"\r\n\r\n" in b"".join(chunks) and _complete(
                            b"".join(chunks)):
                        break
            except (ssl.SSLError, ConnectionResetError, socket.timeout):
                pass
            return b"".join(chunks)


def _complete(data):
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    return m is not None and len(body) >= int(m.group(1))


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def request(port, method, path, body=None, headers=None, ctx=None):
    """One HTTP/1.1 request on a fresh TLS connection."""
    h = {"Host": "device", "Connection": "close"}
    if body is not None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h["Content-Type"] = "application/json"
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    data = "%s %s HTTP/1.1\r\n" % (method, path)
    data += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    raw = data.encode() + (body or b"")
    status, headers, payload = parse_response(raw_exchange(port, raw, ctx=ctx))
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return status, headers, parsed


class DeviceTestCase(unittest.TestCase):
    """A fresh maker and unit per test, cleaned up afterwards."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="warden-it-")
        # The app runs as its own user and must pass through to its folder.
        os.chmod(self.root, 0o711)
        self.addCleanup(shutil.rmtree, self.root, True)
        self.home = os.path.join(self.root, "owner-home")
        self.maker = Maker(self.root)
        self.unit = self.maker.provision()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()

    def start(self, unit=None, **kw):
        d = Daemon((unit or self.unit)["dir"], **kw)
        self.daemons.append(d)
        return d

    def pair(self, daemon, code=None, name="home", home=None, check=True,
             password=None):
        """Pairs as an owner would, the code kept out of the command line:
        from standard input, or from a file when the password takes
        standard input."""
        code = str(code if code is not None else self.unit["manual_code"])
        args = ["pair", daemon.url, "--name", name, "--owner", name]
        if password is not None:
            code_file = os.path.join(self.root, "code-%s" % name)
            with open(code_file, "w") as f:
                f.write(code + "\n")
            args += ["--code-file", code_file, "--password-stdin"]
            stdin = password + "\n"
        else:
            args += ["--code", "-"]
            stdin = code + "\n"
        return run_cli(*args, home=home or self.home, input=stdin,
                       check=check)
