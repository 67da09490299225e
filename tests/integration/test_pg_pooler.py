"""Through a transaction-mode pooler (docs/operations.md, "Supabase": the pooled port works as
is). PgBouncer 1.18 (Debian 12) in transaction mode, two server connections for eight of
leadgate's: every transaction may land on another server connection than the one before, and
this PgBouncer cannot carry named prepared statements between them — the case the store's
statements fall back from (src/store/postgres/postgres_store.h). Concurrent create_lead and
lead_status traffic must all succeed, with the rows where they belong.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path

from harness import (Leadgate, LeadgateError, _psql, create_pg_database, drop_pg_database,
                     free_port, pg_admin_url, valid_lead)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
CLIENTS = 8
LEADS_PER_CLIENT = 4


def as_postgres(cmd: list[str]) -> list[str]:
    # PgBouncer refuses to run as root.
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


class PoolerTest(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(PGBOUNCER):
            self.fail("pgbouncer is not installed (scripts/install-deps.sh --test installs it)")
        self.db_url = create_pg_database()
        self.addCleanup(drop_pg_database, self.db_url)
        server = urllib.parse.urlsplit(self.db_url)
        self.db = server.path.lstrip("/")
        self.tmp = Path(tempfile.mkdtemp(prefix="leadgate-pgbouncer-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        port = free_port()
        user = urllib.parse.unquote(server.username)
        password = urllib.parse.unquote(server.password)
        (self.tmp / "users.txt").write_text(f'"{user}" "{password}"\n')
        (self.tmp / "pgbouncer.ini").write_text(f"""
[databases]
{self.db} = host={server.hostname} port={server.port} dbname={self.db}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.tmp}/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = {self.tmp}/pgbouncer.log
pidfile = {self.tmp}/pgbouncer.pid
""")
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres")
            for f in self.tmp.iterdir():
                shutil.chown(f, "postgres")
        subprocess.run(as_postgres([PGBOUNCER, "-d", str(self.tmp / "pgbouncer.ini")]),
                       check=True, capture_output=True)
        self.addCleanup(self.stop_pgbouncer)
        self.pooled_url = (f"postgresql://{server.username}:{server.password}@127.0.0.1:{port}/"
                           f"{self.db}")
        deadline = time.monotonic() + 10
        while True:
            try:
                _psql(self.pooled_url, "SELECT 1")
                break
            except LeadgateError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop_pgbouncer(self):
        pid_file = self.tmp / "pgbouncer.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], capture_output=True)

    def server_connections(self) -> int:
        return int(_psql(pg_admin_url(),
                         f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.db}'"))

    def test_concurrent_traffic_through_transaction_mode_pooler(self):
        lg = Leadgate(database_url=self.pooled_url, env={"LEADGATE_DB_THREADS": str(CLIENTS)})
        self.addCleanup(lg.close)
        lg.start()  # migrations included, through the pooler
        key = lg.create_api_key("pooler", ("orbit",))
        errors: list[str] = []
        created: list[tuple[str, str]] = []  # (mobile, basic_application_id)
        lock = threading.Lock()

        def client():
            for _ in range(LEADS_PER_CLIENT):
                lead = valid_lead()
                status, _, body = lg.request("POST", "/api_v1/create_lead", lead, api_key=key)
                if status != 200:
                    with lock:
                        errors.append(f"create_lead {status}: {body}")
                    continue
                for _ in range(3):
                    status, _, found = lg.request(
                        "POST", "/api_v1/lead_status",
                        {"environment": "orbit", "mobile_number": lead["mobile"]}, api_key=key)
                    got = (found.get("data") or {}).get("basic_application_id") \
                        if status == 200 else None
                    if got != body["basic_application_id"]:
                        with lock:
                            errors.append(f"lead_status {status}: {found}")
                with lock:
                    created.append((lead["mobile"], body["basic_application_id"]))

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [], lg.log_tail())
        self.assertEqual(len(created), CLIENTS * LEADS_PER_CLIENT)
        # Eight leadgate connections shared two server connections.
        self.assertLessEqual(self.server_connections(), 2)
        rows = _psql(self.db_url, "SELECT count(*), count(DISTINCT basic_application_id) FROM "
                                  "leads WHERE status = 'created'").strip().split("\x1f")
        self.assertEqual(rows, [str(len(created))] * 2)
        self.assertNotIn('"level":"error"', lg.log_text())


if __name__ == "__main__":
    unittest.main()
