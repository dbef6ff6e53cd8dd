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
  floor       between those calls, the same client commits one durable SQLite transaction
              (WAL, synchronous=FULL, BEGIN IMMEDIATE; UPDATE; COMMIT) to a database of its own
              on the daemon's file system: what any acknowledged-means-durable pause costs here
              at least, under the same load at the same moments.

Each part runs in its own process: a measuring thread that shares an interpreter with busy
load threads waits for the GIL (switch interval 5 ms) after its answer has arrived, which
would be measured as the daemon's latency.

--idle gives the sources a yearly schedule (no job starts), to measure against readers alone.

Usage: scripts/bench/pause_ack.py [--rate 1000] [--sources 2000] [--duration 30] [--list-readers 0] [--idle] [--binary PATH]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import sqlite3
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
        with done.get_lock():
            done.value += 1
        time.sleep(max(0, 1.0 / rate - (time.time() - started)))
    conn.close()


def list_reader(d, stop, lists, size):
    conn = d.connection(120)
    while not stop.is_set():
        conn.request("GET", "/v4/sources", headers=d.headers)
        r = conn.getresponse()
        size.value = len(r.read())
        with lists.get_lock():
            lists.value += 1
    conn.close()


def load_process(targets):
    """Runs (function, args) pairs as threads of one process until each returns."""
    threads = [threading.Thread(target=f, args=a) for f, a in targets]
    [t.start() for t in threads]
    [t.join() for t in threads]


def floor_database(directory):
    db = sqlite3.connect(os.path.join(directory, "floor.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS sources (id INTEGER PRIMARY KEY, paused_at TEXT)")
    db.executemany("INSERT OR REPLACE INTO sources VALUES (?, NULL)", [(i,) for i in range(1, 2001)])
    return db


def floor_commit(db, source, paused):
    t0 = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE sources SET paused_at = ? WHERE id = ?", ("2026-01-01T00:00:00Z" if paused else None, source))
    db.execute("COMMIT")
    return (time.perf_counter() - t0) * 1000


def measure(d, sources, duration, results):
    """The measured client, alone in its process: pauses and unpauses 20 times a second, and
    commits the floor's transaction after each call."""
    conn = d.connection()
    floor = floor_database(d.dir)
    pauses, unpauses, floors = [], [], []
    begin = time.time()
    n = 0
    while time.time() - begin < duration:
        source = 1 + (n * 13) % sources
        for body, out in (({"paused_at": "2026-01-01T00:00:00Z"}, pauses), ({"paused_at": None}, unpauses)):
            t0 = time.perf_counter()
            conn.request("PUT", "/v4/sources/%d" % source, json.dumps(body), d.headers)
            r = conn.getresponse()
            r.read()
            out.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                results.put(("error", "PUT answered %d" % r.status))
                return
            floors.append(floor_commit(floor, source, out is pauses))
        n += 1
        time.sleep(0.05)
    results.put(("ok", (pauses, unpauses, floors)))


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
        mp = multiprocessing.get_context("fork")
        stop = mp.Event()
        counts = mp.Value("q", 0)
        lists, list_size = mp.Value("q", 0), mp.Value("q", 0)
        # Background clients: two processes of four threads each.
        workers = [mp.Process(target=load_process, args=([(background, (d, args.rate / 8, stop, counts, k, args.sources))
                                                         for k in range(half, 8, 2)],))
                   for half in (0, 1)]
        if args.list_readers:
            workers.append(mp.Process(target=load_process,
                                      args=([(list_reader, (d, stop, lists, list_size))] * args.list_readers,)))
        [w.start() for w in workers]
        time.sleep(2)
        bg_begin = counts.value
        jobs_begin = d.query("SELECT count(*) FROM jobs")[0][0]
        results = mp.Queue()
        measured = mp.Process(target=measure, args=(d, args.sources, args.duration, results))
        begin = time.time()
        measured.start()
        kind, value = results.get()
        measured.join()
        elapsed = time.time() - begin
        bg = counts.value - bg_begin
        jobs = d.query("SELECT count(*) FROM jobs")[0][0] - jobs_begin
        stop.set()
        [w.join() for w in workers]
        if kind != "ok":
            sys.exit(value)
        pauses, unpauses, floors = value
        print("background: %.0f requests/s; jobs started: %.0f/s" % (bg / elapsed, jobs / elapsed))
        if args.list_readers:
            print("full-list readers: %d, %d lists of %.1f MB served" % (args.list_readers, lists.value, list_size.value / 1e6))
        print("pause acknowledgement (PUT paused_at -> 200), %d pauses:" % len(pauses))
        for p in (50, 90, 99):
            print("  p%-3s %7.2f ms" % (p, percentile(pauses, p)))
        print("  max %7.2f ms" % max(pauses))
        print("unpause: p50 %.2f ms, p99 %.2f ms" % (percentile(unpauses, 50), percentile(unpauses, 99)))
        print("floor: one durable SQLite commit, %d commits:" % len(floors))
        print("  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (percentile(floors, 50), percentile(floors, 90), percentile(floors, 99), max(floors)))
        print("pause / floor: p50 %.2f, p99 %.2f"
              % (percentile(pauses, 50) / percentile(floors, 50), percentile(pauses, 99) / percentile(floors, 99)))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
