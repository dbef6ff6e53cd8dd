#!/usr/bin/env python3
"""Start lateness side by side with Debian's cron: --entries crontab lines and as many tapline
sources fire in the same minutes, each running the same small C program that appends its start
time (CLOCK_REALTIME) to a file. Lateness = that time minus the minute boundary it was due at.

Installs cron with apt-get when missing, runs its daemon in the foreground for the measurement
(root's crontab is saved and restored), and prints both distributions and cron p50 / tapline p50.

Usage: scripts/bench/cron_peer.py [--entries 1000] [--minutes 2] [--binary PATH]   (as root)
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import Daemon, binary_path, machine, percentile  # noqa: E402

STAMP_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
/* Appends "<seconds>.<nanoseconds>\n" of CLOCK_REALTIME to argv[1], first thing. */
int main(int argc, char **argv) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (argc < 2) return 2;
    char line[64];
    int n = snprintf(line, sizeof line, "%lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return 1;
    write(fd, line, n);
    close(fd);
    return 0;
}
"""


def lateness(path, first_minute):
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        t = float(line)
        due = int(t // 60 * 60)
        if due >= first_minute:
            out.append((t - due) * 1000)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--minutes", type=int, default=2)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: cron's daemon and root's crontab are used")
    if not os.path.exists("/usr/sbin/cron"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "cron"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    work = tempfile.mkdtemp(prefix="tapline-cron-")
    stamp = os.path.join(work, "stamp")
    with open(stamp + ".c", "w") as f:
        f.write(STAMP_C)
    subprocess.run(["gcc", "-O2", "-o", stamp, stamp + ".c"], check=True)
    cron_out, tapline_out = os.path.join(work, "cron.out"), os.path.join(work, "tapline.out")

    saved = subprocess.run(["crontab", "-l"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    table = os.path.join(work, "crontab")
    with open(table, "w") as f:
        for _ in range(args.entries):
            f.write("* * * * * %s %s\n" % (stamp, cron_out))
    subprocess.run(["crontab", table], check=True)
    cron = subprocess.Popen(["/usr/sbin/cron", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    d = Daemon(binary, """
scheduler:
  starts_per_second: 100000
  max_running_jobs: 20000
destination:
  target: ["true"]
  config: {}
source_types:
  - type: bench.stamp
    tap: ["%s", "%s"]
""" % (stamp, tapline_out))
    try:
        d.create_sources([{"type": "bench.stamp", "display_name": "c%d" % i,
                           "properties": {"cron_expression": "0 * * ? * *"}} for i in range(args.entries)])
        # Measure from the first minute boundary both have fully set up for (cron reads crontabs
        # once a minute): skip the next boundary, then take --minutes boundaries.
        first = int(time.time() // 60 * 60) + 120
        time.sleep(first + 60 * (args.minutes - 1) + 20 - time.time())
        cron_late = lateness(cron_out, first)
        tap_late = lateness(tapline_out, first)
    finally:
        d.stop()
        cron.send_signal(signal.SIGTERM)
        cron.wait()
        if saved.returncode == 0:
            subprocess.run(["crontab", "-"], input=saved.stdout, text=True, check=True)
        else:
            subprocess.run(["crontab", "-r"], stderr=subprocess.DEVNULL)
    print("%d entries each, %d minute boundaries (every job started by the same C program):" % (args.entries, args.minutes))
    for name, late in (("cron", cron_late), ("tapline", tap_late)):
        print("  %-8s %5d starts: p50 %8.1f ms  p90 %8.1f ms  p99 %8.1f ms  max %8.1f ms"
              % (name, len(late), percentile(late, 50), percentile(late, 90), percentile(late, 99), max(late or [0])))
    if cron_late and tap_late:
        print("cron p50 / tapline p50 = %.1fx" % (percentile(cron_late, 50) / percentile(tap_late, 50)))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
