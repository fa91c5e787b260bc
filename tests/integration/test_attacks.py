"""The front door under attack, as a stranger on the network would try it:
expensive key exchanges, connection slots taken from one address or from
many, slow senders, requests without Host. Each test checks the refusal it
is named for, or that the paired owner keeps being served while the attack
runs.

Attackers bind to 127.0.0.2 and up (all of 127.0.0.0/8 is loopback) so
that they have source addresses of their own; the owner uses 127.0.0.1.
"""
import json
import os
import select
import selectors
import socket
import ssl
import struct
import subprocess
import threading
import time
import unittest

import harness

CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")

# TLS code points (RFC 8446, RFC 7919).
GROUPS = {"x25519": 0x001d, "secp256r1": 0x0017, "secp384r1": 0x0018,
          "secp521r1": 0x0019, "ffdhe2048": 0x0100, "ffdhe8192": 0x0104}
ECDSA_P256_SHA256, RSA_PSS_SHA256, ED25519 = 0x0403, 0x0804, 0x0807
ALERT = 21
HANDSHAKE_FAILURE = 40
PASSWORD = "a kettle of fish at dawn 17"


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK


def _extension(kind, body):
    return struct.pack("!HH", kind, len(body)) + body


def client_hello(group, key_share):
    """A TLS 1.3 ClientHello offering one group, with `key_share` for it."""
    g = struct.pack("!H", GROUPS[group])
    sigalgs = struct.pack("!HHH", ECDSA_P256_SHA256, RSA_PSS_SHA256, ED25519)
    share = g + struct.pack("!H", len(key_share)) + key_share
    extensions = (
        _extension(43, b"\x02\x03\x04") +  # supported_versions: TLS 1.3
        _extension(10, struct.pack("!H", 2) + g) +  # supported_groups
        _extension(13, struct.pack("!H", len(sigalgs)) + sigalgs) +
        _extension(51, struct.pack("!H", len(share)) + share))  # key_share
    body = (b"\x03\x03" + os.urandom(32) + b"\x20" + os.urandom(32) +
            b"\x00\x06\x13\x01\x13\x02\x13\x03" + b"\x01\x00" +
            struct.pack("!H", len(extensions)) + extensions)
    message = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(message)) + message


# The generator (2) is a valid public value in every RFC 7919 group, so the
# server has no cheap reason to reject the share before computing with it.
FFDHE8192_SHARE = (2).to_bytes(1024, "big")
FFDHE2048_SHARE = (2).to_bytes(256, "big")


def first_reply(port, data):
    """Sends `data`; returns (record type, first two body bytes) of the
    server's first TLS record, or (None, b"") when it closed first."""
    with socket.create_connection(("127.0.0.1", port), 30) as s:
        s.sendall(data)
        head = b""
        while len(head) < 7:
            chunk = s.recv(7 - len(head))
            if not chunk:
                return None, b""
            head += chunk
        return head[0], head[5:7]


def connect_from(source, port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout,
                                    source_address=(source, 0))


def is_closed(sock, wait=0.0):
    """True when the server has closed `sock` (within `wait` seconds)."""
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True


def tls_closed(tls, wait):
    """True when the server closes the TLS connection `tls` within `wait`
    seconds (session tickets it sends meanwhile are read and dropped)."""
    deadline = time.time() + wait
    while True:
        left = deadline - time.time()
        if left <= 0:
            return False
        tls.settimeout(left)
        try:
            if tls.recv(1) == b"":
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        finally:
            tls.settimeout(10)


