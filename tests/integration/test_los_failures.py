"""create_lead when the Basic Application API (the LOS) misbehaves: retries on 5xx, no retry
on 4xx, timeouts, malformed answers, and the stored `los_failed` lead being resubmitted.

Spec: interfaces.md §3 (a partner failure is any transport error, timeout, non-2xx, non-JSON,
success:false or missing fields; 4xx other than 408/429 not retried), issue 2 (failure -> 400
BASIC_APP_API_ERROR, the lead is stored and the next create_lead for the same customer and
loan type retries the partner call for that stored lead).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_los_failures
"""

import time
import unittest

from harness import (
    LeadgateTestCase, accepted, los_calls_for, template_calls_for, valid_lead, wait_until,
)

CREATE_FBB = "CreateFBBByBasicUser"


class LosFailureTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service(env={
            "LEADGATE_BASIC_APP_ATTEMPTS": "3",
            "LEADGATE_BASIC_APP_BACKOFF_MS": "50",
            # Short enough to time out quickly, long enough that a fake answering on a loaded
            # machine is not cut off (which would add retries the tests do not expect).
            "LEADGATE_BASIC_APP_TIMEOUT_MS": "800",
        })

    def assertLosError(self, response):
        body = self.assertProblem(response, 400, "BASIC_APP_API_ERROR")
        self.assertTrue(body.get("reference_id"), body)
        return body

    def test_5xx_twice_then_ok_is_200_after_three_calls(self):
        self.fake.script(CREATE_FBB, [{"status": 500}, {"status": 503}])
        lead = valid_lead()
        status, headers, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["message"], "Lead created successfully")
        calls = los_calls_for(self.fake, lead["mobile"])
        self.assertEqual(len(calls), 3, [c["response_status"] for c in calls])
        # Every attempt carries the same request id and credentials.
        self.assertEqual({c["headers"].get("x-request-id") for c in calls},
                         {headers.get("x-request-id")})
        self.assertTrue(all(c["headers"].get("x-api-key") for c in calls))
        wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])), timeout=10,
                   message="no confirmation after a successful retry")

    def test_5xx_three_times_is_400_and_the_lead_is_resubmitted_next_time(self):
        self.fake.script(CREATE_FBB, [{"status": 500}, {"status": 502}, {"status": 503}])
        lead = valid_lead()
        problem = self.assertLosError(self.post_lead(self.lg, lead, self.key))
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 3)
        # Nothing is confirmed to the customer for a lead the LOS never took.
        time.sleep(0.3)
        self.assertEqual(template_calls_for(self.fake, lead["mobile"]), [])
        # The lead is persisted for reconciliation.
        rows = self.lg.db_query("SELECT status FROM leads WHERE reference_id = ?",
                                (problem["reference_id"],))
        self.assertEqual(rows, [("los_failed",)])

        # The LOS is back: the same customer's next create_lead retries that stored lead.
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        self.assertIs(body["success"], True)
        self.assertEqual(body["reference_id"], problem["reference_id"], body)
        self.assertRegex(body["basic_application_id"], r"^B[A-Z0-9]{6}$")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 4)
        wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])), timeout=10,
                   message="no confirmation after the resubmission")
        # And only one lead exists for that customer and loan type.
        self.assertEqual(self.lg.db_query("SELECT COUNT(*) FROM leads")[0][0], 1)

    def test_4xx_is_not_retried(self):
        self.fake.script(CREATE_FBB, [{"status": 400, "body": {
            "success": False, "message": "PAN rejected by lender"}}])
        lead = valid_lead()
        body = self.assertLosError(self.post_lead(self.lg, lead, self.key))
        # The partner's message is passed on.
        self.assertIn("PAN rejected by lender", body.get("detail", ""), body)
        time.sleep(0.3)
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_429_is_retried(self):
        self.fake.script(CREATE_FBB, [{"status": 429}])
        lead = valid_lead()
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 2)

    def test_timeout_is_400_within_seconds_after_every_attempt(self):
        self.fake.script(CREATE_FBB, [{"hang": True, "max_s": 8}] * 3)
        lead = valid_lead()
        started = time.monotonic()
        response = self.post_lead(self.lg, lead, self.key, timeout=20)
        elapsed = time.monotonic() - started
        self.assertLosError(response)
        self.assertLess(elapsed, 4.2, "the configured 800 ms timeout was not applied")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 3)

    def test_malformed_json_answer_is_400(self):
        self.fake.script(CREATE_FBB, [{"malformed": True}] * 3)
        lead = valid_lead()
        self.assertLosError(self.post_lead(self.lg, lead, self.key))
        self.assertGreaterEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_success_false_answer_is_400_with_partner_message(self):
        self.fake.script(CREATE_FBB, [{"status": 200, "body": {
            "success": False, "message": "Duplicate application at lender"}}])
        lead = valid_lead()
        body = self.assertLosError(self.post_lead(self.lg, lead, self.key))
        self.assertIn("Duplicate application at lender", body.get("detail", ""), body)

    def test_answer_without_ids_is_400(self):
        self.fake.script(CREATE_FBB, [{"status": 200, "body": {"success": True, "data": {}}}] * 3)
        self.assertLosError(self.post_lead(self.lg, valid_lead(), self.key))

    def test_connection_dropped_is_retried(self):
        self.fake.script(CREATE_FBB, [{"drop": True}])
        lead = valid_lead()
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 2)


class LosUnreachableTest(LeadgateTestCase):
    """Nothing listening at LEADGATE_BASIC_APP_URL: a transport error, still a 400."""

    def test_connection_refused_is_400(self):
        from harness import free_port
        fake, lg, key = self.start_service(env={
            "LEADGATE_BASIC_APP_URL": f"http://127.0.0.1:{free_port()}",
            "LEADGATE_BASIC_APP_BACKOFF_MS": "20",
        })
        started = time.monotonic()
        self.assertProblem(self.post_lead(lg, valid_lead(), key), 400, "BASIC_APP_API_ERROR")
        self.assertLess(time.monotonic() - started, 5.0)


if __name__ == "__main__":
    unittest.main()
