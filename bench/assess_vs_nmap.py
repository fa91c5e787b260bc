#!/usr/bin/env python3
"""A full `warden assess` of the insecure lab device against `nmap -sV -p-`
of the same device, in the same run.

  python3 bench/assess_vs_nmap.py [--build build/default]

The lab is the nginx part of the one tests/integration/test_assess.py
builds: a plain-HTTP port, a TLS port (TLS 1.0 to 1.3, an expired
self-signed certificate) and three admin pages behind HTTP basic (one with
admin/admin, one rate-limited), in a network namespace this script creates (so both tools
scan only the lab), stopped and removed at the end. Prints one JSON line:
both wall times, the ratio nmap / warden, and whether both found the same
open ports. Needs root (network namespaces) and nmap (scripts/install-deps.sh).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import test_assess  # noqa: E402  (the lab's configuration and certificate)


def timed(cmd):
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    return time.monotonic() - start, proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/default")
    args = ap.parse_args()
    warden = os.path.abspath(os.path.join(args.build, "src/cli/warden"))
    if os.geteuid() != 0 or not shutil.which("nmap"):
        print("assess_vs_nmap: needs root and nmap", file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="warden-bench-assess-")
    ns = test_assess.Namespace()
    nginx = None
    try:
        lab = os.path.join(root, "lab")
        for d in ["www", "tmp"]:
            os.makedirs(os.path.join(lab, d))
        with open(os.path.join(lab, "www", "index.html"), "w") as f:
            f.write("<html><body>IP camera admin</body></html>\n")
        test_assess.expired_self_signed(lab)
        conf = os.path.join(lab, "nginx.conf")
        with open(os.path.join(lab, "default.htpasswd"), "w") as f:
            f.write("admin:{PLAIN}admin\n")
        with open(os.path.join(lab, "owner.htpasswd"), "w") as f:
            f.write("owner:{PLAIN}%s\n" % test_assess.OWNER_PASSWORD)
        ports = (test_assess.HTTP_PORT, test_assess.TLS_PORT,
                 test_assess.DEFAULT_PORT, test_assess.LIMITED_PORT,
                 test_assess.UNLIMITED_PORT)
        with open(conf, "w") as f:
            f.write(test_assess.NGINX_CONF.format(
                dir=lab, http=test_assess.HTTP_PORT, tls=test_assess.TLS_PORT,
                default=test_assess.DEFAULT_PORT,
                limited=test_assess.LIMITED_PORT,
                unlimited=test_assess.UNLIMITED_PORT))
        nginx = test_assess.Process(ns.prefix + ["nginx", "-c", conf, "-p", lab],
                                    os.path.join(root, "nginx.log"))
        for port in ports:
            test_assess.wait_listening(ns.name, port, nginx)

        out = os.path.join(root, "report")
        warden_s, w = timed(ns.prefix + [warden, "assess", "127.0.0.1",
                                         "--out", out])
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        warden_ports = sorted(
            int(u["id"].split(".")[1]) for g in report["groups"]
            for u in g["units"] if u["id"].endswith(".encryption"))
        nmap_s, n = timed(ns.prefix + ["nmap", "-sV", "-p-", "-n", "-Pn",
                                       "127.0.0.1"])
        nmap_ports = sorted(int(m) for m in re.findall(r"^(\d+)/tcp\s+open",
                                                        n.stdout, re.M))
        record = {
            "figure": "assess_vs_nmap",
            "warden_assess_s": round(warden_s, 2),
            "nmap_sV_all_ports_s": round(nmap_s, 2),
            "ratio_nmap_over_warden": round(nmap_s / warden_s, 1),
            "warden_exit": w.returncode,
            "warden_open_ports": warden_ports,
            "nmap_open_ports": nmap_ports,
            "same_open_ports": warden_ports == nmap_ports,
            "warden_fail_units": sorted(
                u["id"] for g in report["groups"] for u in g["units"]
                if u["verdict"] == "FAIL"),
        }
        print(json.dumps(record), flush=True)
        print("warden assess %.1f s, nmap -sV -p- %.1f s: %.1fx; same open "
              "ports: %s" % (warden_s, nmap_s, nmap_s / warden_s,
                             record["same_open_ports"]))
        return 0
    finally:
        if nginx:
            nginx.stop()
        ns.delete()
        shutil.rmtree(root, True)


if __name__ == "__main__":
    sys.exit(main())
