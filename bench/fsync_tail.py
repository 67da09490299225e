#!/usr/bin/env python3
"""The disk's floor under a durable acknowledgement (issue 9, webhook target).

    python3 bench/fsync_tail.py DIR [SECONDS] [THRESHOLD_MS,...]

Writes 8 kB and calls fdatasync back to back in DIR (put it on PostgreSQL's disk) for SECONDS
(default 15), as a busy WAL writer does, and prints one JSON line: fdatasync latency p50 / p99 /
p99.9 / max in ms, and `wait_share` per threshold (default 5 and 10 ms): the share of the time
during which a transaction arriving would wait more than THRESHOLD_MS for its commit to be on
disk. A commit arriving
during an fdatasync in flight is not part of it (group commit has already started): it waits for
that flush to end and then for its own, so an fdatasync of d ms makes every arrival in its first
d - THRESHOLD_MS ms wait longer than THRESHOLD_MS, whatever the software above does. When the
share exceeds 1 %, a durable acknowledgement's p99 cannot be THRESHOLD_MS or less on this disk.
"""
import json
import os
import sys
import time


def main():
    directory = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0
    thresholds = [float(t) for t in (sys.argv[3] if len(sys.argv) > 3 else "5,10").split(",")]
    path = os.path.join(directory, "fsync_tail.probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"w" * 8192
    latencies = []
    try:
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds:
            os.pwrite(fd, block, (i % 2048) * 8192)  # a 16 MB file, like a WAL segment
            i += 1
            t = time.perf_counter()
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - t)
        wall = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    shares = {f"{t:g}": round(sum(max(0.0, d - t / 1000) for d in latencies) / wall, 5)
              for t in thresholds}
    latencies.sort()
    n = len(latencies)

    def ms(q):
        return round(latencies[min(n - 1, int(n * q))] * 1000, 3)

    print(json.dumps({"flushes": n, "seconds": round(wall, 1), "p50_ms": ms(0.5), "p99_ms": ms(0.99),
                      "p999_ms": ms(0.999), "max_ms": round(latencies[-1] * 1000, 1),
                      "wait_share": shares}))


if __name__ == "__main__":
    main()
