#!/usr/bin/env python3
"""The console under load, each figure beside its peer from the same run.

  page     GET /ui (the sources list, first page, 50 rows) with --sources sources, one client in
           a loop: warm (the shared list read reused) and cold (a change committed before each
           request, so every page reads the list again); beside it the API's GET
           /v4/sources/{id} from the same client, the cheapest authenticated read.
  variants the same page sorted by next run, searched, and deep in the paging.
  tabs     pause acknowledgement (PUT paused_at, 20 pauses and unpauses a second from one
           client) with no console open, then with --tabs live consoles open: each holds the
           server-sent event stream and fetches the page again on every event, as the page's
           script does. The ratio of the two p99s is what live consoles cost a pause.

Usage: scripts/bench/console.py [--sources 10000] [--requests 400] [--tabs 32] [--duration 20] [--binary PATH]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, machine, percentile  # noqa: E402


def sign_in(d):
    """A console session: its cookie and the page's CSRF token."""
    conn = d.connection()
    origin = "http://%s:%d" % (d.host, d.port)
    body = urllib.parse.urlencode({"token": d.token, "next": "/ui"})
    conn.request("POST", "/ui/signin", body, {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin})
    r = conn.getresponse()
    r.read()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    conn.close()
    return cookie


def timed_gets(d, path, headers, n, before=None):
    conn = d.connection(60)
    times = []
    for i in range(n):
        if before:
            before(i)
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            sys.exit("GET %s answered %d" % (path, r.status))
    conn.close()
    return times


def line(label, times):
    print("  %-44s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms" % (
        label, percentile(times, 50), percentile(times, 99), max(times)))


def measure_pauses(d, sources, duration, results):
    conn = d.connection()
    pauses = []
    begin = time.time()
    n = 0
    while time.time() - begin < duration:
        source = 1 + (n * 13) % sources
        for body in ({"paused_at": "2026-01-01T00:00:00Z"}, {"paused_at": None}):
            t0 = time.perf_counter()
            conn.request("PUT", "/v4/sources/%d" % source, json.dumps(body), d.headers)
            r = conn.getresponse()
            r.read()
            if body["paused_at"]:
                pauses.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                results.put(("error", "PUT answered %d" % r.status))
                return
        n += 1
        time.sleep(0.05)
    results.put(("ok", pauses))


def tab(d, cookie, stop, fetched, events):
    """One open console: the event stream, and a fetch of the page after each event."""
    stream = d.connection(30)
    stream.request("GET", "/ui/events", headers={"Cookie": cookie, "Accept": "text/event-stream"})
    r = stream.getresponse()
    if r.status != 200:
        with events.get_lock():
            events.value -= 1_000_000
        return
    page = d.connection(60)
    buffer = b""
    while not stop.is_set():
        try:
            chunk = r.fp.read1(4096)
        except Exception:
            break
        if not chunk:
            break
        buffer += chunk
        if b"event: changed" in buffer:
            buffer = b""
            with events.get_lock():
                events.value += 1
            page.request("GET", "/ui", headers={"Cookie": cookie, "Accept": "text/html"})
            p = page.getresponse()
            p.read()
            with fetched.get_lock():
                fetched.value += 1
    stream.close()
    page.close()


def tabs_process(d, cookie, count, stop, fetched, events):
    threads = [threading.Thread(target=tab, args=(d, cookie, stop, fetched, events), daemon=True) for _ in range(count)]
    [t.start() for t in threads]
    stop.wait()
    time.sleep(0.5)


def pause_run(d, mp, sources, duration):
    results = mp.Queue()
    p = mp.Process(target=measure_pauses, args=(d, sources, duration, results))
    p.start()
    kind, value = results.get()
    p.join()
    if kind != "ok":
        sys.exit(value)
    return value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--tabs", type=int, default=32)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    d = Daemon(binary, TRUE_PIPELINE)
    try:
        d.create_sources([{"type": "bench.true", "display_name": "source %05d" % i,
                           "properties": {"cron_expression": "0 0 0 1 1 ?"}} for i in range(args.sources)])
        cookie = sign_in(d)
        page_headers = {"Cookie": cookie, "Accept": "text/html"}
        timed_gets(d, "/ui", page_headers, 20)  # warm up
        print("sources page, %d sources, %d requests each:" % (args.sources, args.requests))
        warm = timed_gets(d, "/ui", page_headers, args.requests)
        line("GET /ui (warm: the list read shared)", warm)
        change = d.connection()

        def commit(i):
            change.request("PUT", "/v4/sources/%d" % (1 + i % args.sources), json.dumps({"display_name": "source %05d" % (i % args.sources)}), d.headers)
            change.getresponse().read()
        cold = timed_gets(d, "/ui", page_headers, args.requests, before=commit)
        line("GET /ui (cold: a change before each)", cold)
        for label, path in (("GET /ui?sort=next", "/ui?sort=next"), ("GET /ui?q=source+0042", "/ui?q=source+0042"),
                            ("GET /ui?page=150", "/ui?page=150"), ("GET /ui?state=paused", "/ui?state=paused")):
            line(label + " (cold)", timed_gets(d, path, page_headers, args.requests // 4, before=commit))
        api = timed_gets(d, "/v4/sources/1", d.headers, args.requests)
        line("peer: GET /v4/sources/1", api)
        print("GET /ui cold p99 / 50 ms target: %.2f" % (percentile(cold, 99) / 50))

        mp = multiprocessing.get_context("fork")
        alone = pause_run(d, mp, args.sources, args.duration)
        stop = mp.Event()
        fetched, events = mp.Value("q", 0), mp.Value("q", 0)
        per = max(1, args.tabs // 4)
        procs = [mp.Process(target=tabs_process, args=(d, cookie, per if k < 3 else args.tabs - 3 * per, stop, fetched, events))
                 for k in range(4)]
        [p.start() for p in procs]
        time.sleep(2)
        f0 = fetched.value
        begin = time.time()
        watched = pause_run(d, mp, args.sources, args.duration)
        elapsed = time.time() - begin
        page_rate = (fetched.value - f0) / elapsed
        stop.set()
        [p.join(timeout=5) for p in procs]
        [p.terminate() for p in procs if p.is_alive()]
        if events.value < 0:
            print("  (some tabs were refused a live stream: over the cap)")
        print("pause acknowledgement, %d pauses each:" % len(alone))
        line("no console open", alone)
        line("%d live consoles (%.0f page fetches/s)" % (args.tabs, page_rate), watched)
        print("p99 with consoles / without: %.2f (target < 1.10)" % (percentile(watched, 99) / percentile(alone, 99)))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
