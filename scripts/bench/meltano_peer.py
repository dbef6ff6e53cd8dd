#!/usr/bin/env python3
"""Per-job overhead, tapline versus `meltano run`, with the same tap and the same PyPI target.

The tap is tapline's demo tap (--records RECORDs), the target target-jsonl 0.1.4 from PyPI.
  pipeline  `demo-tap --config c | target-jsonl --config t` in a shell: what the work itself costs;
  tapline   a manual job: from sending POST /v4/sources/{id}/sync until a client polling the
            database every 2 ms sees the job's outcome recorded (an upper bound: it includes the
            HTTP round trip and up to 2 ms of polling);
  meltano   `meltano run tap-demo target-jsonl`, timed around the command.
Overhead = wall time - the pipeline's; each figure is the median of --runs runs. Prints both
overheads and meltano's / tapline's. One warm-up run of each (Python's first imports) is not counted.

meltano (latest from PyPI) goes into .build/meltano-venv; target-jsonl into .build/bench-target-venv.
Usage: scripts/bench/meltano_peer.py [--records 1000] [--runs 7] [--binary PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import ROOT, Daemon, binary_path, machine  # noqa: E402

TARGET = "target-jsonl==0.1.4"


def venv(name, package):
    path = os.path.join(ROOT, ".build", name)
    if not os.path.exists(os.path.join(path, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    if subprocess.run([os.path.join(path, "bin", "pip"), "show", "-q", package.split("==")[0]],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run([os.path.join(path, "bin", "pip"), "install", "-q", package], check=True)
    return os.path.join(path, "bin")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary or binary_path("release"))
    print("machine: %s" % machine())
    target_bin = venv("bench-target-venv", TARGET)
    meltano_bin = venv("meltano-venv", "meltano")
    work = tempfile.mkdtemp(prefix="tapline-meltano-")
    out = os.path.join(work, "out")
    os.makedirs(out)
    # One wrapper for all three, so the same exec chain runs everywhere.
    tap = os.path.join(work, "demo-tap")
    with open(tap, "w") as f:
        f.write("#!/bin/sh\nexec %s demo-tap \"$@\"\n" % binary)
    os.chmod(tap, 0o755)
    tap_config, target_config = os.path.join(work, "tap.json"), os.path.join(work, "target.json")
    json.dump({"record_count": str(args.records)}, open(tap_config, "w"))
    json.dump({"destination_path": out}, open(target_config, "w"))

    pipeline = []
    for _ in range(args.runs + 1):
        t0 = time.perf_counter()
        subprocess.run("%s --config %s | %s/target-jsonl --config %s > /dev/null" % (tap, tap_config, target_bin, target_config),
                       shell=True, check=True)
        pipeline.append(time.perf_counter() - t0)
    pipeline = pipeline[1:]
    base = statistics.median(pipeline)

    d = Daemon(binary, """
destination:
  target: ["%s/target-jsonl"]
  config:
    destination_path: "%s"
source_types:
  - type: bench.demo
    tap: ["%s"]
    properties:
      - name: record_count
""" % (target_bin, out, tap))
    tapline_runs = []
    try:
        d.call("POST", "/v4/sources", {"type": "bench.demo", "display_name": "Meltano peer",
                                       "properties": {"record_count": str(args.records), "frequency_in_minutes": "1440"}})
        # A new plain-interval source is due at once: let that first job end, then time manual ones.
        def wait_idle():
            while d.query("SELECT count(*) FROM jobs WHERE status = 'running'")[0][0]:
                time.sleep(0.02)
        time.sleep(0.5)
        wait_idle()
        for _ in range(args.runs):
            t0 = time.perf_counter()
            status, body = d.call("POST", "/v4/sources/1/sync")
            name = body["job_name"]
            while True:
                state = d.query("SELECT status FROM jobs WHERE job_name = ?", (name,))[0][0]
                if state != "running":
                    break
                time.sleep(0.002)
            tapline_runs.append(time.perf_counter() - t0)
            if state != "succeeded":
                sys.exit("tapline job %s: %s" % (name, state))
    finally:
        d.stop()

    project = os.path.join(work, "proj")
    subprocess.run([os.path.join(meltano_bin, "meltano"), "init", project, "--no_usage_stats"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    with open(os.path.join(project, "meltano.yml"), "a") as f:
        f.write("""plugins:
  extractors:
  - name: tap-demo
    namespace: tap_demo
    executable: %s
    capabilities: [state]
    settings:
    - name: record_count
    config:
      record_count: "%d"
  loaders:
  - name: target-jsonl
    namespace: target_jsonl
    pip_url: %s
    settings:
    - name: destination_path
    config:
      destination_path: %s
""" % (tap, args.records, TARGET, out))
    subprocess.run([os.path.join(meltano_bin, "meltano"), "install"], check=True, cwd=project,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meltano_runs = []
    for _ in range(args.runs + 1):
        t0 = time.perf_counter()
        subprocess.run([os.path.join(meltano_bin, "meltano"), "run", "tap-demo", "target-jsonl"], check=True, cwd=project,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        meltano_runs.append(time.perf_counter() - t0)
    meltano_runs = meltano_runs[1:]
    version = subprocess.run([os.path.join(meltano_bin, "meltano"), "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    shutil.rmtree(work, ignore_errors=True)

    tap_job, mel = statistics.median(tapline_runs), statistics.median(meltano_runs)
    print("%d records, demo tap -> %s, medians of %d runs (%s):" % (args.records, TARGET, args.runs, version))
    print("  pipeline alone   %8.1f ms" % (base * 1000))
    print("  tapline job      %8.1f ms  overhead %7.1f ms" % (tap_job * 1000, (tap_job - base) * 1000))
    print("  meltano run      %8.1f ms  overhead %7.1f ms" % (mel * 1000, (mel - base) * 1000))
    if tap_job - base > 0:
        print("meltano overhead / tapline overhead = %.0fx" % ((mel - base) / (tap_job - base)))
    else:
        print("tapline's overhead is below the pipeline's run-to-run noise (pipeline runs spread over %.1f ms)"
              % ((max(pipeline) - min(pipeline)) * 1000))


if __name__ == "__main__":
    main()
