#!/usr/bin/env python3
"""Job starts with 1, 2 and 3 tapline nodes on one PostgreSQL, each against the SQLite single
node in the same run (not a test: it prints numbers). Taps and targets do nothing (`true`).

  lateness  N sources on staggered every-minute cron schedules (source i fires at second
            i % 60) for D seconds: spawned_at - scheduled_for of every scheduled job; meanwhile
            a client pauses and unpauses one source through the first node 10 times a second
            and times each acknowledgement.
  burst     M sources all due at the same instant: jobs spawned / (last spawn - first spawn).

Usage: scripts/bench/cluster.py [--sources 1200] [--duration 65] [--burst 2000] [--nodes 1,2,3] [--binary PATH]
"""
import argparse
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tapline_pg  # noqa: E402
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, machine, parse_time, percentile  # noqa: E402

SCHEDULER = "scheduler:\n  starts_per_second: 1000000\n  max_running_jobs: 20000\n"


class Setup:
    """The SQLite single node (`nodes == 0`) or `nodes` nodes on a fresh database."""

    def __init__(self, binary, pg, nodes, label):
        self.pg, self.label = pg, label
        self.database = None
        if nodes == 0:
            self.daemons = [Daemon(binary, SCHEDULER + TRUE_PIPELINE)]
            return
        self.database = "bench_%s" % label.replace(" ", "_")
        pg.psql("postgres", "CREATE DATABASE %s" % self.database)
        secrets = tapline_pg.node_secrets(pg, tempfile.mkdtemp(prefix="tapline-bench-secrets-"))
        self.daemons = []
        for i in range(nodes):
            name = "n%d" % (i + 1)
            config = SCHEDULER + TRUE_PIPELINE + tapline_pg.node_yaml(pg, self.database, name, secrets)
            self.daemons.append(Daemon(binary, config, state=tapline_pg.node_state(name, secrets), ready_timeout=90))

    def jobs(self):
        """(scheduled_for, spawned_at) of every spawned scheduled job, as epoch seconds."""
        if self.database is None:
            rows = self.daemons[0].query(
                "SELECT scheduled_for, spawned_at FROM jobs WHERE trigger = 'scheduled' AND spawned_at IS NOT NULL")
            return [(parse_time(a), parse_time(b)) for a, b in rows]
        out = self.pg.psql(self.database, "SELECT extract(epoch FROM scheduled_for), extract(epoch FROM spawned_at) FROM jobs"
                                          " WHERE trigger = 'scheduled' AND spawned_at IS NOT NULL")
        return [tuple(float(x) for x in line.split("|")) for line in out.splitlines()]

    def create(self, bodies):
        # Spread over the nodes, as clients of a cluster would.
        for i, daemon in enumerate(self.daemons):
            daemon.create_sources(bodies[i::len(self.daemons)], threads=4)

    def stop(self):
        for daemon in self.daemons:
            daemon.stop()


def pauser(daemon, source_id, stop, acks):
    conn = daemon.connection(10)
    import json
    paused = False
    while not stop.is_set():
        body = json.dumps({"paused_at": None if paused else "2026-01-01T00:00:00Z"})
        t = time.monotonic()
        conn.request("PUT", "/v4/sources/%d" % source_id, body, daemon.headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            acks.append((time.monotonic() - t) * 1000)
        paused = not paused
        time.sleep(0.1)
    conn.close()


def lateness(setup, n, duration):
    setup.create([{"type": "bench.true", "display_name": "s%d" % i,
                   "properties": {"cron_expression": "%d * * ? * *" % (i % 60)}} for i in range(n)])
    created = time.time()
    status, body = setup.daemons[0].call("POST", "/v4/sources", {"type": "bench.true", "display_name": "paused-one",
                                                                 "properties": {"cron_expression": "0 0 3 1 1 ?"}})
    stop, acks = threading.Event(), []
    thread = threading.Thread(target=pauser, args=(setup.daemons[0], body["id"], stop, acks))
    thread.start()
    time.sleep(duration)
    stop.set()
    thread.join()
    late = [(b - a) * 1000 for a, b in setup.jobs() if a >= created]
    return late, acks


def burst(setup, n):
    now = time.time()
    minute = int(now // 60 * 60 + 60)
    if minute - now < 20 + n / 200:
        minute += 60
    at = time.gmtime(minute)
    cron = "0 %d %d ? * *" % (at.tm_min, at.tm_hour)
    before = len(setup.jobs())
    setup.create([{"type": "bench.true", "display_name": "b%d" % i, "properties": {"cron_expression": cron}} for i in range(n)])
    time.sleep(max(0, minute - time.time()) + 10 + n / 200)
    jobs = [j for j in setup.jobs() if abs(j[0] - minute) < 1]
    spawns = sorted(s for _, s in jobs)
    span = spawns[-1] - spawns[0] if len(spawns) > 1 else 0
    late = [(s - due) * 1000 for due, s in jobs]
    return len(spawns), span, late, before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=1200)
    ap.add_argument("--duration", type=int, default=65)
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--nodes", default="1,2,3")
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s; binary: %s" % (machine(), binary))
    pg = tapline_pg.Cluster()
    try:
        for nodes in [0] + [int(x) for x in args.nodes.split(",")]:
            label = "sqlite" if nodes == 0 else "pg %d node%s" % (nodes, "s" if nodes > 1 else "")
            setup = Setup(binary, pg, nodes, label)
            try:
                late, acks = lateness(setup, args.sources, args.duration)
                print("%-12s lateness of %d jobs (%d sources, %d s): p50 %.1f ms, p99 %.1f ms, max %.1f ms;"
                      " pause ack through node 1 (%d): p50 %.1f ms, p99 %.1f ms"
                      % (label, len(late), args.sources, args.duration, percentile(late, 50), percentile(late, 99), max(late),
                         len(acks), percentile(acks, 50), percentile(acks, 99)), flush=True)
            finally:
                setup.stop()
            setup = Setup(binary, pg, nodes, label + " burst")
            try:
                count, span, late, _ = burst(setup, args.burst)
                print("%-12s burst of %d due at once: %d spawned in %.2f s = %.0f jobs/s; lateness p50 %.0f ms, p99 %.0f ms"
                      % (label, args.burst, count, span, count / span if span else float("inf"),
                         percentile(late, 50), percentile(late, 99)), flush=True)
            finally:
                setup.stop()
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
