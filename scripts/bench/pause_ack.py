#!/usr/bin/env python3
"""Pause acknowledgement under load: how long `PUT /v4/sources/{id}` with paused_at takes to
answer (the moment the pause is in force) while the API serves a steady background load and
scheduled jobs start.

  background  --rate requests/s over 8 keep-alive clients (GET one source, GET the list page of
              jobs, PUT a display name), measured and printed;
  jobs        --sources every-minute sources, staggered by second, start `true | true` jobs;
  readers     --list-readers clients each fetching the whole source list (GET /v4/sources) in
              a loop, the heaviest request there is;
  measured    one client pausing and unpausing its own sources 20 times a second.

--idle gives the sources a yearly schedule (no job starts), to measure against readers alone.

Usage: scripts/bench/pause_ack.py [--rate 1000] [--sources 2000] [--duration 30] [--list-readers 0] [--idle] [--binary PATH]
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, machine, percentile  # noqa: E402


def background(d, rate, stop, done, seed, sources):
    conn = d.connection()
    i = seed
    while not stop.is_set():
        started = time.time()
        i += 7
        source = 1 + i % sources
        kind = i % 10
        if kind < 7:
            conn.request("GET", "/v4/sources/%d" % source, headers=d.headers)
        elif kind < 9:
            conn.request("GET", "/v4/sources/%d/jobs" % source, headers=d.headers)
        else:
            conn.request("PUT", "/v4/sources/%d" % source, json.dumps({"display_name": "bg %d" % i}), d.headers)
        r = conn.getresponse()
        r.read()
        done[0] += 1
        time.sleep(max(0, 1.0 / rate - (time.time() - started)))
    conn.close()


def list_reader(d, stop, done):
    conn = d.connection(120)
    while not stop.is_set():
        conn.request("GET", "/v4/sources", headers=d.headers)
        r = conn.getresponse()
        size = len(r.read())
        done.append(size)
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--sources", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--list-readers", type=int, default=0)
    ap.add_argument("--idle", action="store_true")
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    d = Daemon(binary, "scheduler:\n  starts_per_second: 10000\n" + TRUE_PIPELINE)
    try:
        d.create_sources([{"type": "bench.true", "display_name": "p%d" % i,
                           "properties": {"cron_expression": "0 0 0 1 1 ?" if args.idle else "%d * * ? * *" % (i % 60)}}
                          for i in range(args.sources)])
        stop = threading.Event()
        counts = [[0] for _ in range(8)]
        threads = [threading.Thread(target=background, args=(d, args.rate / 8, stop, counts[k], k, args.sources))
                   for k in range(8)]
        lists = []
        threads += [threading.Thread(target=list_reader, args=(d, stop, lists)) for _ in range(args.list_readers)]
        [t.start() for t in threads]
        time.sleep(2)
        conn = d.connection()
        pauses, unpauses = [], []
        begin = time.time()
        bg_begin = sum(c[0] for c in counts)
        jobs_begin = d.query("SELECT count(*) FROM jobs")[0][0]
        n = 0
        while time.time() - begin < args.duration:
            source = 1 + (n * 13) % args.sources
            for body, out in (({"paused_at": "2026-01-01T00:00:00Z"}, pauses), ({"paused_at": None}, unpauses)):
                t0 = time.perf_counter()
                conn.request("PUT", "/v4/sources/%d" % source, json.dumps(body), d.headers)
                r = conn.getresponse()
                r.read()
                out.append((time.perf_counter() - t0) * 1000)
                if r.status != 200:
                    sys.exit("PUT answered %d" % r.status)
            n += 1
            time.sleep(0.05)
        elapsed = time.time() - begin
        bg = sum(c[0] for c in counts) - bg_begin
        jobs = d.query("SELECT count(*) FROM jobs")[0][0] - jobs_begin
        stop.set()
        [t.join() for t in threads]
        print("background: %.0f requests/s; jobs started: %.0f/s" % (bg / elapsed, jobs / elapsed))
        if args.list_readers:
            print("full-list readers: %d, %d lists of %.1f MB served" % (args.list_readers, len(lists), (lists[-1] if lists else 0) / 1e6))
        print("pause acknowledgement (PUT paused_at -> 200), %d pauses:" % len(pauses))
        for p in (50, 90, 99):
            print("  p%-3s %7.2f ms" % (p, percentile(pauses, p)))
        print("  max %7.2f ms" % max(pauses))
        print("unpause: p50 %.2f ms, p99 %.2f ms" % (percentile(unpauses, 50), percentile(unpauses, 99)))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
