"""The dashboard's numbers survive restarts and add up over instances (issue 8).

Every instance writes the current minute of its metrics into metric_minutes; a graceful stop
writes it once more, a SIGKILL loses at most one flush interval, and /dashboard/data sums the
rows of all instances sharing the database.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_monitoring
     (the two-instance test needs LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=…)
"""
from __future__ import annotations

import os
import unittest

from harness import (FakePartners, Leadgate, LeadgateTestCase, binary_available,
                     create_pg_database, drop_pg_database, leadgate_bin, valid_lead, wait_until)


def dashboard(lg: Leadgate, key: str, **query) -> dict:
    path = "/dashboard/data"
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    status, _, body = lg.request("GET", path, api_key=key)
    assert status == 200, (status, body)
    return body


def create_leads(test: LeadgateTestCase, lg: Leadgate, key: str, n: int, env: str = "orbit"):
    for _ in range(n):
        status, _, body = test.post_lead(lg, valid_lead(environment=env), key)
        test.assertEqual(status, 200, body)


class MonitoringDurabilityTest(LeadgateTestCase):

    def test_graceful_restart_writes_the_current_minute(self):
        # A flush interval longer than the test: only the shutdown write can save the numbers.
        _, lg, key = self.start_service(env={"LEADGATE_METRICS_FLUSH_MS": "60000"})
        ops = lg.create_api_key("ops", ("ops",))
        create_leads(self, lg, key, 3)
        self.post_lead(lg, {"environment": "orbit"}, key)  # 422
        lg.restart()
        data = dashboard(lg, ops)
        summary = data["summary"]
        self.assertEqual(summary["leads_created"], 3, summary)
        create_lead = [e for e in data["endpoints"] if e["route"] == "/api_v1/create_lead"]
        self.assertEqual(create_lead[0]["requests"], 4, data["endpoints"])
        self.assertEqual(create_lead[0]["errors_4xx"], 1, data["endpoints"])
        self.assertEqual(len(data["instances"]), 1, data["instances"])
        # The day and week views read the 15-minute and hourly rollups: the same numbers.
        for view in ("day", "week"):
            rolled = dashboard(lg, ops, range=view)["summary"]
            self.assertEqual((rolled["leads_created"], rolled["requests"]), (3, 4), view)

    def test_sigkill_loses_at_most_one_flush_interval(self):
        _, lg, key = self.start_service(env={"LEADGATE_METRICS_FLUSH_MS": "200"})
        ops = lg.create_api_key("ops", ("ops",))
        create_leads(self, lg, key, 2, env="homfinity")
        wait_until(lambda: dashboard(lg, ops)["summary"]["leads_created"] == 2, timeout=10,
                   message="the leads never reached the dashboard")
        lg.restart(kill=True)
        data = dashboard(lg, ops, environment="homfinity")
        self.assertEqual(data["summary"]["leads_created"], 2, data["summary"])
        self.assertEqual(dashboard(lg, ops, environment="orbit")["summary"]["leads_created"], 0)
        # The new process is a new instance; the killed one's rows are still counted.
        wait_until(lambda: len(dashboard(lg, ops)["instances"]) == 2, timeout=10,
                   message="the restarted instance never wrote its minute")

    def test_only_ops_keys_see_the_numbers(self):
        _, lg, key = self.start_service()
        status, _, body = lg.request("GET", "/dashboard/data", api_key=key)
        self.assertProblem((status, _, body), 403, "SCOPE_FORBIDDEN")
        self.assertProblem(lg.request("GET", "/dashboard/data"), 401, "UNAUTHENTICATED")
        ops = lg.create_api_key("ops", ("ops",))
        # An ops key reads monitoring, not customers (issue 20: 403 SCOPE_FORBIDDEN on every brand
        # route, whatever the body names).
        status, _, body = self.post_lead(lg, valid_lead(), ops)
        self.assertProblem((status, _, body), 403, "SCOPE_FORBIDDEN")
        self.assertProblem(lg.request("GET", "/dashboard/data?range=month&environment=mars",
                                      api_key=ops), 422, "VALIDATION_ERROR")
        status, _, body = lg.request("GET", "/dashboard/data?range=month", api_key=ops)
        self.assertEqual([e["field"] for e in body["errors"]], ["range"], body)


@unittest.skipUnless(os.environ.get("LEADGATE_TEST_PG_URL"),
                     "needs a PostgreSQL server (LEADGATE_TEST_PG_URL)")
@unittest.skipUnless(binary_available(), f"leadgate binary not found: {leadgate_bin()}")
class MonitoringAcrossInstancesTest(LeadgateTestCase):

    def test_every_instance_contributes(self):
        fake = FakePartners().start()
        self.addCleanup(fake.stop)
        db_url = create_pg_database()
        self.addCleanup(drop_pg_database, db_url)
        env = {"LEADGATE_METRICS_FLUSH_MS": "200"}
        a = Leadgate(fake, env=env, database_url=db_url)
        self.addCleanup(a.close)
        b = Leadgate(fake, env=env, database_url=db_url, pii_key=a.pii_key)
        self.addCleanup(b.close)
        a.start()
        b.start()
        key = a.create_api_key("tests", ("orbit", "homfinity"))
        ops = a.create_api_key("ops", ("ops",))
        create_leads(self, a, key, 2)
        create_leads(self, b, key, 3)

        def both_counted():
            data = dashboard(b, ops)
            return data["summary"]["leads_created"] == 5 and len(data["instances"]) == 2

        wait_until(both_counted, timeout=15, message="the two instances' minutes never added up")
        data = dashboard(a, ops, range="day")
        self.assertEqual(data["summary"]["leads_created"], 5, data["summary"])
        self.assertEqual(data["step_seconds"], 900)


if __name__ == "__main__":
    unittest.main()
