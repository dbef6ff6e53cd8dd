#!/usr/bin/env python3
"""The floor under start lateness: how late the last of N tap+target pairs is when a C program
does nothing but spawn them, on as many threads as there are cores, the instant they are due.

tapline's start lateness for N jobs due in the same second cannot be lower than this on the
same machine: each job is two processes that must be created and exec'd (and that then run and
exit on the same cores). Prints the floor's percentiles for --pairs pairs of `true`, repeated
--rounds times one second apart, so it can be set beside scripts/bench/scheduler.py's figures.

Usage: scripts/bench/spawn_floor.py [--pairs 167] [--rounds 30]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import machine, percentile  # noqa: E402

FLOOR_C = r"""
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static int pairs, threads;
static double start, *done;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void *work(void *arg) {
    long k = (long)arg;
    char *argv[] = {"true", NULL};
    for (int i = k; i < pairs; i += threads) {
        pid_t a, b;
        posix_spawnp(&a, "true", NULL, NULL, argv, environ);
        posix_spawnp(&b, "true", NULL, NULL, argv, environ);
        done[i] = now() - start;
    }
    return NULL;
}
int main(int argc, char **argv) {
    pairs = atoi(argv[1]);
    int rounds = atoi(argv[2]);
    threads = sysconf(_SC_NPROCESSORS_ONLN);
    done = calloc(pairs, sizeof(double));
    pthread_t t[64];
    for (int r = 0; r < rounds; r++) {
        start = now();
        for (long k = 0; k < threads; k++) pthread_create(&t[k], NULL, work, (void *)k);
        for (int k = 0; k < threads; k++) pthread_join(t[k], NULL);
        for (int i = 0; i < pairs; i++) printf("%.3f\n", done[i] * 1000);
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        double next = start + 1;
        while (now() < next) { while (waitpid(-1, NULL, WNOHANG) > 0) {} usleep(1000); }
    }
    while (wait(NULL) > 0) {}
    return 0;
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=167)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tapline-floor-")
    source, binary = os.path.join(work, "floor.c"), os.path.join(work, "floor")
    open(source, "w").write(FLOOR_C)
    subprocess.run(["gcc", "-O2", "-pthread", "-o", binary, source], check=True)
    out = subprocess.run([binary, str(args.pairs), str(args.rounds)], check=True, stdout=subprocess.PIPE, text=True).stdout
    late = [float(x) for x in out.split()]
    print("machine: %s" % machine())
    print("floor: %d pairs of `true` spawned at once by C on %d threads, %d rounds (due -> both spawned):"
          % (args.pairs, os.cpu_count(), args.rounds))
    for p in (50, 90, 99, 99.9):
        print("  p%-5s %8.2f ms" % (p, percentile(late, p)))
    print("  max    %8.2f ms" % max(late))


if __name__ == "__main__":
    main()
