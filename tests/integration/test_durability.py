"""Durability and PII at rest.

- kill -9 right after 200 responses, restart: every acknowledged lead is still there and its
  WhatsApp confirmation is still delivered, once (issue 2, "Tests and proof").
- The SQLite file never holds first name, mobile, email, PAN or date of birth in plaintext
  (issue 2, "PII at rest").

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_durability
"""

import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import (
    LeadgateTestCase, accepted, los_calls_for, template_calls_for, valid_lead, wait_until,
)

GUPSHUP = "gupshup"
N_LEADS = 20


class KillAndRestartTest(LeadgateTestCase):

    def test_acknowledged_leads_and_confirmations_survive_sigkill(self):
        # First run: Gupshup fails, and retries are spaced out (>= 1.5 s) so that at the kill
        # every confirmation is pending in the outbox rather than mid-delivery.
        fake, lg, key = self.start_service(env={
            "LEADGATE_OUTBOX_BACKOFF_MS": "3000",
            "LEADGATE_OUTBOX_MAX_ATTEMPTS": "50",
            "LEADGATE_GUPSHUP_TIMEOUT_MS": "500",
        })
        fake.script(GUPSHUP, [{"status": 500}] * 500)

        leads = [valid_lead(firstName="Durable", lastName="Customer") for _ in range(N_LEADS)]

        def create(lead):
            return lead, self.post_lead(lg, lead, key)

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(create, leads))
        acknowledged = []
        for lead, (status, _, body) in results:
            if status == 200:
                acknowledged.append((lead, body))
        self.assertEqual(len(acknowledged), N_LEADS,
                         [(r[1][0], r[1][2]) for r in results if r[1][0] != 200])
        # Every first delivery attempt has failed (so each message is pending), then kill -9.
        wait_until(lambda: all(template_calls_for(fake, lead["mobile"]) for lead in leads),
                   timeout=10, message="not every confirmation was attempted before the kill")
        self.assertEqual(lg.kill(), -9)
        for lead, _ in acknowledged:
            self.assertEqual(accepted(template_calls_for(fake, lead["mobile"])), [])

        # Second run: same database, key and port; Gupshup healthy.
        fake.reset()
        lg.extra_env["LEADGATE_OUTBOX_BACKOFF_MS"] = "50"
        lg.start()

        # Every confirmation reaches the fake, exactly once per destination.
        def all_delivered():
            return all(accepted(template_calls_for(fake, lead["mobile"]))
                       for lead, _ in acknowledged)

        wait_until(all_delivered, timeout=15, message="confirmations lost after kill -9\n"
                   + lg.log_tail(30))
        time.sleep(0.5)
        for lead, body in acknowledged:
            calls = accepted(template_calls_for(fake, lead["mobile"]))
            self.assertEqual(len(calls), 1, lead["mobile"])
            self.assertEqual(calls[0]["template"]["params"][1], body["basic_application_id"])

        # Every acknowledged lead still exists: the same create_lead is now an update.
        for lead, body in acknowledged:
            status, _, again = self.post_lead(lg, lead, key)
            self.assertEqual(status, 200, again)
            self.assertEqual(again["message"], "Lead updated successfully", again)
            for name in ("basic_application_id", "applicationId", "reference_id"):
                self.assertEqual(again[name], body[name], name)
            self.assertEqual(los_calls_for(fake, lead["mobile"]), [],
                             "an acknowledged lead was sent to the LOS again")


class PiiAtRestTest(LeadgateTestCase):

    def test_sqlite_file_has_no_plaintext_pii(self):
        fake, lg, key = self.start_service()
        lead = valid_lead(firstName="Zephyrine", lastName="Quillfeather",
                          email="zephyrine.quill.5521@example.org", dateOfBirth="1986-07-14",
                          remarks="prefers evening calls")
        status, _, body = self.post_lead(lg, lead, key)
        self.assertEqual(status, 200, body)
        # An update (audited) and the outbox delivery write more rows.
        status, _, body = self.post_lead(lg, dict(lead, loanAmountReq=4100000), key)
        self.assertEqual(status, 200, body)
        wait_until(lambda: accepted(template_calls_for(fake, lead["mobile"])), timeout=10)
        checks = {
            "mobile": lead["mobile"].encode(),
            "PAN": lead["pan"].encode(),
            "email": lead["email"].encode(),
            "first name": b"Zephyrine",
            "last name": b"Quillfeather",
            "date of birth": b"1986-07-14",
            "date of birth (DD-MM-YYYY)": b"14-07-1986",
        }
        for when in ("while running", "after shutdown"):
            data = lg.db_bytes()
            self.assertGreater(len(data), 0)
            for what, value in checks.items():
                self.assertNotIn(value, data, f"{what} stored in plaintext ({when})")
            if when == "while running":
                lg.stop()


if __name__ == "__main__":
    unittest.main()
