#!/usr/bin/env python3
"""Scale: 100,000 sources in one daemon. Creates them through the API (yearly cron schedules,
so none fires during the measurement), restarts the daemon, and measures:

  boot to READY  from exec to sd_notify READY=1 (a notify socket, as systemd provides), which
                 tapline sends after migrations, the boot sweep, loading every source into the
                 due-queue, and the listener being up;
  RSS            after READY, and after --idle seconds;
  idle CPU       over --idle seconds with nothing due.

Usage: scripts/bench/scale.py [--sources 100000] [--idle 30] [--binary PATH]
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import TRUE_PIPELINE, Daemon, binary_path, cpu_seconds, machine, rss_kb  # noqa: E402


def rss_mb(pid):
    return rss_kb(pid) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=100000)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    d = Daemon(binary, TRUE_PIPELINE)
    t0 = time.time()
    # Spread over the days of the year, so the due-queue holds 100,000 distinct times.
    d.create_sources([{"type": "bench.true", "display_name": "x%d" % i,
                       "properties": {"cron_expression": "%d %d %d %d %d ? *" % (i % 60, i // 60 % 60, i // 3600 % 24,
                                                                                1 + i // 86400 % 28, 1 + i % 12)}}
                      for i in range(args.sources)])
    print("created %d sources in %.1f s through the API" % (args.sources, time.time() - t0), flush=True)
    d.stop(keep=True)
    print("database: %.1f MB" % (os.path.getsize(d.db) / 1e6))

    notify_path = os.path.join(tempfile.mkdtemp(prefix="tapline-notify-"), "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(120)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, RUNTIME_DIRECTORY=d.runtime)
    os.makedirs(d.runtime, exist_ok=True)
    log = open(d.log_path, "a")
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--config", d.config_path, "--state-dir", d.state],
                            stdout=log, stderr=log, env=env)
    try:
        while True:
            message = notify.recv(4096).decode()
            if "READY=1" in message.split("\n"):
                ready = time.perf_counter() - started
                break
        rss_ready = rss_mb(proc.pid)
        cpu0, t = cpu_seconds(proc.pid), time.time()
        time.sleep(args.idle)
        idle_cpu = 100.0 * (cpu_seconds(proc.pid) - cpu0) / (time.time() - t)
        rss_idle = rss_mb(proc.pid)
        print("%d sources: boot to READY %.0f ms; RSS %.1f MB at READY, %.1f MB after %.0f s idle; idle CPU %.2f %%"
              % (args.sources, ready * 1000, rss_ready, rss_idle, args.idle, idle_cpu))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
        shutil.rmtree(d.dir, ignore_errors=True)
        shutil.rmtree(d.runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
