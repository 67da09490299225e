"""The database goes away and comes back: requests get 503 quickly meanwhile, /readyz says so,
and the service recovers without a restart. Uses a private PostgreSQL server of its own (it is
stopped and started here, so it cannot be the shared test server)."""
from __future__ import annotations

import glob
import json
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from harness import Leadgate, valid_lead, wait_until

ROOT = Path(__file__).resolve().parents[2]


def pg_ctl(base: str, action: str) -> None:
    pg_ctl_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    cmd = [pg_ctl_bin, "-D", f"{base}/data", "-l", f"{base}/postgres.log", "-w", "-t", "60",
           action]
    if action == "stop":
        cmd += ["-m", "fast"]
    subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class DatabaseOutageTest(unittest.TestCase):

    def setUp(self):
        self.dir_file = tempfile.mktemp(prefix="leadgate-outage-pg.")
        started = subprocess.run(["bash", str(ROOT / "tests/pg/start_pg.sh"), "", self.dir_file],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            self.fail(f"start_pg.sh failed ({started.returncode}):\n{started.stderr}")
        self.url = started.stdout.strip()
        self.base = Path(self.dir_file).read_text().strip()
        self.lg = Leadgate(database_url=self.url).start()
        self.key = self.lg.create_api_key("outage", ("orbit",))
        self.ops_key = self.lg.create_api_key("ops", ("ops",))

    def tearDown(self):
        self.lg.close()
        subprocess.run(["bash", str(ROOT / "tests/pg/stop_pg.sh"), self.dir_file],
                       capture_output=True)

    def post(self, body):
        return self.lg.request("POST", "/api_v1/create_lead", json_body=body, api_key=self.key)

    def test_outage_gives_503_and_recovery_needs_no_restart(self):
        status, _, body = self.post(valid_lead())
        self.assertEqual(status, 200, body)
        status, _, _ = self.lg.request("GET", "/metrics", api_key=self.ops_key)  # now cached
        self.assertEqual(status, 200)

        pg_ctl(self.base, "stop")
        started = time.monotonic()
        status, headers, body = self.post(valid_lead())
        elapsed = time.monotonic() - started
        self.assertEqual(status, 503, body)
        self.assertEqual(body["code"], "DATABASE_UNAVAILABLE")
        self.assertIn("retry-after", headers)
        self.assertLess(elapsed, 5.0, "a request during the outage must fail quickly")
        status, _, ready = self.lg.request("GET", "/readyz")
        self.assertEqual(status, 503, ready)
        self.assertFalse(ready["database"]["reachable"])
        # The driver's message (host, port, user) is for operators only (issue 20 §5).
        port = self.url.rsplit(":", 1)[1].split("/", 1)[0]
        self.assertNotIn(port, json.dumps(ready))
        self.assertEqual(ready["database"]["error"],
                         "unavailable (send an ops API key for the details)")
        status, _, ready = self.lg.request("GET", "/readyz", api_key=self.ops_key)
        self.assertEqual(status, 503, ready)
        self.assertNotIn("unavailable (send", ready["database"]["error"])
        self.assertTrue(ready["database"]["error"], ready)
        status, _, _ = self.lg.request("GET", "/healthz")
        self.assertEqual(status, 200, "the process itself stays alive")

        pg_ctl(self.base, "start")
        wait_until(lambda: self.lg.request("GET", "/readyz")[0] == 200, timeout=15,
                   message="/readyz did not recover after the database came back")
        status, _, body = self.post(valid_lead())
        self.assertEqual(status, 200, body)
        self.assertTrue(self.lg.running, "no restart was needed")


if __name__ == "__main__":
    unittest.main()
