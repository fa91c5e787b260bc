#!/usr/bin/env python3
"""Install benchmarks: verify-and-install of an image into a slot against
sha256sum and dd of the same image, and peak memory against image size.

  python3 bench/update_bench.py [--build build/default] [--mib 256]
                                [--rss-mib 64,512] [--runs 3]

Figures (each one JSON line, plus a summary):
  install_vs_sha256sum  update_install (stream, SHA-256 while writing,
                        checkpoints synced, marked for a trial boot) vs
                        sha256sum of the same image (warm page cache)
  install_vs_dd         the same vs dd of the image to a slot file
                        (bs=16K, conv=fsync)
  install_peak_rss      update_install's peak RSS for each --rss-mib image
                        vs the smallest
The median of --runs runs is taken for the times. Everything is made under a
temporary directory and removed at the end.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def emit(record):
    print(json.dumps(record), flush=True)
    return record


def make_image(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def install(tool, image, sha256, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = subprocess.run([tool, image, sha256, work], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/default")
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rss-mib", default="64,512")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tool = os.path.join(os.path.abspath(args.build), "bench/update_install")
    tmp = tempfile.mkdtemp(prefix="warden-update-bench-")
    results = []
    try:
        image = os.path.join(tmp, "image.img")
        make_image(image, args.mib)
        sha256 = subprocess.run(["sha256sum", image], check=True,
                                capture_output=True,
                                text=True).stdout.split()[0]
        work = os.path.join(tmp, "device")
        slot = os.path.join(tmp, "dd-slot.img")
        ours, sums, dds = [], [], []
        for _ in range(args.runs):
            sums.append(timed(["sha256sum", image]))
            dds.append(timed(["dd", "if=" + image, "of=" + slot, "bs=16K",
                              "conv=fsync", "status=none"]))
            os.remove(slot)
            ours.append(install(tool, image, sha256, work)["seconds"])
        o, s, d = (statistics.median(x) for x in (ours, sums, dds))
        results.append(emit({"figure": "install_vs_sha256sum",
                             "install_s": round(o, 3),
                             "sha256sum_s": round(s, 3),
                             "ratio": round(o / s, 2), "mib": args.mib,
                             "runs": args.runs}))
        results.append(emit({"figure": "install_vs_dd",
                             "install_s": round(o, 3), "dd_s": round(d, 3),
                             "ratio": round(o / d, 2), "mib": args.mib,
                             "runs": args.runs}))
        os.remove(image)
        rss = {}
        for mib in [int(m) for m in args.rss_mib.split(",")]:
            make_image(image, mib)
            sha = subprocess.run(["sha256sum", image], check=True,
                                 capture_output=True,
                                 text=True).stdout.split()[0]
            rss[mib] = install(tool, image, sha, work)["peak_rss_kib"]
            os.remove(image)
        small = min(rss)
        for mib in sorted(rss):
            results.append(emit({"figure": "install_peak_rss",
                                 "peak_rss_kib": rss[mib],
                                 "smallest_image_kib": rss[small],
                                 "ratio": round(rss[mib] / rss[small], 3),
                                 "mib": mib}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n%-22s %6s %14s %14s %8s" % ("figure", "MiB", "warden",
                                         "baseline", "ratio"))
    for r in results:
        keys = [k for k in r if k not in ("figure", "ratio", "runs", "mib")]
        print("%-22s %6s %14s %14s %8s" % (r["figure"], r["mib"], r[keys[0]],
                                           r[keys[1]], r["ratio"]))


if __name__ == "__main__":
    main()
