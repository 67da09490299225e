"""Idempotency-Key on POST /api_v1/create_lead.

Spec: interfaces.md §2: same key + same body -> the stored response replayed with
`Idempotent-Replayed: true`; same key + different body -> 422; same key while the first is
still running -> 409; keys persisted (issue 2: in the database).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_idempotency
"""

import json
import threading
import time
import unittest
import uuid

from harness import CREATE_LEAD, LeadgateTestCase, http_request, los_calls_for, valid_lead

CREATE_FBB = "CreateFBBByBasicUser"


def raw_post(lg, raw: bytes, key: str, idem: str, timeout: float = 30.0):
    """POST the exact bytes given (so both requests carry the identical body)."""
    return http_request(lg.host, lg.port, "POST", CREATE_LEAD, raw_body=raw, timeout=timeout,
                        headers={"Content-Type": "application/json",
                                 "Authorization": f"Bearer {key}", "Idempotency-Key": idem})


class IdempotencyTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_same_key_same_body_replays_the_stored_response(self):
        lead = valid_lead()
        raw = json.dumps(lead).encode()
        idem = str(uuid.uuid4())
        status1, headers1, body1 = raw_post(self.lg, raw, self.key, idem)
        self.assertEqual(status1, 200, body1)
        self.assertNotEqual(headers1.get("idempotent-replayed"), "true")
        status2, headers2, body2 = raw_post(self.lg, raw, self.key, idem)
        self.assertEqual(status2, 200, body2)
        self.assertEqual(body2, body1)
        self.assertEqual(body2["message"], "Lead created successfully")
        self.assertEqual(headers2.get("idempotent-replayed"), "true")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_replay_survives_a_restart(self):
        lead = valid_lead()
        raw = json.dumps(lead).encode()
        idem = str(uuid.uuid4())
        status1, _, body1 = raw_post(self.lg, raw, self.key, idem)
        self.assertEqual(status1, 200, body1)
        self.lg.restart()
        status2, headers2, body2 = raw_post(self.lg, raw, self.key, idem)
        self.assertEqual(status2, 200, body2)
        self.assertEqual(body2, body1)
        self.assertEqual(headers2.get("idempotent-replayed"), "true")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_same_key_different_body_is_422(self):
        lead = valid_lead()
        idem = str(uuid.uuid4())
        status, _, body = raw_post(self.lg, json.dumps(lead).encode(), self.key, idem)
        self.assertEqual(status, 200, body)
        other = dict(lead, loanAmountReq=lead["loanAmountReq"] + 100000)
        response = raw_post(self.lg, json.dumps(other).encode(), self.key, idem)
        self.assertProblem(response, 422)
        self.assertNotEqual(response[1].get("idempotent-replayed"), "true")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_same_key_while_first_is_running_is_409(self):
        self.fake.script(CREATE_FBB, [{"delay_ms": 4000}])  # under the 5 s LOS timeout
        lead = valid_lead()
        raw = json.dumps(lead).encode()
        idem = str(uuid.uuid4())
        first = {}

        def send_first():
            first["response"] = raw_post(self.lg, raw, self.key, idem)

        thread = threading.Thread(target=send_first)
        thread.start()
        try:
            self.fake.wait_for_calls(CREATE_FBB, 1, timeout=5)
            started = time.monotonic()
            second = raw_post(self.lg, raw, self.key, idem)
            self.assertLess(time.monotonic() - started, 3.0, "the second request waited")
            self.assertProblem(second, 409)
        finally:
            thread.join(10)
        status, _, body = first["response"]
        self.assertEqual(status, 200, body)
        # Once the first has finished, the key replays it.
        status3, headers3, body3 = raw_post(self.lg, raw, self.key, idem)
        self.assertEqual(status3, 200, body3)
        self.assertEqual(body3, body)
        self.assertEqual(headers3.get("idempotent-replayed"), "true")
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_different_keys_are_independent(self):
        lead = valid_lead()
        raw = json.dumps(lead).encode()
        status1, _, body1 = raw_post(self.lg, raw, self.key, str(uuid.uuid4()))
        status2, headers2, body2 = raw_post(self.lg, raw, self.key, str(uuid.uuid4()))
        self.assertEqual((status1, status2), (200, 200), (body1, body2))
        self.assertNotEqual(headers2.get("idempotent-replayed"), "true")
        # A second, independent request for the same customer is the upsert.
        self.assertEqual(body2["message"], "Lead updated successfully")


if __name__ == "__main__":
    unittest.main()
