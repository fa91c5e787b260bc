"""The front door under attack, as a stranger on the network would try it.
Each test checks the refusal it is named for.
"""
import os
import socket
import ssl
import struct
import subprocess
import unittest

import harness

CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")

# TLS code points (RFC 8446, RFC 7919).
GROUPS = {"x25519": 0x001d, "secp256r1": 0x0017, "secp384r1": 0x0018,
          "secp521r1": 0x0019, "ffdhe2048": 0x0100, "ffdhe8192": 0x0104}
ECDSA_P256_SHA256, RSA_PSS_SHA256, ED25519 = 0x0403, 0x0804, 0x0807
ALERT = 21
HANDSHAKE_FAILURE = 40


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




class KeyExchangeTest(harness.DeviceTestCase):

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


if __name__ == "__main__":
    unittest.main()
