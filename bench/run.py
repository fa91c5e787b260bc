#!/usr/bin/env python3
"""Front-door benchmarks: wardend against baselines measured in the same run.

  python3 bench/run.py [--build build/default] [--seconds 5] [--pairings 10]
                       [--attack-seconds 4] [--figures a,b,...]

Figures (each one JSON line, plus a summary table):
  tls_handshakes   full TLS 1.3 handshakes/s, wardend vs nginx, same cert
  auth_requests    authenticated keep-alive GETs/s (client certificate),
                   wardend /v1/state vs nginx checking the same certificate
  login_storm      the owner's p99 latency of GET /v1/state (client
                   certificate, one request at a time, one due every
                   --interval-ms, latency counted from when it was due)
                   while --storm-workers addresses send wrong passwords
                   to /v1/login, vs the same with no attack
  handshake_flood  the same owner's p99 while --flood-workers threads open
                   new TLS connections as fast as they can, vs no attack
  pairing          `warden pair` wall time vs `warden get` of one value
  idle_rss         wardend + thermostat app RSS vs nginx (master + worker)
  stripped_binary  size of wardend, stripped, vs the nginx binary
Everything runs on 127.0.0.1 and is stopped at the end. --figures picks
some of them (idle_rss also gives the anonymous-memory figure).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def anon_kib(pid):
    """Anonymous (heap, stack) memory: what the process itself allocated,
    as opposed to library pages that are shared with other processes."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


OWNER_PASSWORD = "seven orange kites over Leeds"


def emit(record):
    print(json.dumps(record), flush=True)
    return record


