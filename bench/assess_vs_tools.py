#!/usr/bin/env python3
"""A full `warden assess` of the insecure lab device against what an
assessor runs without it, on the same device in the same run: nmap
(`-sV -p-`, and `-sU -sV` on the three UDP ports warden asks), testssl.sh
(its default run) on the TLS port, and hydra with the same shipped list on
every login service warden tries.

  python3 bench/assess_vs_tools.py [--build build/default]

The lab is the one tests/integration/test_assess.py builds: nginx (plain
HTTP, TLS 1.0 to 1.3 with an expired self-signed certificate, three admin
pages behind HTTP Basic), mosquitto open to anonymous clients, and
login_lab.py's busybox telnetd, pyftpdlib, lighttpd (Digest and a login
form), two dropbears (one without password logins, one taking a Mirai
login), coap-server, minissdpd and avahi-daemon, in a network namespace this script
creates (so every tool sees only the lab), stopped and removed at the end.
Prints one JSON line with each tool's time, the sum, the ratio sum / warden,
and the findings compared: open ports, the TLS versions accepted, and the
logins found against the ones the lab planted. Needs root (network namespaces), nmap, testssl.sh and hydra
(scripts/install-deps.sh)."""
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
import login_lab  # noqa: E402
import test_assess  # noqa: E402  (the lab's configuration and certificate)

T = test_assess
LIST = os.path.join(HERE, "..", "data", "assess-credentials.txt")


def timed(cmd, timeout=1800):
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout)
    return time.monotonic() - start, proc


def start_lab(root, ns, started):
    lab = os.path.join(root, "lab")
    for d in ["www", "tmp"]:
        os.makedirs(os.path.join(lab, d))
    with open(os.path.join(lab, "www", "index.html"), "w") as f:
        f.write("<html><body>IP camera admin</body></html>\n")
    T.expired_self_signed(lab)
    with open(os.path.join(lab, "default.htpasswd"), "w") as f:
        f.write("admin:{PLAIN}admin\n")
    with open(os.path.join(lab, "owner.htpasswd"), "w") as f:
        f.write("owner:{PLAIN}%s\n" % T.OWNER_PASSWORD)
    conf = os.path.join(lab, "nginx.conf")
    with open(conf, "w") as f:
        f.write(T.NGINX_CONF.format(
            dir=lab, http=T.HTTP_PORT, tls=T.TLS_PORT, default=T.DEFAULT_PORT,
            limited=T.LIMITED_PORT, unlimited=T.UNLIMITED_PORT))
    mqtt_conf = os.path.join(lab, "mosquitto.conf")
    with open(mqtt_conf, "w") as f:
        f.write(T.MOSQUITTO_CONF.format(port=T.MQTT_PORT))

    def start(cmd, name):
        p = T.Process(ns.prefix + cmd, os.path.join(root, name + ".log"))
        started.append(p)
        return p

    nginx = start(["nginx", "-c", conf, "-p", lab], "nginx")
    for port in (T.TLS_PORT, T.HTTP_PORT, T.DEFAULT_PORT, T.LIMITED_PORT,
                 T.UNLIMITED_PORT):
        T.wait_listening(ns.name, port, nginx)
    broker = start(["mosquitto", "-c", mqtt_conf], "mosquitto")
    T.wait_listening(ns.name, T.MQTT_PORT, broker)
    login_lab.start(lab, start,
                    lambda port, p: T.wait_listening(ns.name, port, p))


def hydra_runs(ns, root):
    """(seconds, {port: (login, password)}) of hydra on each login service,
    one run per service, each stopping at its first find (-f)."""
    combos = os.path.join(root, "combos.txt")
    with open(LIST) as src, open(combos, "w") as out:
        for line in src:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                out.write(line.replace("\t", ":", 1) + "\n")
    services = [
        (login_lab.TELNET_PORT, ["telnet"]),
        (login_lab.FTP_PORT, ["ftp"]),
        (login_lab.DIGEST_PORT, ["http-get", "/"]),
        (login_lab.FORM_PORT,
         ["http-post-form",
          "/index.py:token=a1b2&username=^USER^&pwd=^PASS^:F=Invalid"]),
        (login_lab.SSH_PORT, ["ssh"]),
        (login_lab.SSH_PASSWORD_PORT, ["ssh"]),
        (T.DEFAULT_PORT, ["http-get", "/"]),
        (T.LIMITED_PORT, ["http-get", "/"]),
        (T.UNLIMITED_PORT, ["http-get", "/"]),
    ]
    total, found, per = 0.0, {}, {}
    for port, module in services:
        s, p = timed(ns.prefix + ["hydra", "-I", "-f", "-C", combos, "-s",
                                  str(port), "127.0.0.1"] + module,
                     timeout=600)
        total += s
        per[port] = round(s, 2)
        m = re.search(r"login:\s+(\S+)\s+password:\s*(\S*)", p.stdout)
        if m:
            found[port] = (m.group(1), m.group(2))
    return total, found, per


