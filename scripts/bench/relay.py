#!/usr/bin/env python3
"""Relay throughput: Singer RECORD lines through a tapline job versus a plain pipe, same run.

Writes a file of RECORD lines, then (1) times `cat FILE | cat > /dev/null`, and (2) runs a real
tapline job whose tap is `cat FILE` and whose target is `cat > /dev/null`, so the only extra work
is tapline's relay (line checks, per-stream counts, copying). Prints MB/s for both and the ratio.

Usage: scripts/bench/relay.py [--megabytes 512] [--binary .build/release/tapline]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tapline_harness import Daemon, binary_path, machine, parse_time  # noqa: E402


def make_records(path, megabytes):
    record = {"type": "RECORD", "stream": "events", "record": {
        "id": 0, "name": "event name with some text", "amount": 12.5, "tags": ["a", "b"],
        "nested": {"k": "v", "n": [1, 2, 3]}, "updated_at": "2026-11-29T00:00:00Z"}}
    with open(path, "w") as f:
        f.write(json.dumps({"type": "SCHEMA", "stream": "events", "schema": {"type": "object"}, "key_properties": ["id"]}) + "\n")
        size, i = 0, 0
        while size < megabytes * 1_000_000:
            record["record"]["id"] = i
            line = json.dumps(record, separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)
            i += 1
        f.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"events": i}}}) + "\n")
    return os.path.getsize(path), i


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--megabytes", type=int, default=512)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or binary_path("release")
    print("machine: %s" % machine())
    work = tempfile.mkdtemp(prefix="tapline-relay-")
    data = os.path.join(work, "records.jsonl")
    size, count = make_records(data, args.megabytes)
    print("input: %d RECORD lines, %.0f MB" % (count, size / 1e6))

    subprocess.run(["cat", data], stdout=subprocess.DEVNULL)  # warm the page cache
    t0 = time.time()
    subprocess.run(["sh", "-c", "cat '%s' | cat > /dev/null" % data], check=True)
    plain = size / (time.time() - t0) / 1e6
    print("plain pipe:     %8.0f MB/s" % plain)

    config_extra = """
source_types:
  - type: bench.file
    tap: [sh, -c, "cat '%s'"]
destination:
  target: [sh, -c, "cat > /dev/null"]
  config: {}
""" % data
    d = Daemon(binary, config_extra)
    try:
        d.call("POST", "/v4/sources", {"type": "bench.file", "display_name": "relay",
                                       "properties": {"frequency_in_minutes": "1440"}})
        for _ in range(6000):
            rows = d.query("SELECT status, spawned_at, completed_at, stream_records FROM jobs")
            row = rows[0] if rows else None
            if row and row[0] != "running":
                break
            time.sleep(0.05)
        status, spawned, completed, streams = row
        if status != "succeeded":
            sys.exit("relay job %s" % status)
        seconds = parse_time(completed) - parse_time(spawned)
        relayed = size / seconds / 1e6
        print("through tapline:%8.0f MB/s (job %.2f s, records counted: %s)" % (relayed, seconds, streams))
        print("ratio tapline / plain pipe: %.2f" % (relayed / plain))
    finally:
        d.stop()
        os.remove(data)


if __name__ == "__main__":
    main()
