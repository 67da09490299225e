"""Scale-out on PostgreSQL: nginx balancing two leadgate instances on one database.

Concurrent create_lead traffic from clients that retry with Idempotency-Keys; one instance is
killed with SIGKILL in the middle. Afterwards every request that got a 200 has exactly one lead
row, no lead exists twice, and every lead's confirmation reached the fake Gupshup at least once —
exactly once where the dispatcher had recorded the provider's acceptance.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path

from harness import (FakePartners, Leadgate, LeadgateError, create_pg_database, drop_pg_database,
                     free_port, http_request, valid_lead, wait_until)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CUSTOMERS = 60
CLIENTS = 6


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> str:
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams)
    return f"""
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  upstream leadgate {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 1m;
    location / {{
      proxy_pass http://leadgate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 1s;
      proxy_read_timeout 30s;
    }}
  }}
}}
"""


@unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed (apt-get install nginx)")
class ScaleOutTest(unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="leadgate-scale-"))
        self.fake = FakePartners().start()
        self.db_url = create_pg_database()
        # Short partner timeouts: a request the killed instance held is taken over once its
        # longest possible LOS exchange has passed (timeout x attempts + backoff + 5 s).
        env = {"LEADGATE_OUTBOX_POLL_MS": "50", "LEADGATE_GUPSHUP_TIMEOUT_MS": "1000",
               "LEADGATE_BASIC_APP_TIMEOUT_MS": "1000", "LEADGATE_DB_THREADS": "4"}
        self.a = Leadgate(fake=self.fake, env=env, database_url=self.db_url)
        self.b = Leadgate(fake=self.fake, env=env, database_url=self.db_url,
                          pii_key=self.a.pii_key)
        self.a.start()
        self.b.start()
        self.key = self.a.create_api_key("scale-out", ("orbit",))
        self.port = free_port()
        conf = self.tmp / "nginx.conf"
        conf.write_text(nginx_config(self.tmp, self.port, [self.a.port, self.b.port]))
        self.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.tmp)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self._get("/healthz")[0] == 200, timeout=10,
                   message="nginx did not come up")

    def tearDown(self):
        self.nginx.terminate()
        self.nginx.wait(10)
        for lg in (self.a, self.b):
            lg.close()
        self.fake.stop()
        drop_pg_database(self.db_url)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _get(self, path):
        try:
            return http_request("127.0.0.1", self.port, "GET", path)
        except OSError:
            return (0, {}, None)

    def _post(self, body, idem_key):
        try:
            return http_request("127.0.0.1", self.port, "POST", "/api_v1/create_lead",
                                json_body=body, headers={"Authorization": f"Bearer {self.key}",
                                                         "Idempotency-Key": idem_key})
        except OSError as e:
            return (0, {}, str(e))

    def test_kill_one_instance_under_load(self):
        customers = [valid_lead() for _ in range(CUSTOMERS)]
        results: dict[str, dict] = {}
        retries = [0]
        lock = threading.Lock()
        done = [0]

        def client(batch):
            for body in batch:
                idem = str(uuid.uuid4())
                deadline = time.time() + 90
                while time.time() < deadline:
                    status, _, answer = self._post(body, idem)
                    if status == 200:
                        with lock:
                            results[body["mobile"]] = answer
                            done[0] += 1
                        break
                    with lock:
                        retries[0] += 1
                    time.sleep(0.1)  # 409 in progress, 502/503 while nginx notices, resets

        threads = [threading.Thread(target=client, args=(customers[i::CLIENTS],))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        wait_until(lambda: done[0] >= CUSTOMERS // 3, timeout=60, message="no progress")
        self.a.kill()
        for t in threads:
            t.join(120)

        self.assertEqual(len(results), CUSTOMERS, f"only {len(results)} customers got a 200")

        # Exactly one lead row per acknowledged customer, none twice.
        rows = self.b.db_query("SELECT COUNT(*), COUNT(DISTINCT mobile_bidx) FROM leads")
        self.assertEqual(rows[0], (CUSTOMERS, CUSTOMERS))
        # Every acknowledged id is the stored one: a fresh request (new key) updates, same ids.
        for body in customers[:10]:
            status, _, again = self._post(body, str(uuid.uuid4()))
            self.assertEqual(status, 200, again)
            self.assertEqual(again["message"], "Lead updated successfully")
            self.assertEqual(again["reference_id"], results[body["mobile"]]["reference_id"])
            self.assertEqual(again["basic_application_id"],
                             results[body["mobile"]]["basic_application_id"])

        # Every confirmation delivered at least once (the killed instance's leases expire).
        def delivered():
            sent = {}
            for call in self.fake.calls("gupshup"):
                if call.get("kind") == "template" and call["response_status"] == 200:
                    sent.setdefault(call["form"]["destination"], []).append(call)
            return sent if len(sent) >= CUSTOMERS else None
        sent = wait_until(delivered, timeout=40, message="not every confirmation was delivered")

        # Where the acceptance was recorded, nothing was sent after it.
        # (Gupshup answers before the worker records `sent`, so wait for the rows as well.)
        def all_recorded():
            rows = self.b.db_query(
                "SELECT lead_ref, provider_message_id FROM outbox WHERE status = 'sent'")
            return rows if len(rows) >= CUSTOMERS else None
        recorded = dict(wait_until(all_recorded, timeout=30,
                                   message="not every delivered confirmation was recorded sent"))
        sent = delivered()  # again: a resend after a lease expired may have landed since
        refs = {r["reference_id"]: "91" + m for m, r in results.items()}
        self.assertEqual(len(recorded), CUSTOMERS)
        duplicates = 0
        for ref, message_id in recorded.items():
            calls = sent[refs[ref]]
            ids = [c["message_id"] for c in calls]
            self.assertIn(message_id, ids)
            self.assertEqual(ids[-1], message_id,
                             "a message was sent again after its acceptance was recorded")
            duplicates += len(calls) - 1
        los_calls = len(self.fake.calls("CreateFBBByBasicUser"))
        print(f"\nscale-out: customers={CUSTOMERS} acknowledged={len(results)} "
              f"client_retries={retries[0]} lead_rows={rows[0][0]} los_calls={los_calls} "
              f"messages_delivered={sum(len(v) for v in sent.values())} "
              f"resent_before_recording={duplicates}", flush=True)


if __name__ == "__main__":
    unittest.main()
