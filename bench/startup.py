#!/usr/bin/env python3
"""Start-up to ready on the embedded default: runs `leadgate serve` in a fresh directory (SQLite,
sandboxed partners, no LEADGATE_* settings but the listen address and data dir) RUNS times and
prints the median and max of (a) exec to the first 200 from /readyz, polled every 1 ms, and
(b) the startup_ms field of the service's own log line."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

binary, data_dir, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


ready_ms, logged_ms = [], []
for _ in range(runs):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGATE_")}
    env.update(LEADGATE_LISTEN=f"127.0.0.1:{port}", LEADGATE_DATA_DIR=data_dir)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        p = subprocess.Popen([binary, "serve"], cwd=d, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        try:
            while not ready(port):
                if p.poll() is not None or time.monotonic() - t0 > 10:
                    raise SystemExit("leadgate did not become ready")
                time.sleep(0.001)
            ready_ms.append((time.monotonic() - t0) * 1000)
        finally:
            p.terminate()
            out, _ = p.communicate(timeout=15)
        for line in out.decode(errors="replace").splitlines():
            if '"startup_ms"' in line:
                try:
                    logged_ms.append(float(json.loads(line)["startup_ms"]))
                except (ValueError, KeyError):
                    pass
print(json.dumps({"runs": runs,
                  "ready_median_ms": round(statistics.median(ready_ms), 1),
                  "ready_max_ms": round(max(ready_ms), 1),
                  "logged_median_ms": statistics.median(logged_ms) if logged_ms else None,
                  "logged_max_ms": max(logged_ms) if logged_ms else None}))
