#!/usr/bin/env python3
"""Whole-system scheduler benchmark for tapline (not a test: it prints numbers).

Two measurements against a release build of the real daemon, with a tap and a target that do
nothing (`true`), so what is measured is tapline itself:

  lateness  N sources on staggered every-minute cron schedules (source i fires at second i % 60),
            running for D seconds; start lateness = spawned_at - scheduled_for of every job.
  burst     N sources all due at the same instant (created paused, then one cron minute), and the
            sustained start rate: jobs spawned / (last spawn - first spawn).

Usage: scripts/bench/scheduler.py [--sources 10000] [--duration 180] [--binary PATH]
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

CONFIG = """
listen: 127.0.0.1:0
log_level: warning
scheduler:
  starts_per_second: {rate}
  max_running_jobs: 20000
destination:
  target: ["true"]
  config: {{}}
source_types:
  - type: bench.true
    tap: ["true"]
"""


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    f, c = int(k), min(int(k) + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


class Daemon:
    def __init__(self, binary, rate, extra=None):
        self.dir = tempfile.mkdtemp(prefix="tapline-bench-")
        with open(os.path.join(self.dir, "tapline.yaml"), "w") as f:
            if extra is None:
                f.write(CONFIG.format(rate=rate))
            else:
                f.write("listen: 127.0.0.1:0\nlog_level: warning\n" + extra)
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        # As under systemd with RuntimeDirectory=: job directories on a tmpfs.
        self.runtime = tempfile.mkdtemp(prefix="tapline-bench-run-", dir="/dev/shm")
        env = dict(os.environ, RUNTIME_DIRECTORY=self.runtime)
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", os.path.join(self.dir, "tapline.yaml"), "--state-dir", self.dir + "/state"],
            stdout=self.log, stderr=self.log, env=env)
        address = os.path.join(self.dir, "state", "http.address")
        for _ in range(300):
            if os.path.exists(address) and open(address).read().endswith("\n"):
                break
            time.sleep(0.05)
        host, port = open(address).read().strip().rsplit(":", 1)
        self.host, self.port = host, int(port)
        token = [l for l in open(os.path.join(self.dir, "state", "token")) if not l.startswith("#")][0].strip()
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        self.db = os.path.join(self.dir, "state", "tapline.db")

    def create_sources(self, bodies, threads=8):
        chunks = [bodies[i::threads] for i in range(threads)]
        errors = []

        def work(chunk):
            conn = http.client.HTTPConnection(self.host, self.port)
            for body in chunk:
                conn.request("POST", "/v4/sources", json.dumps(body), self.headers)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)

        ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
        [t.start() for t in ts]
        [t.join() for t in ts]
        if errors:
            sys.exit("source creation failed: %r" % errors[:5])

    def jobs(self):
        con = sqlite3.connect(self.db)
        rows = con.execute(
            "SELECT scheduled_for, spawned_at FROM jobs WHERE trigger = 'scheduled' AND spawned_at IS NOT NULL").fetchall()
        con.close()
        return [(parse(a), parse(b)) for a, b in rows]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.runtime, ignore_errors=True)


def lateness(binary, n, duration):
    d = Daemon(binary, rate=100000)
    try:
        t0 = time.time()
        d.create_sources([{"type": "bench.true", "display_name": "s%d" % i,
                           "properties": {"cron_expression": "%d * * ? * *" % (i % 60)}} for i in range(n)])
        created = time.time()
        print("created %d sources in %.1f s (%.0f/s through the API)" % (n, created - t0, n / (created - t0)))
        time.sleep(duration)
        jobs = [j for j in d.jobs() if j[0] >= created]
        late = [(spawn - due) * 1000 for due, spawn in jobs]
        print("lateness over %d scheduled jobs in %d s (due -> both processes spawned):" % (len(late), duration))
        for p in (50, 90, 99, 99.9):
            print("  p%-5s %8.2f ms" % (p, percentile(late, p)))
        print("  max    %8.2f ms" % max(late))
        return late
    finally:
        d.stop()


def burst(binary, n):
    d = Daemon(binary, rate=1000000)
    try:
        # All sources fire at the same second: the next minute boundary at least 20 s away.
        now = time.time()
        minute = int(now // 60 * 60 + 60)
        if minute - now < 20 + n / 500:
            minute += 60
        second_of = time.gmtime(minute)
        cron = "0 %d %d ? * *" % (second_of.tm_min, second_of.tm_hour)
        d.create_sources([{"type": "bench.true", "display_name": "b%d" % i, "properties": {"cron_expression": cron}}
                          for i in range(n)])
        time.sleep(max(0, minute - time.time()) + 10 + n / 500)
        jobs = d.jobs()
        spawns = sorted(s for _, s in jobs)
        span = spawns[-1] - spawns[0]
        rate = len(spawns) / span if span > 0 else float("inf")
        print("burst: %d sources due at once; %d spawned in %.2f s: %.0f jobs/s sustained" % (n, len(spawns), span, rate))
        late = [(s - due) * 1000 for due, s in jobs]
        print("  lateness in the burst: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (percentile(late, 50), percentile(late, 99), max(late)))
        return rate
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=180)
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "../../.build/release/tapline"))
    args = ap.parse_args()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown cpu")
    print("machine: %d cores, %s" % (os.cpu_count(), model))
    lateness(args.binary, args.sources, args.duration)
    burst(args.binary, args.burst)


if __name__ == "__main__":
    main()
