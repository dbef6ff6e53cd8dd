"""Shared helpers for tapline's whole-system scripts (hostile clients, soak, benchmarks):
start a real daemon on a private state directory, call its API, read its database."""
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A source type and destination whose tap and target do nothing: what is measured is tapline.
TRUE_PIPELINE = """
destination:
  target: ["true"]
  config: {}
source_types:
  - type: bench.true
    tap: ["true"]
"""


def binary_path(kind="debug"):
    """The tapline binary of this checkout, built first when missing."""
    path = os.path.join(ROOT, ".build", kind, "tapline")
    if not os.path.exists(path):
        args = ["swift", "build", "--package-path", ROOT, "--product", "tapline"]
        if kind == "release":
            args += ["-c", "release"]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return path


def parse_time(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    f, c = int(k), min(int(k) + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown cpu")
    return "%d cores, %s" % (os.cpu_count(), model)


def job_processes():
    """pid -> TAPLINE_JOB_NAME for every live process of a tapline job."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = open("/proc/%s/environ" % entry, "rb").read().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"TAPLINE_JOB_NAME="):
                found[int(entry)] = item.split(b"=", 1)[1].decode()
    return found


class Daemon:
    """A tapline daemon on 127.0.0.1 with an ephemeral port, job directories on /dev/shm (as
    under systemd's RuntimeDirectory=), stderr kept in <dir>/daemon.log.

    `state`: an existing state directory to run on (a restart after `kill()`); it is kept by
    `stop()`. `runtime_dir=False` leaves job directories under the state directory, so a
    restart sees the ones a killed life left."""

    def __init__(self, binary, config="", env=None, ready_timeout=60, state=None, runtime_dir=True):
        self.dir = tempfile.mkdtemp(prefix="tapline-script-")
        self.state = state or os.path.join(self.dir, "state")
        self.config_path = os.path.join(self.dir, "tapline.yaml")
        with open(self.config_path, "w") as f:
            f.write("listen: 127.0.0.1:0\nlog_level: warning\n" + config)
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.log = open(self.log_path, "w")
        try:
            os.remove(os.path.join(self.state, "http.address"))  # a killed life's address is stale
        except FileNotFoundError:
            pass
        environment = dict(os.environ)
        self.runtime = None
        if runtime_dir:
            self.runtime = tempfile.mkdtemp(prefix="tapline-script-run-", dir="/dev/shm")
            environment["RUNTIME_DIRECTORY"] = self.runtime
        environment.update(env or {})
        self.started = time.time()
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", self.config_path, "--state-dir", self.state],
            stdout=self.log, stderr=self.log, env=environment)
        address = os.path.join(self.state, "http.address")
        deadline = time.time() + ready_timeout
        while not (os.path.exists(address) and open(address).read().endswith("\n")):
            if self.proc.poll() is not None:
                sys.exit("tapline exited with %s; log:\n%s" % (self.proc.returncode, open(self.log_path).read()))
            if time.time() > deadline:
                sys.exit("tapline did not start within %d s" % ready_timeout)
            time.sleep(0.01)
        self.ready_seconds = time.time() - self.started
        host, port = open(address).read().strip().rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.token = [l for l in open(os.path.join(self.state, "token")) if not l.startswith("#")][0].strip()
        self.headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        self.db = os.path.join(self.state, "tapline.db")

    def connection(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method, path, body=None, timeout=10):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, self.headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            conn.close()

    def create_sources(self, bodies, threads=8):
        """POSTs every body over keep-alive connections; exits on any non-200."""
        chunks = [bodies[i::threads] for i in range(threads)]
        errors = []

        def work(chunk):
            conn = self.connection(60)
            for body in chunk:
                conn.request("POST", "/v4/sources", json.dumps(body), self.headers)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
            conn.close()

        workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
        [t.start() for t in workers]
        [t.join() for t in workers]
        if errors:
            sys.exit("source creation failed: %r" % errors[:5])

    def query(self, sql, args=()):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def lateness_ms(self, since):
        """Start lateness (spawned_at - scheduled_for) of scheduled jobs due at or after `since`."""
        rows = self.query(
            "SELECT scheduled_for, spawned_at FROM jobs WHERE trigger = 'scheduled' AND spawned_at IS NOT NULL")
        return [(parse_time(b) - parse_time(a)) * 1000 for a, b in rows if parse_time(a) >= since]

    def rss_kb(self):
        return rss_kb(self.proc.pid)

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def fd_kinds(self):
        """What the daemon's descriptors point at, counted by kind ("socket", "pipe", a path)."""
        kinds = {}
        base = "/proc/%d/fd" % self.proc.pid
        for fd in os.listdir(base):
            try:
                target = os.readlink(os.path.join(base, fd))
            except OSError:
                continue
            kind = target.split(":", 1)[0] if target.startswith(("socket:", "pipe:", "anon_inode:")) else target
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

    def children(self):
        """(live, zombie) child processes of the daemon."""
        live = zombies = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = open("/proc/%s/stat" % entry).read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == self.proc.pid:
                if stat[0] == "Z":
                    zombies += 1
                else:
                    live += 1
        return live, zombies

    def kill(self):
        """SIGKILL, as a crash; the state directory stays for a restart."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.runtime:
            shutil.rmtree(self.runtime, ignore_errors=True)

    def stop(self, keep=False):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.runtime:
            shutil.rmtree(self.runtime, ignore_errors=True)
        return self.proc.returncode