def testssl_versions(ns, root):
    path = os.path.join(root, "testssl.json")
    s, _ = timed(ns.prefix + ["testssl", "--quiet", "--color", "0",
                              "--warnings", "off", "--jsonfile", path,
                              "127.0.0.1:%d" % T.TLS_PORT], timeout=1200)
    names = {"TLS1": "TLS 1.0", "TLS1_1": "TLS 1.1", "TLS1_2": "TLS 1.2",
             "TLS1_3": "TLS 1.3"}
    offered = []
    try:
        with open(path) as f:
            for item in json.load(f):
                if item.get("id") in names and \
                        item.get("finding", "").startswith("offered"):
                    offered.append(names[item["id"]])
    except (OSError, ValueError):
        pass
    return s, sorted(offered)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/default")
    args = ap.parse_args()
    warden = os.path.abspath(os.path.join(args.build, "src/cli/warden"))
    tools = ["nmap", "testssl", "hydra"]
    if os.geteuid() != 0 or not all(shutil.which(t) for t in tools):
        print("assess_vs_tools: needs root, nmap, testssl (Debian package testssl.sh) and hydra",
              file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="warden-bench-assess-")
    ns = T.Namespace()
    started = []
    try:
        start_lab(root, ns, started)
        out = os.path.join(root, "report")
        warden_s, w = timed(ns.prefix + [warden, "assess", "127.0.0.1",
                                         "--out", out])
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        units = {u["id"]: u for g in report["groups"] for u in g["units"]}
        warden_ports = sorted(int(k.split(".")[1]) for k in units
                              if re.match(r"services\.\d+\.encryption$", k))
        warden_udp = sorted(int(k.split(".")[2]) for k in units
                            if re.match(r"services\.udp\.\d+\.declared$", k))
        versions = units.get("tls.%d.versions" % T.TLS_PORT, {})
        warden_tls = sorted(
            v for v in ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]
            if "%s: accepted" % v in " ".join(
                versions.get("evidence", {}).get("received", [])))
        warden_logins = {}
        for k, u in units.items():
            m = re.match(r"credentials\.(\d+)\.default$", k)
            f = re.match(r'accepted login "([^"]*)" \(password found, (\d+)',
                         u["finding"])
            if m and f and u["verdict"] == "FAIL":
                warden_logins[int(m.group(1))] = (f.group(1), int(f.group(2)))

        nmap_s, n = timed(ns.prefix + ["nmap", "-sV", "-p-", "-n", "-Pn",
                                       "127.0.0.1"])
        nmap_ports = sorted(int(m) for m in re.findall(r"^(\d+)/tcp\s+open",
                                                        n.stdout, re.M))
        nmap_udp_s, nu = timed(ns.prefix + ["nmap", "-sU", "-sV", "-n", "-Pn",
                                            "-p", "1900,5353,5683",
                                            "127.0.0.1"])
        nmap_udp = sorted(int(m) for m in re.findall(
            r"^(\d+)/udp\s+open(?!\|)", nu.stdout, re.M))
        testssl_s, testssl_tls = testssl_versions(ns, root)
        hydra_s, hydra_found, hydra_per = hydra_runs(ns, root)

        others = nmap_s + nmap_udp_s + testssl_s + hydra_s
        hydra_logins = {p: (u, len(pw)) for p, (u, pw) in hydra_found.items()}
        # What the lab planted: a find is right only if it is this pair
        # (warden shows the login and the password's length, hydra both).
        planted = {login_lab.TELNET_PORT: login_lab.TELNET_LOGIN,
                   login_lab.FTP_PORT: login_lab.FTP_LOGIN,
                   login_lab.DIGEST_PORT: login_lab.DIGEST_LOGIN,
                   login_lab.FORM_PORT: login_lab.FORM_LOGIN,
                   login_lab.SSH_PASSWORD_PORT: login_lab.SSH_LOGIN,
                   T.DEFAULT_PORT: ("admin", "admin")}
        warden_right = sorted(p for p, (u, n) in warden_logins.items()
                              if planted.get(p, (None, ""))[0] == u and
                              len(planted[p][1]) == n)
        hydra_right = sorted(p for p, pair in hydra_found.items()
                             if planted.get(p) == pair)
        record = {
            "figure": "assess_vs_tools",
            "warden_assess_s": round(warden_s, 2),
            "nmap_sV_all_tcp_s": round(nmap_s, 2),
            "nmap_sU_sV_3_udp_s": round(nmap_udp_s, 2),
            "testssl_s": round(testssl_s, 2),
            "hydra_s": round(hydra_s, 2),
            "hydra_s_per_port": hydra_per,
            "tools_sum_s": round(others, 2),
            "ratio_tools_over_warden": round(others / warden_s, 1),
            "warden_exit": w.returncode,
            "same_open_tcp_ports": warden_ports == nmap_ports,
            "warden_open_tcp_ports": warden_ports,
            "nmap_open_tcp_ports": nmap_ports,
            "warden_udp_answering": warden_udp,
            "nmap_udp_open": nmap_udp,
            "same_tls_versions": warden_tls == testssl_tls,
            "warden_tls_versions": warden_tls,
            "testssl_tls_versions": testssl_tls,
            "same_logins_found": warden_logins == hydra_logins,
            "warden_logins": {str(k): list(v) for k, v in
                              sorted(warden_logins.items())},
            "hydra_logins": {str(k): list(v) for k, v in
                             sorted(hydra_logins.items())},
            "planted_logins_ports": sorted(planted),
            "warden_right_ports": warden_right,
            "hydra_right_ports": hydra_right,
        }
        print(json.dumps(record), flush=True)
        print("warden assess %.1f s; nmap -sV -p- %.1f s + nmap -sU %.1f s + "
              "testssl.sh %.1f s + hydra %.1f s = %.1f s: %.1fx; same open "
              "ports: %s, same TLS versions: %s; planted logins found: "
              "warden %d of %d, hydra %d of %d"
              % (warden_s, nmap_s, nmap_udp_s, testssl_s, hydra_s, others,
                 others / warden_s, record["same_open_tcp_ports"],
                 record["same_tls_versions"], len(warden_right), len(planted),
                 len(hydra_right), len(planted)))
        return 0
    finally:
        for p in reversed(started):
            p.stop()
        ns.delete()
        shutil.rmtree(root, True)


if __name__ == "__main__":
    sys.exit(main())
