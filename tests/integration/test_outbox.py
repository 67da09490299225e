"""The WhatsApp lead confirmation (outbox): retried while Gupshup fails, delivered exactly once
when it recovers, every attempt recorded.

Spec: interfaces.md §4 (success is 2xx {"status": "submitted", "messageId": ...}; anything
else is a failure), issue 2 (the dispatcher retries with backoff, records each attempt and
the provider's messageId, and never sends twice once the provider accepted).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_outbox
"""

import time
import unittest

from harness import LeadgateTestCase, accepted, template_calls_for, valid_lead, wait_until

GUPSHUP = "gupshup"


class OutboxTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service(env={
            "LEADGATE_OUTBOX_POLL_MS": "50",
            "LEADGATE_OUTBOX_BACKOFF_MS": "50",
            "LEADGATE_OUTBOX_MAX_ATTEMPTS": "10",
            "LEADGATE_GUPSHUP_TIMEOUT_MS": "500",
        })

    def create(self, **overrides):
        lead = valid_lead(**overrides)
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        return lead, body

    def wait_delivered(self, mobile, timeout=10.0):
        return wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), timeout,
                          message=f"confirmation for {mobile} not accepted by the fake")

    def attempts_for(self, reference_id):
        """(outbox status, attempts, provider_message_id) and the recorded attempt outcomes."""
        rows = self.lg.db_query("SELECT id, status, attempts, provider_message_id FROM outbox "
                                "WHERE lead_ref = ?", (reference_id,))
        self.assertEqual(len(rows), 1, rows)
        outbox_id, status, attempts, message_id = rows[0]
        outcomes = [r[0] for r in self.lg.db_query(
            "SELECT outcome FROM outbox_attempts WHERE outbox_id = ? ORDER BY attempt",
            (outbox_id,))]
        return status, attempts, message_id, outcomes

    def test_gupshup_down_then_up_delivers_exactly_once(self):
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}, {"status": 500}])
        lead, body = self.create()
        self.wait_delivered(lead["mobile"])
        time.sleep(1.0)  # anything sent twice would arrive within this second
        calls = template_calls_for(self.fake, lead["mobile"])
        self.assertEqual(len(accepted(calls)), 1, [c["response_status"] for c in calls])
        self.assertEqual([c["response_status"] for c in calls], [500, 500, 500, 200])
        self.assertEqual(calls[-1]["template"]["params"][1], body["basic_application_id"])

        # Attempts are recorded, with the provider's messageId.
        status, attempts, message_id, outcomes = wait_until(
            lambda: (r := self.attempts_for(body["reference_id"]))[0] == "sent" and r,
            timeout=5, message="outbox row not marked sent")
        self.assertEqual(attempts, 4)
        self.assertEqual(len(outcomes), 4, outcomes)
        self.assertEqual(outcomes[-1], "accepted")
        self.assertEqual(len(set(outcomes[:3])), 1, outcomes)
        self.assertNotEqual(outcomes[0], "accepted")
        self.assertTrue(message_id)

    def test_non_submitted_answer_is_a_failure_and_retried(self):
        self.fake.script(GUPSHUP, [
            {"status": 200, "body": {"status": "error", "message": "Template not approved"}},
            {"malformed": True},
        ])
        lead, body = self.create()
        wait_until(lambda: len(template_calls_for(self.fake, lead["mobile"])) >= 3, timeout=10,
                   message="the dispatcher did not retry after non-submitted answers")
        status, attempts, message_id, outcomes = wait_until(
            lambda: (r := self.attempts_for(body["reference_id"]))[0] == "sent" and r,
            timeout=5, message="outbox row not marked sent")
        time.sleep(0.5)
        self.assertEqual(len(template_calls_for(self.fake, lead["mobile"])), 3)
        self.assertEqual(attempts, 3)
        self.assertEqual(outcomes[-1], "accepted")
        self.assertNotIn("accepted", outcomes[:2])

    def test_gupshup_timeout_then_up_delivers(self):
        self.fake.script(GUPSHUP, [{"hang": True, "max_s": 3}])
        lead, _ = self.create()
        self.wait_delivered(lead["mobile"], timeout=10)
        statuses = [c["response_status"] for c in template_calls_for(self.fake, lead["mobile"])]
        self.assertEqual(statuses.count(200), 1, statuses)

    def test_every_lead_gets_its_own_single_confirmation(self):
        self.fake.script(GUPSHUP, [{"status": 503}] * 4)
        leads = [self.create()[0] for _ in range(5)]
        for lead in leads:
            self.wait_delivered(lead["mobile"])
        time.sleep(0.5)
        for lead in leads:
            calls = template_calls_for(self.fake, lead["mobile"])
            self.assertEqual(len([c for c in calls if c["response_status"] == 200]), 1,
                             [c["response_status"] for c in calls])

    def test_upsert_sends_no_second_confirmation(self):
        lead, _ = self.create()
        self.wait_delivered(lead["mobile"])
        status, _, body = self.post_lead(self.lg, dict(lead, remarks="updated"), self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["message"], "Lead updated successfully")
        time.sleep(0.5)
        self.assertEqual(len(template_calls_for(self.fake, lead["mobile"])), 1)


if __name__ == "__main__":
    unittest.main()


