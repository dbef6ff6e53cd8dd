#!/usr/bin/env python3
"""Database growth from job history, with retention off and on (not a test: it prints numbers).

N sources on every-second cron schedules run do-nothing jobs for D seconds, once with history
kept forever (jobs.history_days 0, jobs.history_per_source 0) and once with a per-source cap.
Reports jobs run, jobs rows left, database bytes, bytes per job row, and what that means per day
at 10,000 sources every minute (14.4 M jobs a day).

Usage: scripts/bench/history.py [--sources 200] [--duration 60] [--keep 20] [--binary PATH]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, machine  # noqa: E402

PER_DAY = 10000 * 1440


def run(binary, n, duration, days, keep):
    config = TRUE_PIPELINE + "jobs:\n  history_days: %s\n  history_per_source: %d\n  logs_per_source: 5\n" % (days, keep)
    d = Daemon(binary, config)
    try:
        d.create_sources([{"type": "bench.true", "display_name": "s%d" % i, "properties": {"cron_expression": "* * * ? * *"}}
                          for i in range(n)])
        time.sleep(duration)
        # Stop the schedules, then let the pruner (every 60 s) take its turn.
        for i in range(n):
            d.call("PUT", "/v4/sources/%d" % (i + 1), {"paused_at": "2026-01-01T00:00:00Z"})
        time.sleep(65 if keep else 2)
        jobs = d.query("SELECT count(*) FROM jobs")[0][0]
        ran = d.query("SELECT max(id) FROM jobs")[0][0] or 0
        d.query("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = d.query("PRAGMA page_count")[0][0] * d.query("PRAGMA page_size")[0][0]
        free = d.query("PRAGMA freelist_count")[0][0] * d.query("PRAGMA page_size")[0][0]
        return ran, jobs, pages, free
    finally:
        d.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--keep", type=int, default=20)
    parser.add_argument("--binary", default=None)
    args = parser.parse_args()
    binary = args.binary or binary_path("release")
    print("history: %s; %d sources every second for %d s" % (machine(), args.sources, args.duration))
    ran, rows, size, free = run(binary, args.sources, args.duration, 0, 0)
    per_row = (size - free) / max(rows, 1)
    print("  kept forever: %d jobs ran, %d rows, %.1f MB, %.0f bytes per job row" % (ran, rows, size / 1e6, per_row))
    print("  -> at 10,000 sources every minute: +%.1f GB a day, without bound" % (per_row * PER_DAY / 1e9))
    ran, rows, size, free = run(binary, args.sources, args.duration, 60, args.keep)
    print("  history_per_source %d: %d jobs ran, %d rows left (cap %d), %.1f MB file (%.1f MB free pages reused)"
          % (args.keep, ran, rows, args.sources * args.keep, size / 1e6, free / 1e6))
    cap = 10000 * 1000
    print("  -> at 10,000 sources every minute with the defaults (1000 per source, 60 days): at most %d rows, about %.1f GB, reached in %.0f h, then flat"
          % (cap, per_row * cap / 1e9, 1000 / 60))


if __name__ == "__main__":
    main()
