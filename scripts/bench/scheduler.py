#!/usr/bin/env python3
"""Whole-system scheduler benchmark for tapline (not a test: it prints numbers).

Two measurements against a release build of the real daemon, with a tap and a target that do
nothing (`true`), so what is measured is tapline itself:

  lateness  N sources on staggered every-minute cron schedules (source i fires at second i % 60),
            running for D seconds; start lateness = spawned_at - scheduled_for of every job.
  burst     N sources all due at the same instant, and the sustained start rate:
            jobs spawned / (last spawn - first spawn).

Usage: scripts/bench/scheduler.py [--sources 10000] [--duration 180] [--burst 5000] [--binary PATH]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, machine, parse_time, percentile  # noqa: E402


def config(rate):
    return "scheduler:\n  starts_per_second: %d\n  max_running_jobs: 20000\n" % rate + TRUE_PIPELINE


def lateness(binary, n, duration):
    d = Daemon(binary, config(100000))
    try:
        t0 = time.time()
        d.create_sources([{"type": "bench.true", "display_name": "s%d" % i,
                           "properties": {"cron_expression": "%d * * ? * *" % (i % 60)}} for i in range(n)])
        created = time.time()
        print("created %d sources in %.1f s (%.0f/s through the API)" % (n, created - t0, n / (created - t0)))
        time.sleep(duration)
        late = d.lateness_ms(created)
        print("lateness over %d scheduled jobs in %d s (due -> both processes spawned):" % (len(late), duration))
        for p in (50, 90, 99, 99.9):
            print("  p%-5s %8.2f ms" % (p, percentile(late, p)))
        print("  max    %8.2f ms" % max(late))
        return late
    finally:
        d.stop()


def burst(binary, n):
    d = Daemon(binary, config(1000000))
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
        rows = d.query("SELECT scheduled_for, spawned_at FROM jobs WHERE spawned_at IS NOT NULL")
        jobs = [(parse_time(a), parse_time(b)) for a, b in rows]
        spawns = sorted(s for _, s in jobs)
        span = spawns[-1] - spawns[0]
        rate = len(spawns) / span if span > 0 else float("inf")
        print("burst: %d sources due at once; %d spawned in %.2f s: %.0f jobs/s sustained" % (n, len(spawns), span, rate))
        late = [(s - due) * 1000 for due, s in jobs]
        print("  lateness in the burst: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (percentile(late, 50), percentile(late, 99), max(late)))
        return rate
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=180)
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    if args.sources:
        lateness(binary, args.sources, args.duration)
    if args.burst:
        burst(binary, args.burst)


if __name__ == "__main__":
    main()