class Bench:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.warden = os.path.join(self.build, "src/cli/warden")
        self.wardend = os.path.join(self.build, "src/daemon/wardend")
        self.app = os.path.join(self.build,
                                "examples/thermostat/warden-thermostat")
        self.tls_load = os.path.join(self.build, "bench/tls_load")
        self.seconds = args.seconds
        self.pairings = args.pairings
        self.attack_seconds = args.attack_seconds
        self.interval_ms = args.interval_ms
        self.storm_workers = args.storm_workers
        self.flood_workers = args.flood_workers
        self.figures = set(args.figures.split(",")) if args.figures else None
        self.work = tempfile.mkdtemp(prefix="warden-bench-")
        # The app runs as its own user (warden-app) and must pass through
        # to its folder.
        os.chmod(self.work, 0o711)
        self.procs = []

    def cli(self, *args, stdin=None):
        return subprocess.run([self.warden, "--home", self.home] + list(args),
                              input=stdin, capture_output=True, text=True,
                              check=True)

    def start_wardend(self):
        log = open(os.path.join(self.work, "wardend.log"), "w+")
        p = subprocess.Popen([self.wardend, "--state-dir", self.unit,
                              "--listen", "127.0.0.1:0", "--app", self.app],
                             stdout=log, stderr=log)
        self.procs.append(p)
        for _ in range(200):
            log.seek(0)
            m = re.search(r"listening url=https://127\.0\.0\.1:(\d+)", log.read())
            if m:
                return p, int(m.group(1))
            time.sleep(0.05)
        raise RuntimeError("wardend did not start")

    def start_nginx(self, fingerprint_sha1):
        port_sock = __import__("socket").socket()
        port_sock.bind(("127.0.0.1", 0))
        port = port_sock.getsockname()[1]
        port_sock.close()
        chain = os.path.join(self.work, "chain.pem")
        with open(chain, "w") as out:
            for name in ("identity.crt", "ca.crt"):
                with open(os.path.join(self.unit, name)) as f:
                    out.write(f.read())
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        conf = os.path.join(self.work, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""
%(user)s
worker_processes 1;
daemon off;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  client_body_temp_path %(w)s/body;
  proxy_temp_path %(w)s/proxy;
  fastcgi_temp_path %(w)s/fastcgi;
  uwsgi_temp_path %(w)s/uwsgi;
  scgi_temp_path %(w)s/scgi;
  server {
    listen 127.0.0.1:%(port)d ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate %(chain)s;
    ssl_certificate_key %(key)s;
    ssl_verify_client optional_no_ca;
    ssl_session_tickets off;
    location = /v1/state {
      default_type application/json;
      if ($ssl_client_fingerprint != "%(fp)s") { return 401; }
      return 200 '{"state":{"heating":false,"mode":"off","setpoint":20,"temperature":19.5}}\\n';
    }
  }
}
""" % {"user": user, "w": self.work, "port": port, "chain": chain,
       "key": os.path.join(self.unit, "identity.key"), "fp": fingerprint_sha1})
        p = subprocess.Popen(["nginx", "-c", conf, "-p", self.work],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        for _ in range(100):
            try:
                import socket
                with socket.create_connection(("127.0.0.1", port), 0.2):
                    return p, port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def load(self, mode, port, *extra, seconds=None):
        out = subprocess.run([self.tls_load, mode, str(port),
                              str(seconds or self.seconds)] + list(extra),
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("tls_load %s on port %d: %s" %
                               (mode, port, out.stderr.strip()))
        return json.loads(out.stdout)

    def wanted(self, figure):
        return self.figures is None or figure in self.figures

    def owner_latency(self, port, attack=None, workers=0):
        """The owner's request latency, alone or during `attack`."""
        cert = os.path.join(self.home, "owner.crt")
        key = os.path.join(self.home, "owner.key")
        attacker = None
        if attack:
            # The attack starts first and outlasts the measurement.
            attacker = subprocess.Popen(
                [self.tls_load, attack, str(port),
                 str(self.attack_seconds + 1), str(workers)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.2)
        owner = self.load("latency", port, "/v1/state", cert, key,
                          str(self.interval_ms), seconds=self.attack_seconds)
        attack_result = None
        if attacker:
            out, err = attacker.communicate(timeout=60)
            if attacker.returncode != 0:
                raise RuntimeError("tls_load %s: %s" % (attack, err.strip()))
            attack_result = json.loads(out)
        return owner, attack_result

    def attack_figure(self, figure, port, attack, workers, note):
        quiet, _ = self.owner_latency(port)
        loud, load = self.owner_latency(port, attack, workers)
        return emit({
            "figure": figure,
            "owner_p99_ms_attacked": loud["p99_ms"],
            "owner_p99_ms_quiet": quiet["p99_ms"],
            "ratio": round(loud["p99_ms"] / max(quiet["p99_ms"], 0.01), 1),
            "detail": {"attacked": loud, "quiet": quiet, "attack": load,
                       "interval_ms": self.interval_ms,
                       "seconds": self.attack_seconds, "note": note}})

    def run(self):
        results = []
        self.home = os.path.join(self.work, "home")
        maker = os.path.join(self.work, "maker")
        self.unit = os.path.join(self.work, "unit")
        subprocess.run([self.warden, "mfg", "init", "--dir", maker, "--name",
                        "Bench Maker", "--contact",
                        "mailto:security@bench.example", "--policy",
                        "https://bench.example/policy"], check=True,
                       capture_output=True)
        unit = json.loads(subprocess.run(
            [self.warden, "mfg", "provision", "--maker", maker, "--serial",
             "BENCH-0001", "--model", "Bench", "--out", self.unit, "--json"],
            check=True, capture_output=True, text=True).stdout)
        wardend, port = self.start_wardend()
        # With a password, so that wrong ones cost what they cost. The code
        # comes on standard input; the password from a file.
        password_file = os.path.join(self.work, "owner-password")
        with open(password_file, "w") as f:
            f.write(OWNER_PASSWORD + "\n")
        self.cli("pair", "https://127.0.0.1:%d" % port, "--code", "-",
                 "--name", "bench", "--owner", "bench",
                 "--password-file", password_file,
                 stdin=unit["manual_code"] + "\n")
        for _ in range(100):
            if subprocess.run([self.warden, "--home", self.home, "get",
                               "bench", "mode"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.05)

        # Idle memory first, before any load has grown the heaps.
        time.sleep(2)
        app_pids = children(wardend.pid)
        wardend_rss = rss_kib(wardend.pid)
        wardend_anon = anon_kib(wardend.pid)
        app_rss = sum(rss_kib(p) for p in app_pids)

        cert = os.path.join(self.home, "owner.crt")
        key = os.path.join(self.home, "owner.key")
        fp = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                             "-fingerprint", "-sha1"], capture_output=True,
                            text=True, check=True).stdout
        fp = fp.strip().split("=", 1)[1].replace(":", "").lower()
        nginx, nginx_port = self.start_nginx(fp)
        time.sleep(1)
        nginx_pids = [nginx.pid] + children(nginx.pid)
        nginx_rss = sum(rss_kib(p) for p in nginx_pids)
        nginx_anon = sum(anon_kib(p) for p in nginx_pids)
        if self.wanted("idle_rss"):
            results.append(emit({
                "figure": "idle_rss_kib", "wardend": wardend_rss,
                "app": app_rss, "baseline_nginx": nginx_rss,
                "ratio": round(wardend_rss / nginx_rss, 2)}))
            results.append(emit({
                "figure": "idle_anonymous_kib", "wardend": wardend_anon,
                "baseline_nginx": nginx_anon,
                "ratio": round(wardend_anon / nginx_anon, 2)}))

        if self.wanted("stripped_binary"):
            stripped = os.path.join(self.work, "wardend.stripped")
            subprocess.run(["strip", "-o", stripped, self.wardend],
                           check=True)
            nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
            results.append(emit({
                "figure": "stripped_binary_kib",
                "wardend": os.path.getsize(stripped) // 1024,
                "baseline_nginx": os.path.getsize(nginx_bin) // 1024,
                "ratio": round(os.path.getsize(stripped) /
                               os.path.getsize(nginx_bin), 2)}))

        if self.wanted("tls_handshakes"):
            w = self.load("handshakes", port)
            n = self.load("handshakes", nginx_port)
            results.append(emit({
                "figure": "tls_handshakes_per_second",
                "wardend": w["per_second"], "baseline_nginx": n["per_second"],
                "ratio": round(w["per_second"] / n["per_second"], 2)}))

        if self.wanted("auth_requests"):
            w = self.load("requests", port, "/v1/state", cert, key)
            n = self.load("requests", nginx_port, "/v1/state", cert, key)
            results.append(emit({
                "figure": "auth_requests_per_second",
                "wardend": w["per_second"], "baseline_nginx": n["per_second"],
                "ratio": round(w["per_second"] / n["per_second"], 2)}))

        # Once per wardend: the login throttle remembers failures for a
        # minute, so a second storm would meet it at once.
        if self.wanted("login_storm"):
            results.append(self.attack_figure(
                "owner_p99_ms_login_storm", port, "login_storm",
                self.storm_workers,
                "Argon2id of each wrong password runs on the worker pool, "
                "off the event loop; the throttle admits 30 failures a "
                "minute"))
        if self.wanted("handshake_flood"):
            results.append(self.attack_figure(
                "owner_p99_ms_handshake_flood", port, "flood",
                self.flood_workers, "full TLS 1.3 handshakes, no resumption"))

        if not self.wanted("pairing"):
            return results
        url = "https://127.0.0.1:%d" % port
        pair_ms, get_ms = [], []
        for _ in range(self.pairings):
            self.cli("reset", "bench", "--yes")
            t = time.perf_counter()
            self.cli("pair", url, "--code", "-", "--name", "bench",
                     "--owner", "bench", stdin=unit["manual_code"] + "\n")
            pair_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            self.cli("get", "bench", "mode")
            get_ms.append((time.perf_counter() - t) * 1000)
        p, g = statistics.median(pair_ms), statistics.median(get_ms)
        results.append(emit({
            "figure": "pairing_ms", "warden_pair_median": round(p, 1),
            "baseline_warden_get_median": round(g, 1),
            "ratio": round(p / g, 2), "runs": self.pairings}))
        return results

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if p.args[0] != "nginx"
                              else signal.SIGQUIT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if not os.environ.get("WARDEN_BENCH_KEEP"):
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/default")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--pairings", type=int, default=10)
    parser.add_argument("--attack-seconds", type=float, default=4,
                        help="length of each owner-latency measurement")
    parser.add_argument("--interval-ms", type=float, default=10,
                        help="an owner request is due this often")
    parser.add_argument("--storm-workers", type=int, default=16,
                        help="source addresses of the login storm")
    parser.add_argument("--flood-workers", type=int, default=4,
                        help="threads of the handshake flood")
    parser.add_argument("--figures", default="",
                        help="comma-separated figures to run (default all)")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.stop()
    print("\n%-30s %14s %14s %8s" % ("figure", "wardend", "baseline", "ratio"),
          file=sys.stderr)
    for r in results:
        keys = [k for k in r
                if k not in ("figure", "ratio", "runs", "app", "detail")]
        print("%-30s %14s %14s %8s" % (r["figure"], r[keys[0]], r[keys[1]],
                                       r["ratio"]), file=sys.stderr)


if __name__ == "__main__":
    main()