class DeadLetterTest(LeadgateTestCase):
    """A message that keeps failing ends `dead` after the configured attempts, stays visible to
    `leadgate outbox list`, and `leadgate outbox requeue` delivers it once Gupshup is back."""

    def test_dead_after_max_attempts_then_requeued(self):
        fake, lg, key = self.start_service(env={"LEADGATE_OUTBOX_MAX_ATTEMPTS": "2",
                                                "LEADGATE_OUTBOX_BACKOFF_MS": "50"})
        fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        lead = valid_lead()
        status, _, body = self.post_lead(lg, lead, key)
        self.assertEqual(status, 200, body)
        wait_until(lambda: lg.db_query("SELECT status FROM outbox WHERE lead_ref = ?",
                                       (body["reference_id"],)) == [("dead",)],
                   timeout=10, message="the message did not end dead")
        time.sleep(0.3)
        self.assertEqual(len(template_calls_for(fake, lead["mobile"])), 2)

        listing = lg.run_cli("outbox", "list")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn(body["reference_id"], listing.stdout)
        self.assertIn("1 message(s) in status dead", listing.stdout)
        self.assertNotIn(lead["mobile"], listing.stdout)  # the payload stays sealed

        outbox_id = lg.db_query("SELECT id FROM outbox WHERE lead_ref = ?",
                                (body["reference_id"],))[0][0]
        requeue = lg.run_cli("outbox", "requeue", "--id", str(outbox_id))
        self.assertEqual(requeue.returncode, 0, requeue.stdout + requeue.stderr)
        self.assertIn("requeued 1", requeue.stdout)
        wait_until(lambda: accepted(template_calls_for(fake, lead["mobile"])), 10,
                   message="the requeued message was not delivered")
        # Gupshup has answered; the worker records `sent` just after, so wait for the row too.
        wait_until(lambda: lg.db_query("SELECT status FROM outbox WHERE lead_ref = ?",
                                       (body["reference_id"],)) == [("sent",)],
                   timeout=10, message="the delivered message was not marked sent")
        nothing = lg.run_cli("outbox", "requeue", "--all-dead")
        self.assertEqual(nothing.returncode, 1)
        self.assertIn("requeued 0", nothing.stdout)


class CustomerMessageCapTest(LeadgateTestCase):
    """LEADGATE_CUSTOMER_MESSAGES_PER_DAY: notifications to one customer (environment + mobile)
    in a rolling 24 h, checked by the dispatcher when it sends. Beyond the cap a message is kept
    with status `suppressed` (shown in the timeline) and never reaches Gupshup."""

    def notify(self, lg, key, mobile):
        status, _, body = lg.request("POST", "/api_v1/lead_status",
                                     {"environment": "orbit", "mobile_number": mobile,
                                      "notify": True}, api_key=key)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["additional_details"].get("notification"), "queued", body)

    def test_messages_above_the_cap_are_suppressed_not_sent(self):
        fake, lg, key = self.start_service(env={"LEADGATE_CUSTOMER_MESSAGES_PER_DAY": "3",
                                                "LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS": "1",
                                                "LEADGATE_OUTBOX_POLL_MS": "50"})
        lead = valid_lead()
        status, _, created = self.post_lead(lg, lead, key)
        self.assertEqual(status, 200, created)
        mobile, ref = lead["mobile"], created["reference_id"]

        def statuses():
            return [r[0] for r in lg.db_query(
                "SELECT status FROM outbox WHERE lead_ref = ? ORDER BY id", (ref,))]
        # The confirmation and two status updates: three messages, all sent.
        for expected in (["sent"], ["sent", "sent"], ["sent", "sent", "sent"]):
            if len(expected) > 1:
                time.sleep(1.1)  # the notify interval
                self.notify(lg, key, mobile)
            wait_until(lambda e=expected: statuses() == e, 10,
                       message=f"outbox is {statuses()}, expected {expected}")
        # The fourth in 24 h: queued, then suppressed by the dispatcher.
        time.sleep(1.1)
        self.notify(lg, key, mobile)
        wait_until(lambda: statuses()[-1:] == ["suppressed"], 10,
                   message=f"the fourth message was not suppressed: {statuses()}")
        time.sleep(0.3)
        self.assertEqual(len(accepted(template_calls_for(fake, mobile))), 3)
        self.assertEqual(len(template_calls_for(fake, mobile)), 3, "a suppressed message was sent")
        status, _, tracked = lg.request("POST", "/api_v1/track_application",
                                        {"environment": "orbit", "mobile_number": mobile},
                                        api_key=key)
        self.assertEqual(status, 200, tracked)
        suppressed = [e for e in tracked["data"]["application_timeline"]
                      if e.get("event") == "whatsapp_suppressed"]
        self.assertEqual(len(suppressed), 1, tracked["data"]["application_timeline"])
        self.assertEqual(suppressed[0]["details"].get("purpose"), "status_update", suppressed)
        self.assertIn("limit", suppressed[0]["details"].get("reason", ""), suppressed)

        # Another customer has a cap of their own.
        other = valid_lead()
        status, _, body = self.post_lead(lg, other, key)
        self.assertEqual(status, 200, body)
        wait_until(lambda: accepted(template_calls_for(fake, other["mobile"])), 10,
                   message="another customer's confirmation was not sent")
