"""A private PostgreSQL cluster for tapline's real-component scripts: Debian's server binaries,
its own data directory and socket directory, a free loopback port, password authentication
on TCP. Started and stopped by the script that uses it; nothing of the machine's own clusters
is touched."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def server_bindir():
    """The newest Debian PostgreSQL server's bin directory, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(candidates[-1]) if candidates else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl start on 127.0.0.1:<free port>. As root, the server runs as the
    `postgres` user (PostgreSQL refuses to run as root)."""

    PASSWORD = "tapline-secret"

    def __init__(self):
        bindir = server_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL server found (apt-get install postgresql)")
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="tapline-pg-")
        self.data = os.path.join(self.dir, "data")
        self.sockets = os.path.join(self.dir, "sockets")
        os.makedirs(self.sockets)
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
            os.chown(self.sockets, self.user.pw_uid, self.user.pw_gid)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.PASSWORD + "\n")
        if self.user:
            os.chown(pwfile, self.user.pw_uid, self.user.pw_gid)
        self._run([os.path.join(bindir, "initdb"), "-D", self.data, "-U", "tapline", "--pwfile", pwfile,
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"])
        self.log = os.path.join(self.dir, "server.log")
        self.options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50" % (self.port, self.sockets)
        self.start()

    def start(self):
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log, "-o", self.options, "-w", "start"])

    def crash(self):
        """Stops the server at once, as a crash would (every connection dropped, no checkpoint)."""
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"])

    def _run(self, args):
        if self.user:
            user = self.user
            preexec = lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid))
        else:
            preexec = None
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, preexec_fn=preexec, cwd=self.dir)

    def psql(self, database, sql):
        """Runs SQL through the local socket (trust); returns stdout (tuples only, unaligned)."""
        out = subprocess.run(
            [os.path.join(self.bindir, "psql"), "-h", self.sockets, "-p", str(self.port), "-U", "tapline", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self):
        try:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _private_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (text + "\n").encode())
    os.close(fd)


def node_secrets(cluster, directory):
    """What every node of one tapline cluster shares: the database password file, the
    credentials key file and one API token."""
    import base64
    secrets = {"password": os.path.join(directory, "store-password"), "key": os.path.join(directory, "credentials.key"),
               "token": "cluster_" + os.urandom(16).hex()}
    _private_file(secrets["password"], cluster.PASSWORD)
    _private_file(secrets["key"], base64.b64encode(os.urandom(32)).decode())
    return secrets


def node_yaml(cluster, database, name, secrets, lease=30, renew=5, reap_grace=5, stop_grace=10):
    """The configuration keys that make a daemon node `name` of the cluster on `database`."""
    return """
store: postgres://tapline@127.0.0.1:%d/%s?sslmode=disable
store_password_file: %s
credentials_key_file: %s
node:
  name: %s
  lease_seconds: %s
  renew_seconds: %s
  reap_grace_seconds: %s
jobs:
  stop_grace_seconds: %s
""" % (cluster.port, database, secrets["password"], secrets["key"], name, lease, renew, reap_grace, stop_grace)


def node_state(name, secrets):
    """A fresh state directory holding the cluster's shared token (so a node can fetch a job's
    log from another with the caller's token)."""
    state = os.path.join(tempfile.mkdtemp(prefix="tapline-node-%s-" % name), "state")
    os.makedirs(state, mode=0o700)
    _private_file(os.path.join(state, "token"), secrets["token"])
    return state
