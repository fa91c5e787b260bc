"""`warden assess` against real devices, each in a network namespace the
test creates (so the full scan of 65,535 ports sees only what the test
started): the conforming device (wardend with the thermostat), an insecure
lab built from a real Debian daemon (nginx), and a
namespace where nothing listens.

Needs root (network namespaces); without it the suite reports itself
skipped (exit 77)."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import WARDEN


def run_in(ns, *cmd, timeout=120):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd),
                          capture_output=True, text=True, timeout=timeout)


class Namespace:
    """A network namespace with only its loopback up."""

    def __init__(self):
        self.name = "warden-assess-%d-%d" % (os.getpid(), time.monotonic_ns())
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set",
                        "lo", "up"], check=True)
        self.prefix = ["ip", "netns", "exec", self.name]

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)


class Process:
    """A daemon started in the namespace and stopped by its pid."""

    def __init__(self, cmd, log_path):
        self.log = open(log_path, "a+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_listening(ns, port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = run_in(ns, "ss", "-ltnH", "sport = :%d" % port).stdout
        if out.strip():
            return
        if proc.proc.poll() is not None:
            raise AssertionError("daemon exited before listening on %d" % port)
        time.sleep(0.05)
    raise AssertionError("nothing listening on %d" % port)


class AssessTestCase(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="warden-assess-")
        os.chmod(self.root, 0o711)
        self.addCleanup(shutil.rmtree, self.root, True)
        self.ns = Namespace()
        self.addCleanup(self.ns.delete)

    def start(self, cmd, name):
        p = Process(self.ns.prefix + cmd,
                    os.path.join(self.root, name + ".log"))
        self.addCleanup(p.stop)
        return p

    def assess(self, *args):
        out = os.path.join(self.root, "report")
        proc = run_in(self.ns.name, WARDEN, "assess", *args, "--out", out)
        report = None
        path = os.path.join(out, "report.json")
        if os.path.exists(path):
            with open(path) as f:
                report = json.load(f)
        return proc, report

    def declaration(self, services):
        path = os.path.join(self.root, "declaration.json")
        with open(path, "w") as f:
            json.dump({"services": services}, f)
        return path


def units(report):
    return {u["id"]: u for g in report["groups"] for u in g["units"]}


class ConformingDevice(AssessTestCase):

    def test_wardend_with_thermostat_passes_every_unit(self):
        maker = harness.Maker(self.root)
        unit = maker.provision()
        daemon = harness.Daemon(unit["dir"], port=8443, prefix=self.ns.prefix)
        self.addCleanup(daemon.stop)
        decl = self.declaration([{"port": daemon.port, "protocol": "https",
                                  "purpose": "owner API"}])
        proc, report = self.assess("127.0.0.1", "--declaration", decl)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(report["result"], "conforming")
        found = units(report)
        not_pass = {k: (u["verdict"], u["finding"]) for k, u in found.items()
                    if u["verdict"] != "PASS"}
        self.assertEqual(not_pass, {})
        p = daemon.port
        for unit_id in ["services.scan", "services.%d.encryption" % p,
                        "services.%d.declared" % p, "tls.%d.versions" % p,
                        "tls.%d.ffdhe" % p, "tls.%d.certificate" % p,
                        "tls.%d.compression" % p,
                        "disclosure.%d.security_txt" % p]:
            self.assertIn(unit_id, found)
        self.assertIn("65535 tried", " ".join(
            found["services.scan"]["evidence"]["received"]))
        self.assertEqual(found["tls.%d.versions" % p]["finding"],
                         "accepts TLS 1.3")
        self.assertIn("mailto:security@acme.example",
                      found["disclosure.%d.security_txt" % p]["finding"])
        cert = found["tls.%d.certificate" % p]["evidence"]["artefacts"][0]
        self.assertEqual(len(cert["sha256"]), 64)
        self.assertIn("PASS", proc.stdout)
        self.assertIn("result: conforming", proc.stdout)


def expired_self_signed(directory):
    """An RSA 2048 certificate that expired yesterday, signed by itself."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ipcam")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now - datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    with open(os.path.join(directory, "lab.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    with open(os.path.join(directory, "lab.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


HTTP_PORT, TLS_PORT = 8080, 8443

NGINX_CONF = """daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
  server {{
    listen 127.0.0.1:{http};
    root {dir}/www;
  }}
  server {{
    listen 127.0.0.1:{tls} ssl;
    root {dir}/www;
    ssl_certificate {dir}/lab.crt;
    ssl_certificate_key {dir}/lab.key;
    ssl_protocols TLSv1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
  }}
}}
"""


class InsecureLab(AssessTestCase):
    """A camera as too many are sold: an admin page over plain HTTP, TLS
    that still takes TLS 1.0 and finite-field key shares with an expired
    self-signed certificate, and no security.txt."""

    def setUp(self):
        super().setUp()
        lab = os.path.join(self.root, "lab")
        for d in ["www", "tmp"]:
            os.makedirs(os.path.join(lab, d))
        with open(os.path.join(lab, "www", "index.html"), "w") as f:
            f.write("<html><body>IP camera admin</body></html>\n")
        expired_self_signed(lab)
        conf = os.path.join(lab, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=lab, http=HTTP_PORT, tls=TLS_PORT))
        nginx = self.start(["nginx", "-c", conf, "-p", lab], "nginx")
        wait_listening(self.ns.name, TLS_PORT, nginx)
        wait_listening(self.ns.name, HTTP_PORT, nginx)

    def test_every_planted_weakness_is_found_with_evidence(self):
        decl = self.declaration([{"port": TLS_PORT, "protocol": "https"}])
        proc, report = self.assess("127.0.0.1", "--declaration", decl)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(report["result"], "not conforming")
        found = units(report)

        def verdict(unit_id):
            self.assertIn(unit_id, found, sorted(found))
            return found[unit_id]["verdict"]

        # Plaintext services (guideline 5) and undeclared ones (guideline 6).
        self.assertEqual(verdict("services.%d.encryption" % HTTP_PORT), "FAIL")
        self.assertIn("http in plaintext",
                      found["services.%d.encryption" % HTTP_PORT]["finding"])
        self.assertEqual(verdict("services.%d.declared" % HTTP_PORT), "FAIL")
        self.assertEqual(verdict("services.%d.declared" % TLS_PORT), "PASS")
        self.assertEqual(verdict("services.%d.encryption" % TLS_PORT), "PASS")

        # TLS (guideline 5).
        versions = found["tls.%d.versions" % TLS_PORT]
        self.assertEqual(versions["verdict"], "FAIL")
        self.assertIn("TLS 1.0", versions["finding"])
        self.assertIn("TLS 1.0: accepted", " ".join(
            versions["evidence"]["received"]))
        self.assertEqual(verdict("tls.%d.ffdhe" % TLS_PORT), "FAIL")
        self.assertIn("ffdhe", found["tls.%d.ffdhe" % TLS_PORT]["finding"])
        cert = found["tls.%d.certificate" % TLS_PORT]
        self.assertEqual(cert["verdict"], "FAIL")
        self.assertIn("expired", cert["finding"])
        self.assertIn("self-signed", cert["finding"])
        with open(os.path.join(self.root, "lab", "lab.crt"), "rb") as f:
            pem = f.read()
        import hashlib
        import ssl
        der = ssl.PEM_cert_to_DER_cert(pem.decode())
        self.assertEqual(cert["evidence"]["artefacts"][0]["sha256"],
                         hashlib.sha256(der).hexdigest())

        # Disclosure (guideline 2): no security.txt on either web service.
        for port in (HTTP_PORT, TLS_PORT):
            u = found["disclosure.%d.security_txt" % port]
            self.assertEqual(u["verdict"], "FAIL")
            self.assertIn("HTTP 404", u["finding"])
            self.assertIn("GET /.well-known/security.txt",
                          u["evidence"]["sent"][0])

        # The same findings for a CI system, as SARIF 2.1.0.
        with open(os.path.join(self.root, "report", "report.sarif")) as f:
            sarif = json.load(f)
        self.assertEqual(sarif["version"], "2.1.0")
        kinds = {r["ruleId"]: r["kind"] for r in sarif["runs"][0]["results"]}
        self.assertEqual(kinds["tls.%d.versions" % TLS_PORT], "fail")
        self.assertEqual(kinds["services.%d.encryption" % TLS_PORT], "pass")
        self.assertEqual(len(kinds), len(found))

        guidelines = {g["guideline"]: g["verdict"]
                      for g in report["guidelines"]}
        self.assertEqual((guidelines[2], guidelines[5], guidelines[6]),
                         ("FAIL", "FAIL", "FAIL"))
        self.assertIn("result: not conforming", proc.stdout)


class NothingToAssess(AssessTestCase):

    def test_nothing_listening_exits_2_with_a_clear_message(self):
        proc, report = self.assess("127.0.0.1")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("nothing listening on 127.0.0.1 (TCP ports 1-65535)",
                      proc.stderr)
        self.assertIsNone(report)

    def test_unresolvable_name_exits_2(self):
        proc, report = self.assess("no-such-device.invalid")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("cannot resolve no-such-device.invalid", proc.stderr)
        self.assertIsNone(report)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_assess: needs root for network namespaces; skipped")
        sys.exit(77)
    unittest.main()