def wait_for(condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _hex_ipv4(address):
    return "%08X" % struct.unpack("<I", socket.inet_aton(address))[0]


def accepted_from(pid, port, *sources):
    """Connections from `sources` that wardend (pid) has accepted and holds."""
    want = {_hex_ipv4(source) for source in sources}
    inodes = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
            if (remote.split(":")[0] in want and state == "01" and
                    int(local.split(":")[1], 16) == port):
                inodes.add(inode)
    held = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    return len(inodes & held)


def read_response(tls):
    data = b""
    while True:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a whole response")
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    if len(body) >= int(value):
                        return harness.parse_response(data)


def get(tls, path):
    """One keep-alive GET on an open TLS connection; returns the status."""
    tls.sendall(b"GET %s HTTP/1.1\r\nHost: device\r\n\r\n" % path.encode())
    status, _, _ = read_response(tls)
    return status


class SilentSockets:
    """Keeps `count` silent TCP connections from `source` open, opening a
    new one whenever the device closes one, until stopped."""

    def __init__(self, port, source, count):
        self.port, self.source, self.count = port, source, count
        self.socks = []
        self.opened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            for s in [s for s in self.socks if is_closed(s)]:
                s.close()
                self.socks.remove(s)
            while len(self.socks) < self.count:
                try:
                    self.socks.append(connect_from(self.source, self.port))
                    self.opened += 1
                except OSError:
                    break
            self.stopping.wait(0.05)
        for s in self.socks:
            s.close()

    def stop(self):
        self.stopping.set()
        self.thread.join()


class ChurningSilentSockets:
    """Silent TCP connections from many source addresses, `per_source` from
    each, each one the device closes opened again at once: the cheapest way
    to keep a full connection table turning over."""

    def __init__(self, port, sources, per_source=8):
        self.port, self.sources, self.per_source = port, sources, per_source
        self.opened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self, sel, source):
        try:
            s = connect_from(source, self.port, timeout=2)
        except OSError:
            return
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, source)
        self.opened += 1

    def _run(self):
        sel = selectors.DefaultSelector()
        for source in self.sources:
            for _ in range(self.per_source):
                self._open(sel, source)
        while not self.stopping.is_set():
            for key, _ in sel.select(0.1):
                try:
                    data = key.fileobj.recv(64)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    self._open(sel, key.data)
        for key in list(sel.get_map().values()):
            key.fileobj.close()

    def stop(self):
        self.stopping.set()
        self.thread.join()


class SlowHeaders:
    """`count` TLS connections spread over `addresses` source addresses,
    each sending a request head one byte at a time and never finishing it;
    a connection the device closes is opened again."""

    def __init__(self, port, addresses, count, threads=4):
        self.port = port
        self.sources = ["127.0.0.%d" % (50 + i % addresses)
                        for i in range(count)]
        self.ctx = harness.tls_context()
        self.established = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(self.sources[i::threads],),
                             daemon=True)
            for i in range(threads)]
        for t in self.threads:
            t.start()

    def _open(self, source):
        raw = connect_from(source, self.port, timeout=5)
        try:
            tls = self.ctx.wrap_socket(raw)
            tls.sendall(b"GET /v1/info HTTP/1.1\r\nHost: device\r\nX-Slow: ")
        except (OSError, ssl.SSLError):
            raw.close()
            raise
        with self.lock:
            self.established += 1
        return tls

    def _run(self, sources):
        conns = [None] * len(sources)
        while not self.stopping.is_set():
            for i, source in enumerate(sources):
                if self.stopping.is_set():
                    break
                try:
                    if conns[i] is None:
                        conns[i] = self._open(source)
                    else:
                        conns[i].sendall(b"a")
                except (OSError, ssl.SSLError):
                    if conns[i] is not None:
                        conns[i].close()
                    conns[i] = None
            self.stopping.wait(0.5)
        for c in conns:
            if c is not None:
                c.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()


