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
import login_lab
from harness import WARDEN


def run_in(ns, *cmd, timeout=120, input_text=None):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd),
                          capture_output=True, text=True, timeout=timeout,
                          input=input_text)


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

    def declaration(self, services, **facts):
        path = os.path.join(self.root, "declaration.json")
        with open(path, "w") as f:
            json.dump(dict(services=services, **facts), f)
        return path

    def check_outputs(self, report, level):
        """The five files, the label's QR code read back by zbarimg, and
        `warden label verify` against the report and a tampered copy."""
        out = os.path.join(self.root, "report")
        for name in ["report.json", "report.sarif", "report.html",
                     "label.svg", "label.png"]:
            self.assertGreater(os.path.getsize(os.path.join(out, name)), 0,
                               name)
        digest = canonical_digest(report)
        scan = subprocess.run(["zbarimg", "-q", "--raw",
                               os.path.join(out, "label.png")],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(scan.returncode, 0, scan.stderr)
        self.assertEqual(scan.stdout.strip(), "warden-report:sha256:" + digest)
        width, height, _ = read_png(os.path.join(out, "label.png"))
        self.assertEqual((width, height), (600, 900))
        with open(os.path.join(out, "label.svg")) as f:
            svg = f.read()
        self.assertIn(digest, svg)
        self.assertIn("Level %d:" % level, svg)

        label, saved = os.path.join(out, "label.svg"), \
            os.path.join(out, "report.json")
        ok = harness.run_cli("label", "verify", label, saved, check=False)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("label matches the report", ok.stdout)

        # The same label from the saved report.
        again = os.path.join(self.root, "again")
        made = harness.run_cli("label", saved, "--out", again, check=False)
        self.assertEqual(made.returncode, 0, made.stderr)
        with open(os.path.join(again, "label.svg")) as f:
            self.assertEqual(f.read(), svg)

        # One unit's verdict changed: the label no longer matches.
        tampered = json.loads(json.dumps(report))
        tampered["groups"][0]["units"][0]["verdict"] = (
            "FAIL" if tampered["groups"][0]["units"][0]["verdict"] == "PASS"
            else "PASS")
        path = os.path.join(self.root, "tampered.json")
        with open(path, "w") as f:
            json.dump(tampered, f)
        bad = harness.run_cli("label", "verify", label, path, check=False)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
        self.assertIn("is not the report's", bad.stdout)

        # Not a label at all: could not check.
        junk = harness.run_cli("label", "verify", saved, saved, check=False)
        self.assertEqual(junk.returncode, 2, junk.stdout + junk.stderr)
        self.assertIn("not a Warden label", junk.stderr)


def units(report):
    return {u["id"]: u for g in report["groups"] for u in g["units"]}


def canonical_digest(report):
    """SHA-256 of the report's canonical JSON, computed here without the
    assessor: members sorted, no whitespace, UTF-8."""
    import hashlib
    text = json.dumps(report, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_png(path):
    """(width, height, pixels as (r, g, b) rows) of an 8-bit RGB or RGBA,
    non-interlaced PNG: enough for cairo's and chromium's."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and colour in (2, 6) and interlace == 0, ihdr
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def pixel_stats(rows):
    """Share of pixels that are not white, and the number of colours."""
    total = sum(len(r) for r in rows)
    dark = sum(1 for r in rows for p in r if min(p) < 230)
    return dark / total, len({p for r in rows for p in r})


def near(rows, colour, tolerance=40):
    return sum(1 for r in rows for p in r
               if all(abs(p[i] - colour[i]) <= tolerance for i in range(3)))


def publish_release(directory, *refresh):
    """A repository made by `warden release` with one thermostat image,
    published under directory/www as a maker serves it. `refresh` runs
    `warden release refresh` under that command prefix (faketime, to sign a
    timestamp that is already stale) before publishing."""
    repo = os.path.join(directory, "release-repo")
    www = os.path.join(directory, "www")
    image = os.path.join(directory, "thermostat-1.0.0")
    os.makedirs(directory, exist_ok=True)
    with open(image, "w") as f:
        f.write("#!/bin/sh\necho thermostat 1.0.0\n")
    steps = [["init", repo, "--root-keys", os.path.join(directory, "keys")],
             ["add", repo, image, "--hardware-model", "thermostat-v1",
              "--version", "1.0.0"]]
    for args in steps:
        subprocess.run([WARDEN, "release"] + args, check=True,
                       capture_output=True, timeout=120)
    if refresh:
        # faketime works by LD_PRELOAD, which an ASan build refuses unless
        # told that its runtime need not come first.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(
            o for o in (env.get("ASAN_OPTIONS", ""),
                        "verify_asan_link_order=0") if o)
        subprocess.run(list(refresh) + [WARDEN, "release", "refresh", repo],
                       check=True, capture_output=True, timeout=120, env=env)
    subprocess.run([WARDEN, "release", "publish", repo, www], check=True,
                   capture_output=True, timeout=120)
    return www


def sha256_of(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ConformingDevice(AssessTestCase):

    def test_wardend_with_thermostat_passes_every_unit(self):
        maker = harness.Maker(self.root)
        unit = maker.provision()
        daemon = harness.Daemon(unit["dir"], port=8443, prefix=self.ns.prefix)
        self.addCleanup(daemon.stop)
        with open(os.path.join(unit["dir"], "device.json")) as f:
            support_end = json.load(f)["support_end"]
        # The maker's update server: on 127.0.0.2, so that the scan of
        # 127.0.0.1 does not see it as one of the device's services.
        www = publish_release(self.root)
        server = self.start(["python3", "-m", "http.server", "8080",
                             "--bind", "127.0.0.2", "--directory", www],
                            "update-server")
        wait_listening(self.ns.name, 8080, server)
        decl = self.declaration([{"port": daemon.port, "protocol": "https",
                                  "purpose": "owner API"}],
                                product="Acme Thermo One",
                                support_until=support_end,
                                disclosure_url="mailto:security@acme.example",
                                updates={"mechanism": "tuf",
                                         "metadata_url":
                                         "http://127.0.0.2:8080/metadata/"})
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
                        "tls.%d.compression" % p, "tls.%d.suites" % p,
                        "tls.%d.renegotiation" % p,
                        "disclosure.%d.security_txt" % p,
                        "support.period", "updates.metadata",
                        "disclosure.declared",
                        "services.udp.scan",
                        "warden.%d.pairing_attempts" % p,
                        "warden.%d.public_secrets" % p,
                        "warden.%d.public_personal" % p,
                        "warden.%d.owner_routes" % p,
                        "warden.%d.data_inventory" % p,
                        "input.%d.http" % p, "input.%d.tls" % p,
                        "robustness.%d.held_connections" % p]:
            self.assertIn(unit_id, found)
        self.assertIn("65535 tried", " ".join(
            found["services.scan"]["evidence"]["received"]))
        updates = found["updates.metadata"]
        self.assertIn("TUF root version 1", updates["finding"])
        self.assertEqual(
            {a["name"]: a["sha256"] for a in updates["evidence"]["artefacts"]},
            {"root.json": sha256_of(os.path.join(www, "metadata", "root.json")),
             "timestamp.json":
             sha256_of(os.path.join(www, "metadata", "timestamp.json"))})
        self.assertEqual(found["tls.%d.versions" % p]["finding"],
                         "accepts TLS 1.3")
        self.assertEqual(found["tls.%d.suites" % p]["finding"],
                         "none weak; TLS 1.3: TLS_AES_256_GCM_SHA384, "
                         "TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256")
        self.assertIn("mailto:security@acme.example",
                      found["disclosure.%d.security_txt" % p]["finding"])
        cert = found["tls.%d.certificate" % p]["evidence"]["artefacts"][0]
        self.assertEqual(len(cert["sha256"]), 64)
        self.assertIn("PASS", proc.stdout)
        self.assertIn("result: conforming", proc.stdout)
        # Served while 12 connections were held from the assessor's one
        # address, over the 8 a source gets: wardend evicted silent ones.
        self.assertIn("connection_evicted", daemon.read_log())
        # Guideline 1 is judged by the pairing probe, so 1, 2 and 3 PASS.
        self.check_outputs(report, level=2)
        with open(os.path.join(self.root, "report", "label.svg")) as f:
            svg = f.read()
        self.assertEqual(found["support.period"]["finding"],
                         "supported until %s (shown by the device, as "
                         "declared)" % support_end)
        for shown in ["Acme Thermo One",
                      "%s (shown by the device)" % support_end,
                      "mailto:security@acme.example (security.txt)"]:
            self.assertIn(shown, svg)


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
# Admin pages behind HTTP basic: the factory default admin/admin; a strong
# password behind nginx's limit_req (503 once the burst is spent); a strong
# password and nothing against guessing.
DEFAULT_PORT, LIMITED_PORT, UNLIMITED_PORT = 8081, 8082, 8083
MQTT_PORT = 1883
OWNER_PASSWORD = "Correct-Horse-Battery-9"

MOSQUITTO_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
"""

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
  limit_req_zone $binary_remote_addr zone=login:1m rate=1r/m;
  server {{
    listen 127.0.0.1:{default};
    root {dir}/www;
    auth_basic "camera";
    auth_basic_user_file {dir}/default.htpasswd;
  }}
  server {{
    listen 127.0.0.1:{limited};
    root {dir}/www;
    auth_basic "camera";
    auth_basic_user_file {dir}/owner.htpasswd;
    limit_req zone=login burst=5 nodelay;
  }}
  server {{
    listen 127.0.0.1:{unlimited};
    root {dir}/www;
    auth_basic "camera";
    auth_basic_user_file {dir}/owner.htpasswd;
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
    self-signed certificate, no security.txt, admin pages behind HTTP basic
    (one with the factory default admin/admin), an MQTT broker (mosquitto)
    open to anonymous clients, and login_lab's daemons: telnet, FTP, HTTP
    Digest, a login form and SSH with Mirai logins, SSH without passwords,
    and CoAP, SSDP (minissdpd) and mDNS (avahi-daemon) answering on UDP,
    none of them declared."""

    def setUp(self):
        super().setUp()
        lab = os.path.join(self.root, "lab")
        for d in ["www", "tmp"]:
            os.makedirs(os.path.join(lab, d))
        with open(os.path.join(lab, "www", "index.html"), "w") as f:
            f.write("<html><body>IP camera admin</body></html>\n")
        expired_self_signed(lab)
        conf = os.path.join(lab, "nginx.conf")
        with open(os.path.join(lab, "default.htpasswd"), "w") as f:
            f.write("admin:{PLAIN}admin\n")
        with open(os.path.join(lab, "owner.htpasswd"), "w") as f:
            f.write("owner:{PLAIN}%s\n" % OWNER_PASSWORD)
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                dir=lab, http=HTTP_PORT, tls=TLS_PORT, default=DEFAULT_PORT,
                limited=LIMITED_PORT, unlimited=UNLIMITED_PORT))
        # Update metadata its maker stopped refreshing: a timestamp signed
        # two days ago for one day.
        published = publish_release(os.path.join(self.root, "release"),
                                    "faketime", "-f", "-2d")
        shutil.copytree(published, os.path.join(lab, "www", "updates"))
        nginx = self.start(["nginx", "-c", conf, "-p", lab], "nginx")
        for port in (TLS_PORT, HTTP_PORT, DEFAULT_PORT, LIMITED_PORT,
                     UNLIMITED_PORT):
            wait_listening(self.ns.name, port, nginx)
        mqtt_conf = os.path.join(lab, "mosquitto.conf")
        with open(mqtt_conf, "w") as f:
            f.write(MOSQUITTO_CONF.format(port=MQTT_PORT))
        broker = self.start(["mosquitto", "-c", mqtt_conf], "mosquitto")
        wait_listening(self.ns.name, MQTT_PORT, broker)
        login_lab.start(lab, self.start,
                        lambda port, p: wait_listening(self.ns.name, port, p))

    def test_every_planted_weakness_is_found_with_evidence(self):
        decl = self.declaration(
            [{"port": TLS_PORT, "protocol": "https"}],
            updates={"mechanism": "tuf",
                     "metadata_url":
                     "http://127.0.0.1:%d/updates/metadata/" % HTTP_PORT})
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

        # Stale update metadata (guideline 3), though correctly signed.
        updates = found["updates.metadata"]
        self.assertEqual(updates["verdict"], "FAIL", updates["finding"])
        self.assertIn("timestamp.json expired on", updates["finding"])

        # TLS (guideline 5).
        versions = found["tls.%d.versions" % TLS_PORT]
        self.assertEqual(versions["verdict"], "FAIL")
        self.assertIn("TLS 1.0", versions["finding"])
        self.assertIn("TLS 1.0: accepted", " ".join(
            versions["evidence"]["received"]))
        self.assertEqual(verdict("tls.%d.ffdhe" % TLS_PORT), "FAIL")
        self.assertIn("ffdhe", found["tls.%d.ffdhe" % TLS_PORT]["finding"])
        # Suites nginx accepts that testssl.sh flags too: static RSA (no
        # forward secrecy), and CBC with SHA-1 under TLS 1.0.
        suites = found["tls.%d.suites" % TLS_PORT]
        self.assertEqual(suites["verdict"], "FAIL")
        self.assertIn("TLS 1.0 TLS_RSA_WITH_AES_128_CBC_SHA (no forward "
                      "secrecy, CBC with SHA-1 under TLS 1.0)",
                      suites["finding"])
        self.assertIn("TLS 1.2 TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward "
                      "secrecy)", suites["finding"])
        self.assertNotIn("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (",
                         suites["finding"])
        self.assertIn("TLS 1.3 accepts: TLS_AES_128_GCM_SHA256",
                      " ".join(suites["evidence"]["received"]))
        self.assertEqual(verdict("tls.%d.renegotiation" % TLS_PORT), "PASS")
        # nginx serves while a few connections sit idle or stop half-way.
        for port in (HTTP_PORT, TLS_PORT):
            self.assertEqual(
                verdict("robustness.%d.held_connections" % port), "PASS")
        # nginx refuses each malformed message and keeps serving.
        for unit_id in ["input.%d.http" % HTTP_PORT, "input.%d.http" % TLS_PORT,
                        "input.%d.tls" % TLS_PORT, "input.%d.mqtt" % MQTT_PORT]:
            self.assertEqual(verdict(unit_id), "PASS", found[unit_id])
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

        # Credentials (guideline 1): the default password is found and not
        # shown; throttling is seen where nginx limits and missed where not;
        # the broker takes anyone.
        default = found["credentials.%d.default" % DEFAULT_PORT]
        self.assertEqual(default["verdict"], "FAIL")
        self.assertIn('accepted login "admin"', default["finding"])
        self.assertIn("password found, 5 characters", default["finding"])
        text = json.dumps(report)
        import base64
        self.assertFalse(base64.b64encode(b"admin:admin").decode() in text,
                         "the Basic credentials are in the report")
        self.assertFalse("Authorization: Basic" in text,
                         "the Authorization header is in the report")
        limited = found["credentials.%d.throttle" % LIMITED_PORT]
        self.assertEqual(limited["verdict"], "PASS")
        self.assertIn("HTTP 503", limited["finding"])
        self.assertEqual(verdict("credentials.%d.default" % LIMITED_PORT),
                         "INCONCLUSIVE")
        self.assertEqual(verdict("credentials.%d.default" % UNLIMITED_PORT),
                         "PASS")
        unlimited = found["credentials.%d.throttle" % UNLIMITED_PORT]
        self.assertEqual(unlimited["verdict"], "FAIL")
        self.assertIn("without delay or refusal", unlimited["finding"])
        self.assertFalse(OWNER_PASSWORD in text)

        # No Warden /v1/info and nothing declared: the support period is
        # not judged from nothing.
        self.assertEqual(verdict("support.period"), "INCONCLUSIVE")
        anonymous = found["credentials.%d.anonymous" % MQTT_PORT]
        self.assertEqual(anonymous["verdict"], "FAIL")
        self.assertEqual(verdict("services.%d.encryption" % MQTT_PORT), "FAIL")

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
        self.assertEqual((guidelines[1], guidelines[2], guidelines[5],
                          guidelines[6]), ("FAIL", "FAIL", "FAIL", "FAIL"))
        self.assertIn("result: not conforming", proc.stdout)
        check_login_findings(self, found, text)
        self.check_outputs(report, level=0)


def check_login_findings(test, found, text):
    """The login surfaces of login_lab: each planted default login found,
    with the attempt that found it and what the device answered; no
    password in the report, not even the one the telnet service echoed."""
    lab = login_lab

    def unit(port, kind):
        unit_id = "credentials.%d.%s" % (port, kind)
        test.assertIn(unit_id, found, sorted(found))
        return found[unit_id]

    telnet = unit(lab.TELNET_PORT, "default")
    test.assertEqual(telnet["verdict"], "FAIL", telnet)
    test.assertIn('accepted login "root" (password found, 7 characters) at '
                  'attempt 6', telnet["finding"])
    received = " ".join(telnet["evidence"]["received"])
    test.assertIn("refused after the password", received)
    test.assertIn("Login incorrect", received)
    test.assertIn("6: shell prompt", received)
    test.assertIn("(password)", received)  # the echo, blanked
    test.assertEqual(
        found["services.%d.encryption" % lab.TELNET_PORT]["verdict"], "FAIL")

    ftp = unit(lab.FTP_PORT, "default")
    test.assertEqual(ftp["verdict"], "FAIL", ftp)
    test.assertIn('accepted login "root" (password found, 6 characters) at '
                  'attempt 1', ftp["finding"])
    test.assertIn("PASS: 230", " ".join(ftp["evidence"]["received"]))

    digest = unit(lab.DIGEST_PORT, "default")
    test.assertEqual(digest["verdict"], "FAIL", digest)
    test.assertIn('accepted login "root" (password found, 5 characters) at '
                  'attempt 3', digest["finding"])
    test.assertIn('HTTP Digest on /: realm "ipcam", MD5, qop auth',
                  digest["evidence"]["sent"][0])
    test.assertIn("1: HTTP 401 (Digest MD5)",
                  digest["evidence"]["received"])

    form = unit(lab.FORM_PORT, "default")
    test.assertEqual(form["verdict"], "FAIL", form)
    test.assertIn('accepted login "admin" (password found, 9 characters) at '
                  'attempt 19', form["finding"])
    test.assertIn('posting to /index.py (fields "username" and "pwd")',
                  form["evidence"]["sent"][0])
    test.assertIn("1: HTTP 200, the login form again",
                  form["evidence"]["received"])
    test.assertIn("19: HTTP 302 to /status.html",
                  form["evidence"]["received"])
    throttle = unit(lab.FORM_PORT, "throttle")
    test.assertEqual(throttle["verdict"], "FAIL", throttle)

    # SSH without password logins: nothing to guess, and no finding.
    ssh = unit(lab.SSH_PORT, "default")
    test.assertEqual(ssh["verdict"], "PASS", ssh)
    test.assertIn("offers no password authentication (publickey)",
                  ssh["finding"])
    test.assertIn("SSH-2.0-dropbear", ssh["evidence"]["received"][0])
    test.assertNotIn("credentials.%d.throttle" % lab.SSH_PORT, found)

    # UDP: the CoAP server, minissdpd and avahi-daemon each answer their
    # probe and none was declared; the scan saw every port answer.
    def udp_unit(port):
        unit_id = "services.udp.%d.declared" % port
        test.assertIn(unit_id, found, sorted(found))
        return found[unit_id]

    coap = udp_unit(lab.COAP_PORT)
    test.assertEqual(coap["verdict"], "FAIL", coap)
    test.assertIn("coap answers on UDP 5683 but is not declared",
                  coap["finding"])
    test.assertIn("CoAP 2.05", coap["evidence"]["received"][0])
    ssdp = udp_unit(lab.SSDP_PORT)
    test.assertEqual(ssdp["verdict"], "FAIL", ssdp)
    test.assertIn("ssdp answers on UDP 1900 but is not declared",
                  ssdp["finding"])
    test.assertEqual(ssdp["evidence"]["sent"], ["SSDP M-SEARCH ssdp:all"])
    for header in ("SERVER " + lab.SSDP_SERVER, "ST " + lab.SSDP_ST,
                   "USN " + lab.SSDP_USN, "LOCATION " + lab.SSDP_LOCATION):
        test.assertIn(header, ssdp["evidence"]["received"][0])
    mdns = udp_unit(lab.MDNS_PORT)
    test.assertEqual(mdns["verdict"], "FAIL", mdns)
    test.assertIn("mdns answers on UDP 5353 but is not declared",
                  mdns["finding"])
    test.assertIn("_services._dns-sd._udp.local PTR %s.local;"
                  % lab.MDNS_SERVICE_TYPE, mdns["evidence"]["received"][0])
    udp = found["services.udp.scan"]
    test.assertEqual(udp["verdict"], "PASS", udp)
    test.assertIn("answering: ", udp["finding"])
    for name in ("ssdp", "mdns", "coap"):
        test.assertIn(name, udp["finding"])

    # SSH with password logins and a Mirai pair planted: found at its place
    # in the list, by libssh's password authentication.
    ssh = unit(lab.SSH_PASSWORD_PORT, "default")
    test.assertEqual(ssh["verdict"], "FAIL", ssh)
    test.assertIn('accepted login "root" (password found, 8 characters) at '
                  'attempt 8', ssh["finding"])
    test.assertIn("SSH banner SSH-2.0-dropbear", ssh["evidence"]["sent"][0])
    test.assertIn("password", ssh["evidence"]["sent"][0].split("methods")[1])
    received = " ".join(ssh["evidence"]["received"])
    test.assertIn("1: password authentication denied", received)
    test.assertIn("8: password authentication succeeded", received)

    # The passwords that cannot be mistaken for a login name.
    for _, password in (lab.TELNET_LOGIN, lab.FTP_LOGIN, lab.FORM_LOGIN,
                        lab.SSH_LOGIN):
        test.assertNotIn(password, text)


HOSTILE_BANNER = ("220 <script>alert(1)</script><img src=\"http://evil.example"
                  "/x.png\"><link rel=stylesheet href=\"https://evil.example"
                  "/s.css\"> ftp ready")

BANNER_SERVER = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2121))
s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.sendall(%r.encode() + b"\\r\\n")
    except OSError:
        pass
    c.close()
""" % HOSTILE_BANNER


@unittest.skipUnless(shutil.which("chromium"), "needs Debian's chromium")
class BrowserChecks(AssessTestCase):
    """The HTML report and the label as a person sees them: headless
    chromium, run in the test's namespace (loopback only), a fresh profile,
    a device whose banner is markup."""

    def chromium(self, *args):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.root)
        cmd = ["chromium", "--headless", "--disable-gpu",
               "--user-data-dir=" + profile, "--no-first-run",
               "--disable-background-networking", "--disable-extensions",
               "--hide-scrollbars"]
        if os.geteuid() == 0:
            cmd.append("--no-sandbox")  # chromium refuses root otherwise
        return run_in(self.ns.name, *(cmd + list(args)), timeout=120)

    def load(self, url):
        """The DOM of the page at `url` and the requests the page made
        (not the browser's own background ones), from chromium's net log."""
        netlog = os.path.join(self.root, "net-%d.json" % time.monotonic_ns())
        dom = self.chromium("--log-net-log=" + netlog, "--dump-dom", url)
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        with open(netlog) as f:
            text = f.read()
        try:
            log = json.loads(text)
        except ValueError:  # the log of a browser that did not close it
            log = json.loads(text.rstrip().rstrip(",") + "]}")
        start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        # The page's own requests carry its (opaque, file://) origin as the
        # initiator; the browser's background ones carry "not an origin".
        starts = [e.get("params", {}) for e in log["events"]
                  if e["type"] == start_job]
        return dom, [p["url"] for p in starts
                     if p.get("initiator") != "not an origin" and
                     not p.get("url", "file:").startswith("file:")]

    def test_report_and_label_render_without_injection_or_requests(self):
        server = self.start([sys.executable, "-c", BANNER_SERVER], "banner")
        wait_listening(self.ns.name, 2121, server)
        proc, report = self.assess("127.0.0.1")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        received = " ".join(units(report)["services.2121.encryption"]
                            ["evidence"]["received"])
        self.assertIn("<script>alert(1)</script>", received)
        out = os.path.join(self.root, "report")
        html = "file://" + os.path.join(out, "report.html")
        svg = "file://" + os.path.join(out, "label.svg")

        # The page as the browser parsed it: the banner is text, not
        # elements, and the page loads nothing from anywhere.
        dom, page_requests = self.load(html)
        self.assertEqual(page_requests, [])
        # The same check sees a page that does load something.
        control = os.path.join(self.root, "control.html")
        with open(control, "w") as f:
            f.write("<img src='http://evil.example/x.png'>")
        _, control_requests = self.load("file://" + control)
        self.assertEqual(control_requests, ["http://evil.example/x.png"])
        markup = dom.stdout
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", markup)
        from html.parser import HTMLParser

        class Elements(HTMLParser):
            def __init__(self):
                super().__init__()
                self.tags, self.links, self.styles = set(), [], ""
                self.in_style = False

            def handle_starttag(self, tag, attrs):
                self.tags.add(tag)
                self.in_style = tag == "style"
                self.links += [(tag, k, v) for k, v in attrs
                               if k in ("src", "href", "srcset", "action",
                                        "data", "poster", "background")]

            def handle_data(self, data):
                if self.in_style:
                    self.styles += data

            def handle_endtag(self, tag):
                self.in_style = False

        elements = Elements()
        elements.feed(markup)
        self.assertIn("svg", elements.tags)  # the label, inline
        self.assertEqual(elements.tags & {"script", "img", "link", "iframe",
                                          "object", "embed", "image"}, set())
        self.assertEqual(elements.links, [])
        self.assertNotIn("url(", elements.styles)
        self.assertNotIn("@import", elements.styles)
        # Screenshots: the expected size, and something drawn.
        shot = os.path.join(self.root, "report-shot.png")
        r = self.chromium("--screenshot=" + shot, "--window-size=1200,1600",
                          html)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        width, height, rows = read_png(shot)
        self.assertEqual((width, height), (1200, 1600))
        dark, colours = pixel_stats(rows)
        self.assertGreater(dark, 0.02)
        self.assertLess(dark, 0.6)
        self.assertGreater(colours, 16)
        self.assertGreater(near(rows, (0xcf, 0x22, 0x2e)), 500)  # FAIL badges

        shot = os.path.join(self.root, "label-shot.png")
        r = self.chromium("--screenshot=" + shot, "--window-size=600,900", svg)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        width, height, rows = read_png(shot)
        self.assertEqual((width, height), (600, 900))
        dark, colours = pixel_stats(rows)
        self.assertGreater(dark, 0.1)
        self.assertLess(dark, 0.7)
        self.assertGreater(near(rows, (0x1f, 0x23, 0x28), 10), 20000)  # header
        self.assertGreater(near(rows, (0xcf, 0x22, 0x2e)), 2000)  # FAIL


FAKE_WARDEN_PORT = 8080

# A device that calls itself a Warden device on plain HTTP and lacks the
# defences the Warden probes look for: it answers every pairing exchange
# without counting it, says too much at /v1/info, serves the owner list to
# anyone, and (when "owned") still starts a pairing.
FAKE_WARDEN = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
OWNED = sys.argv[1] == "owned"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/v1/info":
            self.reply(200, {"api": "warden/1", "serial": "FAKE-1",
                             "maker": "Fake", "model": "Leaky",
                             "paired": OWNED, "owner": "alice",
                             "debug": {"session_token": "c2VjcmV0"}})
        elif self.path == "/v1/owners":
            self.reply(200, {"owners": [{"name": "alice"}]})
        else:
            self.reply(404, {"error": {"code": "not_found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(min(length, 65536))
        if self.path == "/v1/pair/begin":
            self.reply(200, {"suite": "P256-SHA256-HKDF-SHA256-HMAC-SHA256",
                             "salt": "AAAAAAAAAAAAAAAAAAAAAA==",
                             "iterations": 1000, "id_verifier": "FAKE-1"})
        elif self.path == "/v1/pair/exchange":
            self.reply(200, {"share_v": "AA==", "confirm_v": "AA=="})
        else:
            self.reply(404, {"error": {"code": "not_found"}})

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", %d), Handler).serve_forever()
""" % FAKE_WARDEN_PORT


class WardenDevice(AssessTestCase):
    """The Warden-specific probes against wardend with the thermostat, owned
    and unowned, and against a fake Warden device that lacks each defence
    (the same probes must fail it)."""

    def start_device(self):
        self.maker = harness.Maker(self.root)
        self.unit = self.maker.provision()
        daemon = harness.Daemon(self.unit["dir"], port=8443,
                                prefix=self.ns.prefix)
        self.addCleanup(daemon.stop)
        return daemon

    def pair(self, daemon, owner):
        home = os.path.join(self.root, "home-" + owner)
        return run_in(self.ns.name, WARDEN, "--home", home, "pair", daemon.url,
                      "--name", "dev", "--owner", owner, "--code", "-",
                      input_text=str(self.unit["manual_code"]) + "\n"), home

    def warden_units(self, port, *extra):
        proc, report = self.assess("127.0.0.1", "--ports",
                                   "%d-%d" % (port, port), *extra)
        self.assertIsNotNone(report, proc.stdout + proc.stderr)
        found = units(report)
        return proc, report, {k[len("warden.%d." % port):]: u
                              for k, u in found.items()
                              if k.startswith("warden.%d." % port)}

    def test_unowned_device_delays_unconfirmed_pairings_and_owner_pairs_after(self):
        daemon = self.start_device()
        _, _, w = self.warden_units(daemon.port)
        attempts = w["pairing_attempts"]
        self.assertEqual(attempts["verdict"], "PASS", attempts)
        self.assertIn("HTTP 429", attempts["finding"])
        self.assertNotIn("pairing_closed", w)
        for name in ["public_secrets", "public_personal", "owner_routes",
                     "data_inventory"]:
            self.assertEqual(w[name]["verdict"], "PASS", w[name])
        self.assertTrue(w["data_inventory"]["partial"])
        # The probe stopped at the first delay: the device is not locked,
        # and its first owner pairs once the delay has passed.
        self.assertNotIn("pairing_locked", daemon.read_log())
        import re
        retry = max(int(m) for r in attempts["evidence"]["received"]
                    for m in re.findall(r"Retry-After (\d+)", r))
        time.sleep(retry + 0.5)
        paired, home = self.pair(daemon, "first-owner")
        self.assertEqual(paired.returncode, 0, paired.stdout + paired.stderr)

    def test_owned_device_refuses_pairing_and_shows_no_owner(self):
        daemon = self.start_device()
        owner = "alice-the-owner"
        paired, home = self.pair(daemon, owner)
        self.assertEqual(paired.returncode, 0, paired.stdout + paired.stderr)
        proc, report, w = self.warden_units(daemon.port)
        self.assertEqual(w["pairing_closed"]["verdict"], "PASS",
                         w["pairing_closed"])
        self.assertIn("already_paired", w["pairing_closed"]["finding"])
        self.assertEqual(w["pairing_attempts"]["verdict"], "NOT APPLICABLE")
        for name in ["public_secrets", "public_personal", "owner_routes"]:
            self.assertEqual(w[name]["verdict"], "PASS", w[name])
        self.assertIn("/v1/owners 401", w["owner_routes"]["finding"])
        # Nothing the device answered without a session names its owner.
        self.assertNotIn(owner, json.dumps(report))
        # The owner still controls the device after the assessment.
        status = run_in(self.ns.name, WARDEN, "--home", home, "status", "dev")
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)

    def test_fake_device_without_the_defences_fails_each_probe(self):
        fake = self.start([sys.executable, "-c", FAKE_WARDEN, "unowned"],
                          "fake")
        wait_listening(self.ns.name, FAKE_WARDEN_PORT, fake)
        proc, report, w = self.warden_units(FAKE_WARDEN_PORT)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(w["pairing_attempts"]["verdict"], "FAIL")
        self.assertIn("6 pairing exchanges answered",
                      w["pairing_attempts"]["finding"])
        self.assertEqual(w["public_secrets"]["verdict"], "FAIL")
        self.assertIn('member "session_token"', w["public_secrets"]["finding"])
        self.assertEqual(w["public_personal"]["verdict"], "FAIL")
        self.assertIn('/v1/info: member "owner"',
                      w["public_personal"]["finding"])
        self.assertEqual(w["owner_routes"]["verdict"], "FAIL")
        self.assertIn("/v1/owners", w["owner_routes"]["finding"])
        # It publishes no inventory of the personal data it keeps.
        self.assertEqual(w["data_inventory"]["verdict"], "FAIL")
        self.assertIn("no inventory of personal data",
                      w["data_inventory"]["finding"])
        # What leaked is named, not copied into the report.
        text = json.dumps(report)
        self.assertNotIn("alice", text)
        self.assertNotIn("c2VjcmV0", text)

    def test_fake_owned_device_that_still_pairs_fails(self):
        fake = self.start([sys.executable, "-c", FAKE_WARDEN, "owned"],
                          "fake")
        wait_listening(self.ns.name, FAKE_WARDEN_PORT, fake)
        _, _, w = self.warden_units(FAKE_WARDEN_PORT)
        self.assertEqual(w["pairing_closed"]["verdict"], "FAIL")
        self.assertIn("admits a stranger", w["pairing_closed"]["finding"])


FRAGILE_PORT = 8090

# A web service with the input handling the malformed-input probes look
# for missing: "crash" exits on a header field longer than 8 KiB (as a
# fixed-size buffer overrun would), "hang" never answers a chunked body,
# "single" serves one connection at a time with no timeout (so one idle
# connection shuts everyone out).
FRAGILE_HTTP = """
import os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
MODE = sys.argv[1]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def ok(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):
        if MODE == "crash" and any(len(v) > 8192
                                   for v in self.headers.values()):
            os._exit(3)
        self.ok()

    def do_POST(self):
        if MODE == "hang" and "chunked" in self.headers.get(
                "Transfer-Encoding", ""):
            time.sleep(30)
        self.send_error(400)

    def log_message(self, *args):
        pass

if MODE == "single":
    from http.server import HTTPServer
    Handler.timeout = None
    HTTPServer(("127.0.0.1", %d), Handler).serve_forever()
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", %d), Handler).serve_forever()
""" % (FRAGILE_PORT, FRAGILE_PORT)


class MalformedInput(AssessTestCase):
    """The malformed-input probes fail a service that crashes or hangs on
    one of them (a test-only fake: the Debian daemons of the lab answer
    them all sanely, as InsecureLab's input units show)."""

    def input_unit(self, mode, kind="input.%d.http"):
        fake = self.start([sys.executable, "-c", FRAGILE_HTTP, mode], mode)
        wait_listening(self.ns.name, FRAGILE_PORT, fake)
        proc, report = self.assess("127.0.0.1", "--ports",
                                   "%d-%d" % (FRAGILE_PORT, FRAGILE_PORT))
        self.assertIsNotNone(report, proc.stdout + proc.stderr)
        return units(report)[kind % FRAGILE_PORT]

    def test_service_that_idle_connections_shut_out_fails(self):
        u = self.input_unit("single", "robustness.%d.held_connections")
        self.assertEqual(u["verdict"], "FAIL", u)
        # However many of the 12 its listen queue let open before it
        # stopped accepting, nobody else was served.
        self.assertIn("not served while ", u["finding"])
        self.assertIn("a few idle connections shut clients out",
                      u["finding"])

    def test_service_that_dies_on_an_oversized_header_fails(self):
        u = self.input_unit("crash")
        self.assertEqual(u["verdict"], "FAIL", u)
        self.assertIn("stopped serving after the oversized header field",
                      u["finding"])

    def test_service_that_hangs_on_bad_chunking_fails(self):
        u = self.input_unit("hang")
        self.assertEqual(u["verdict"], "FAIL", u)
        self.assertIn("chunk size that is not hex: neither answered nor "
                      "closed", u["finding"])
        self.assertNotIn("stopped serving", u["finding"])


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
