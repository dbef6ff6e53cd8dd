#!/usr/bin/env python3
"""API throughput: wrk on GET /v4/sources/{id} over loopback (32 connections, 2 threads).

Installs wrk with apt-get when it is missing. Prints wrk's requests/s and latency percentiles.
Usage: scripts/bench/api.py [--connections 32] [--duration 15] [--binary PATH]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import Daemon, binary_path, machine  # noqa: E402


def ensure(command, package):
    if shutil.which(command) is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    ensure("wrk", "wrk")
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    d = Daemon(binary)
    try:
        status, _ = d.call("POST", "/v4/sources", {"type": "platform.demo", "display_name": "Wrk target",
                                                   "properties": {"frequency_in_minutes": "1440"}})
        assert status == 200
        out = subprocess.run(
            ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % args.duration, "--latency",
             "-H", "Authorization: Bearer " + d.token, "http://%s:%d/v4/sources/1" % (d.host, d.port)],
            check=True, stdout=subprocess.PIPE, text=True).stdout
        print(out.replace(d.token, "<token>"))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
        value = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print("GET /v4/sources/1: %.0f requests/s, p99 %.2f ms, non-2xx %s" % (rps, value, errors.group(1) if errors else 0))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