class AttackTestCase(harness.DeviceTestCase):

    def start_paired(self, config=None):
        extra = ()
        if config is not None:
            path = os.path.join(self.root, "wardend.json")
            with open(path, "w") as f:
                json.dump(config, f)
            extra = ("--config", path)
        d = self.start(extra=extra)
        self.pair(d)
        d.wait_app_ready(self.home, "home")
        return d

    def owner_tls(self, d, source):
        ctx = harness.tls_context()
        ctx.load_cert_chain(os.path.join(self.home, "owner.crt"),
                            os.path.join(self.home, "owner.key"))
        tls = ctx.wrap_socket(connect_from(source, d.port))
        self.addCleanup(tls.close)
        # A reply proves the device has read the client certificate.
        self.assertEqual(get(tls, "/v1/state"), 200)
        return tls

    def silent(self, d, source, n):
        socks = []
        for _ in range(n):
            s = connect_from(source, d.port)
            self.addCleanup(s.close)
            socks.append(s)
        self.assertTrue(
            wait_for(lambda: accepted_from(d.proc.pid, d.port, source) == n),
            "wardend holds %d of %d connections from %s" % (
                accepted_from(d.proc.pid, d.port, source), n, source))
        return socks

    def silent_strangers(self, d, count=63):
        """`count` silent sockets, eight from each of 127.0.0.21 and up."""
        socks = []
        for i in range(0, count, 8):
            socks += self.silent(d, "127.0.0.%d" % (21 + i // 8),
                                 min(8, count - i))
        return socks

    def newcomer(self, d, source="127.0.0.30"):
        s = connect_from(source, d.port)
        self.addCleanup(s.close)
        return s

    def assertOwnerServed(self, times=5):
        for _ in range(times):
            proc = harness.run_cli("get", "home", "mode", home=self.home,
                                   check=False)
            self.assertEqual(proc.returncode, 0, proc.stderr)

    def log_lines(self, d, kind):
        return [line for line in d.read_log()[d.log_start:].splitlines()
                if " %s " % kind in line + " "]


class KeyExchangeTest(AttackTestCase):

    def test_ffdhe_only_hello_is_refused_at_the_cost_of_an_x25519_one(self):
        d = self.start(app=False)
        n = 100
        x25519 = harness.tls_context()
        x25519.set_ecdh_curve("X25519")
        before = cpu_seconds(d.proc.pid)
        for _ in range(n):
            with socket.create_connection(("127.0.0.1", d.port), 10) as s:
                with x25519.wrap_socket(s) as t:
                    self.assertEqual(t.version(), "TLSv1.3")
        full_handshakes = cpu_seconds(d.proc.pid) - before
        # Refusing needs no key exchange and no signature, so it must not
        # cost more than a full handshake; a server that computes with the
        # share spends a hundred times more. The margin covers the clock
        # tick and the device's other work.
        budget = 2 * full_handshakes + 5 * CLOCK_TICK
        hello = client_hello("ffdhe8192", FFDHE8192_SHARE)
        before = cpu_seconds(d.proc.pid)
        for i in range(n):
            kind, alert = first_reply(d.port, hello)
            self.assertEqual(kind, ALERT, "hello %d was not refused" % i)
            self.assertEqual(alert, bytes([2, HANDSHAKE_FAILURE]))
            spent = cpu_seconds(d.proc.pid) - before
            self.assertLessEqual(
                spent, budget,
                "%d ffdhe8192 refusals cost %.2f s of CPU; %d X25519 "
                "handshakes cost %.2f s" % (i + 1, spent, n, full_handshakes))
        self.assertTrue(d.alive())

    def test_key_exchange_is_x25519_or_p256_only(self):
        d = self.start(app=False)
        for curve in ("X25519", "prime256v1"):
            with self.subTest(group=curve):
                ctx = harness.tls_context()
                ctx.set_ecdh_curve(curve)
                status, _, info = harness.request(d.port, "GET", "/v1/info",
                                                  ctx=ctx)
                self.assertEqual(status, 200)
                self.assertEqual(info["serial"], self.unit["serial"])
        for curve in ("secp384r1", "secp521r1", "X448"):
            with self.subTest(group=curve):
                ctx = harness.tls_context()
                ctx.set_ecdh_curve(curve)
                with self.assertRaisesRegex(ssl.SSLError,
                                            "HANDSHAKE_FAILURE"):
                    harness.request(d.port, "GET", "/v1/info", ctx=ctx)
        kind, alert = first_reply(d.port,
                                  client_hello("ffdhe2048", FFDHE2048_SHARE))
        self.assertEqual((kind, alert), (ALERT, bytes([2, HANDSHAKE_FAILURE])))
        self.assertTrue(d.alive())

    def test_client_certificates_are_asked_for_owner_key_schemes_only(self):
        d = self.start(app=False)
        proc = subprocess.run(
            ["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.port,
             "-tls1_3", "-servername", "device"],
            input="", capture_output=True, text=True, timeout=30)
        lines = [line for line in proc.stdout.splitlines()
                 if line.startswith("Requested Signature Algorithms:")]
        self.assertEqual(lines, ["Requested Signature Algorithms: "
                                 "ECDSA+SHA256:ed25519"], proc.stdout)
        self.assertIn("Peer signature type: ECDSA", proc.stdout)
        self.assertIn("Peer signing digest: SHA256", proc.stdout)


class ConnectionSlotsTest(AttackTestCase):

    # Silent sockets stay in their handshake for the whole test, so only
    # the device's slot policy can close them.
    PATIENT = {"server": {"handshake_timeout_seconds": 600,
                          "request_timeout_seconds": 600,
                          "idle_timeout_seconds": 600}}

    def settle(self, d):
        """Waits until the owner's CLI connections have all closed."""
        self.assertTrue(wait_for(
            lambda: accepted_from(d.proc.pid, d.port, "127.0.0.1") == 0))

    def test_one_address_gets_eight_slots_then_its_oldest_is_evicted(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        socks = self.silent(d, "127.0.0.3", 8)
        ninth = connect_from("127.0.0.3", d.port)
        self.addCleanup(ninth.close)
        self.assertTrue(is_closed(socks[0], wait=30))
        self.assertTrue(
            wait_for(lambda: accepted_from(d.proc.pid, d.port,
                                           "127.0.0.3") == 8))
        for s in socks[1:] + [ninth]:
            self.assertFalse(is_closed(s))
        self.assertTrue(wait_for(lambda: any(
            'reason="too many connections from one address"' in line
            for line in self.log_lines(d, "connection_evicted"))))
        self.assertOwnerServed(1)

    def test_a_share_full_of_owner_connections_refuses_the_next(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        owners = [self.owner_tls(d, "127.0.0.4") for _ in range(8)]
        ninth = connect_from("127.0.0.4", d.port)
        self.addCleanup(ninth.close)
        self.assertTrue(is_closed(ninth, wait=30))
        self.assertTrue(wait_for(lambda: any(
            'reason="too many connections from one address"' in line
            for line in self.log_lines(d, "connection_refused"))))
        self.assertEqual(self.log_lines(d, "connection_evicted"), [])
        for tls in owners:
            self.assertEqual(get(tls, "/v1/state"), 200)

    def test_a_full_table_evicts_its_oldest_stranger_never_an_owner(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        # The owner's connection is the oldest of the 64.
        owner = self.owner_tls(d, "127.0.0.20")
        strangers = self.silent_strangers(d)
        self.assertEqual(len(strangers), 63)
        newcomer = self.newcomer(d)
        self.assertTrue(is_closed(strangers[0], wait=30))
        self.assertTrue(
            wait_for(lambda: accepted_from(d.proc.pid, d.port,
                                           "127.0.0.30") == 1))
        for s in strangers[1:] + [newcomer]:
            self.assertFalse(is_closed(s))
        self.assertEqual(get(owner, "/v1/state"), 200)
        self.assertTrue(wait_for(lambda: any(
            'reason="too many connections"' in line
            for line in self.log_lines(d, "connection_evicted"))))

    def test_a_table_full_of_owner_connections_refuses_the_next(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        owners = []
        for i in range(8):
            owners += [self.owner_tls(d, "127.0.0.%d" % (40 + i))
                       for _ in range(8)]
        newcomer = connect_from("127.0.0.48", d.port)
        self.addCleanup(newcomer.close)
        self.assertTrue(is_closed(newcomer, wait=30))
        self.assertTrue(wait_for(lambda: any(
            'reason="too many connections"' in line
            for line in self.log_lines(d, "connection_refused"))))
        self.assertEqual(self.log_lines(d, "connection_evicted"), [])
        for tls in owners:
            self.assertEqual(get(tls, "/v1/state"), 200)

    def test_owner_is_served_while_one_address_holds_64_silent_sockets(self):
        d = self.start_paired()
        self.settle(d)
        attack = SilentSockets(d.port, "127.0.0.2", 64)
        try:
            self.assertTrue(wait_for(lambda: attack.opened >= 64))
            self.assertOwnerServed()
        finally:
            attack.stop()
        self.assertTrue(self.log_lines(d, "connection_evicted"))
        self.assertTrue(d.alive())

    def test_owner_is_served_while_64_addresses_churn_silent_sockets(self):
        # 512 silent sockets for 64 slots: every new one evicts another, and
        # each evicted one comes straight back. The owner's CLI, a new
        # connection per command, is still a stranger during its handshake;
        # silent sockets go first, so it is never the one closed.
        d = self.start_paired()
        self.settle(d)
        attack = ChurningSilentSockets(
            d.port, ["127.0.10.%d" % (2 + i) for i in range(64)])
        try:
            self.assertTrue(wait_for(lambda: attack.opened >= 1024, 60),
                            "the attack opened only %d" % attack.opened)
            before = attack.opened
            self.assertOwnerServed(20)
            # The table kept turning over while the owner was served.
            self.assertGreater(attack.opened - before, 64)
        finally:
            attack.stop()
        self.assertTrue(d.alive())

    def test_a_slow_client_from_the_owners_address_outlives_strangers(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        # An owner's client (from 127.0.0.1, where the owner paired) that
        # has connected but not yet sent its ClientHello, as a loaded
        # machine's CLI may be: the oldest connection, and silent.
        slow = connect_from("127.0.0.1", d.port)
        self.addCleanup(slow.close)
        self.assertTrue(
            wait_for(lambda: accepted_from(d.proc.pid, d.port,
                                           "127.0.0.1") == 1))
        strangers = self.silent_strangers(d)
        self.newcomer(d)
        self.assertTrue(is_closed(strangers[0], wait=30))
        self.assertFalse(is_closed(slow))
        # It can still finish its handshake and be served.
        ctx = harness.tls_context()
        ctx.load_cert_chain(os.path.join(self.home, "owner.crt"),
                            os.path.join(self.home, "owner.key"))
        tls = ctx.wrap_socket(slow)
        self.assertEqual(get(tls, "/v1/state"), 200)

    def test_a_stranger_that_has_said_hello_outlives_silent_sockets(self):
        d = self.start_paired(self.PATIENT)
        self.settle(d)
        # The oldest stranger has sent its ClientHello and got the device's
        # first flight; 63 younger ones have sent nothing.
        talker = connect_from("127.0.0.20", d.port)
        self.addCleanup(talker.close)
        talker.sendall(client_hello("x25519", os.urandom(32)))
        self.assertEqual(talker.recv(1), b"\x16")  # ServerHello follows
        silent = self.silent_strangers(d)
        self.newcomer(d)
        self.assertTrue(is_closed(silent[0], wait=30))
        self.assertTrue(
            wait_for(lambda: accepted_from(d.proc.pid, d.port,
                                           "127.0.0.30") == 1))
        self.assertFalse(is_closed(talker))
        self.assertEqual(
            accepted_from(d.proc.pid, d.port, "127.0.0.20"), 1)

    def test_a_connection_with_a_login_session_is_never_evicted(self):
        # A browser holds no client certificate: once a request on its
        # connection is authenticated by a session, the connection is an
        # owner's and keeps its slot.
        d = self.start(extra=("--config", self.patient_config()))
        self.pair(d, password=PASSWORD)
        d.wait_app_ready(self.home, "home")
        self.settle(d)
        tls = harness.tls_context().wrap_socket(
            connect_from("127.0.0.20", d.port))
        self.addCleanup(tls.close)
        body = json.dumps({"owner": "home", "password": PASSWORD}).encode()
        tls.sendall(b"POST /v1/login HTTP/1.1\r\nHost: device\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        status, _, reply = read_response(tls)
        self.assertEqual(status, 200)
        token = json.loads(reply)["token"]
        bearer = ("GET /v1/state HTTP/1.1\r\nHost: device\r\n"
                  "Authorization: Bearer %s\r\n\r\n" % token).encode()
        tls.sendall(bearer)
        self.assertEqual(read_response(tls)[0], 200)
        # 63 strangers then finish their handshakes: each has made more
        # recent progress than the browser's connection, which would be the
        # one closed next if its session did not make it an owner's.
        strangers = []
        for i in range(63):
            s = harness.tls_context().wrap_socket(
                connect_from("127.0.0.%d" % (21 + i // 8), d.port))
            self.addCleanup(s.close)
            strangers.append(s)
        self.assertTrue(wait_for(lambda: accepted_from(
            d.proc.pid, d.port,
            *["127.0.0.%d" % (21 + i) for i in range(8)]) == 63))
        self.newcomer(d)
        self.assertTrue(tls_closed(strangers[0], wait=30))
        tls.sendall(bearer)
        self.assertEqual(read_response(tls)[0], 200)

    def patient_config(self):
        path = os.path.join(self.root, "patient.json")
        with open(path, "w") as f:
            json.dump(self.PATIENT, f)
        return path

    def test_owner_is_served_during_slow_headers_from_200_connections(self):
        d = self.start_paired()
        self.settle(d)
        attack = SlowHeaders(d.port, addresses=50, count=200)
        try:
            # Every slot is taken by the attack before the owner comes.
            self.assertTrue(wait_for(
                lambda: accepted_from(d.proc.pid, d.port,
                                      *set(attack.sources)) == 64))
            self.assertOwnerServed()
        finally:
            attack.stop()
        self.assertTrue(self.log_lines(d, "connection_evicted"))
        self.assertTrue(d.alive())


class HostTest(AttackTestCase):

    def raw(self, d, data):
        return harness.parse_response(harness.raw_exchange(d.port, data))

    def test_a_request_needs_exactly_one_host(self):
        d = self.start(app=False)
        cases = [
            b"GET /v1/info HTTP/1.1\r\n\r\n",
            b"GET /v1/info HTTP/1.0\r\n\r\n",
            b"GET /v1/info HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET /v1/info HTTP/1.1\r\nHost:\r\n\r\n",
        ]
        for data in cases:
            with self.subTest(request=data):
                status, headers, body = self.raw(d, data)
                self.assertEqual(status, 400)
                self.assertTrue(
                    headers["content-type"].startswith("application/json"))
                error = json.loads(body)["error"]
                self.assertEqual(error["code"], "invalid_argument")
                self.assertEqual(error["rule"], "host")
        status, _, body = self.raw(
            d, b"GET /v1/info HTTP/1.1\r\nHost: device\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["serial"], self.unit["serial"])


if __name__ == "__main__":
    unittest.main()
