#!/usr/bin/env python3
"""What wardend's freed-memory scrubbing costs: the personal-data store's
benchmark (bench/data_store_bench, an allocation-heavy loop of sealed reads,
durable writes and a deletion) run with the glibc tunables that
platform::ScrubFreedMemory sets for wardend (every freed block overwritten,
no thread cache), and the same run without them.

  python3 bench/scrub_cost.py [--build build/default] [--ops 1000]
                              [--reads 200000] [--records 10000] [--runs 3]

WARDEN_DATA_STORE_BENCH, when set, names the benchmark binary to run
instead of the one under --build.

Runs alternate (plain, scrubbed, plain, ...) so that a busy machine weighs
on both; the median of --runs runs of each is compared. One JSON line per
figure, with plain / scrubbed (how many times slower scrubbing is for
throughput, scrubbed / plain for the deletion's time).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

# As in src/platform/process.cc (ScrubFreedMemory).
SCRUB_TUNABLES = "glibc.malloc.perturb=165:glibc.malloc.tcache_count=0"


def run(bench, args, scrub, tmp):
    env = dict(os.environ)
    env.pop("GLIBC_TUNABLES", None)
    if scrub:
        env["GLIBC_TUNABLES"] = SCRUB_TUNABLES
    out = subprocess.run([bench, "--dir", tmp] + args, env=env, check=True,
                         capture_output=True, text=True).stdout
    figures = {}
    for line in out.splitlines():
        record = json.loads(line)
        figures[record["figure"]] = record
    return figures


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build/default")
    p.add_argument("--ops", type=int, default=1000)
    p.add_argument("--reads", type=int, default=200000)
    p.add_argument("--records", type=int, default=10000)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    bench = os.environ.get("WARDEN_DATA_STORE_BENCH") or os.path.join(
        a.build, "bench", "data_store_bench")
    args = ["--ops", str(a.ops), "--reads", str(a.reads), "--records",
            str(a.records)]
    runs = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="warden-scrub-bench.") as tmp:
        for _ in range(a.runs):
            for scrub in (False, True):
                runs[scrub].append(run(bench, args, scrub, tmp))

    def median(scrub, figure, field):
        return statistics.median(r[figure][field] for r in runs[scrub])

    for figure, field, label in (("data_read", "store_per_s", "reads_per_s"),
                                 ("data_write", "store_per_s",
                                  "writes_per_s")):
        plain = median(False, figure, field)
        scrubbed = median(True, figure, field)
        print(json.dumps({"figure": "scrub_" + figure, "runs": a.runs,
                          "plain_" + label: round(plain),
                          "scrubbed_" + label: round(scrubbed),
                          "plain_over_scrubbed": round(plain / scrubbed, 3)}),
              flush=True)
    plain = median(False, "data_delete", "seconds")
    scrubbed = median(True, "data_delete", "seconds")
    print(json.dumps({"figure": "scrub_data_delete", "runs": a.runs,
                      "records": a.records, "plain_seconds": plain,
                      "scrubbed_seconds": scrubbed,
                      "scrubbed_over_plain": round(scrubbed / plain, 3)}),
          flush=True)


if __name__ == "__main__":
    main()
