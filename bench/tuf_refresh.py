#!/usr/bin/env python3
"""TUF refresh benchmark: a device's refresh of a repository with many
targets against fetching the same bytes with curl.

  python3 bench/tuf_refresh.py [--build build/default] [--targets 1000]
                               [--runs 10]

A repository is made with `warden release` (init, one `add` per hardware
model, publish) and served by nginx on 127.0.0.1. Figures (each one JSON
line, plus a summary):
  tuf_refresh   `warden tuf download` from a trusted first root: the whole
                refresh (root, timestamp, snapshot, targets with
                --targets entries, every signature and hash checked) and
                one target looked up and downloaded, vs one curl process
                fetching the same URLs (the same bytes, the same 404 for
                the next root), median of --runs
  release_add   `warden release add` per target while the repository
                grows to --targets (mean), vs `warden release status`
                of the full repository
Everything is made under a temporary directory, nginx is stopped by its pid
and the directory removed at the end.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time


def emit(record):
    print(json.dumps(record), flush=True)
    return record


def timed(cmd, **kw):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(work, root):
    port = free_port()
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    conf = os.path.join(work, "nginx.conf")
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
  client_body_temp_path %(w)s/body;
  proxy_temp_path %(w)s/proxy;
  fastcgi_temp_path %(w)s/fastcgi;
  uwsgi_temp_path %(w)s/uwsgi;
  scgi_temp_path %(w)s/scgi;
  server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
  }
}
""" % {"user": user, "w": work, "port": port, "root": root})
    p = subprocess.Popen(["nginx", "-c", conf, "-p", work],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    p.wait()
    raise RuntimeError("nginx did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/default")
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    warden = os.path.join(os.path.abspath(args.build), "src/cli/warden")
    tmp = tempfile.mkdtemp(prefix="warden-tuf-bench-")
    os.chmod(tmp, 0o755)  # nginx's workers run as nobody
    nginx = None
    results = []
    try:
        repo = os.path.join(tmp, "repo")
        out = os.path.join(tmp, "www")
        subprocess.run([warden, "release", "init", repo, "--root-keys",
                        os.path.join(tmp, "root-keys")], check=True,
                       stdout=subprocess.DEVNULL)
        image = os.path.join(tmp, "image")
        add_times = []
        for i in range(args.targets):
            with open(image, "w") as f:
                f.write("#!/bin/sh\necho model %d\n" % i)
            add_times.append(timed(
                [warden, "release", "add", repo, image, "--hardware-model",
                 "model-%04d" % i, "--version", "1.0.%d" % i, "--min-from",
                 "1.0.0", "--support-until", "2031-12-31"]))
        status_s = statistics.median(
            timed([warden, "release", "status", repo, "--json"])
            for _ in range(3))
        subprocess.run([warden, "release", "publish", repo, out], check=True,
                       stdout=subprocess.DEVNULL)
        nginx, port = start_nginx(tmp, out)
        base = "http://127.0.0.1:%d" % port

        status = json.loads(subprocess.run(
            [warden, "release", "status", repo, "--json"], check=True,
            capture_output=True, text=True).stdout)
        roles = status["roles"]
        name = "model-%04d.img" % (args.targets // 2)
        target = status["targets"][name]
        urls = [
            "%s/metadata/%d.root.json" % (base, roles["root"]["version"] + 1),
            base + "/metadata/timestamp.json",
            "%s/metadata/%d.snapshot.json" % (base,
                                              roles["snapshot"]["version"]),
            "%s/metadata/%d.targets.json" % (base,
                                             roles["targets"]["version"]),
            "%s/targets/%s.%s" % (base, target["hashes"]["sha256"], name),
        ]
        targets_bytes = os.path.getsize(os.path.join(
            out, "metadata", "%d.targets.json" % roles["targets"]["version"]))

        device = os.path.join(tmp, "device")
        ours, curls = [], []
        for _ in range(args.runs):
            shutil.rmtree(device, ignore_errors=True)
            os.makedirs(os.path.join(device, "targets"))
            md = os.path.join(device, "metadata")
            subprocess.run([warden, "tuf", "--metadata-dir", md, "init",
                            os.path.join(out, "metadata", "1.root.json")],
                           check=True, stderr=subprocess.DEVNULL)
            ours.append(timed(
                [warden, "tuf", "--metadata-dir", md, "--metadata-url",
                 base + "/metadata", "--target-name", name,
                 "--target-base-url", base + "/targets", "--target-dir",
                 os.path.join(device, "targets"), "download"],
                stderr=subprocess.DEVNULL))
            cmd = ["curl", "-s"]
            for u in urls:
                cmd += ["-o", "/dev/null", u]
            curls.append(timed(cmd))
        o, c = statistics.median(ours), statistics.median(curls)
        results.append(emit({"figure": "tuf_refresh", "warden_s": round(o, 4),
                             "curl_s": round(c, 4), "ratio": round(o / c, 2),
                             "targets": args.targets,
                             "targets_json_bytes": targets_bytes,
                             "runs": args.runs}))
        a = statistics.mean(add_times)
        results.append(emit({"figure": "release_add", "add_s": round(a, 4),
                             "status_s": round(status_s, 4),
                             "ratio": round(a / status_s, 2),
                             "targets": args.targets}))
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n%-12s %8s %12s %12s %8s" % ("figure", "targets", "warden",
                                         "baseline", "ratio"))
    for r in results:
        keys = [k for k in r if k not in ("figure", "ratio", "runs", "targets",
                                          "targets_json_bytes")]
        print("%-12s %8s %12s %12s %8s" % (r["figure"], r["targets"],
                                           r[keys[0]], r[keys[1]], r["ratio"]))


if __name__ == "__main__":
    main()
