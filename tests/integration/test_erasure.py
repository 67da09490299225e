"""Erasure by crypto-shredding (issue 21 §3) and the retention sweep (§4): POST
/api_v1/privacy/erase, `leadgate privacy erase`, withdrawing loan_processing, and
`leadgate privacy sweep`. After an erasure neither the API nor a scan of the database finds the
person; a legal hold (the LOS asked first) or an LOS that cannot answer erases nothing.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_erasure
"""
from __future__ import annotations

import json
import re
import unittest

from harness import (
    LeadgateTestCase, accepted, random_mobile, template_calls_for, valid_lead, wait_until,
)
from test_whatsapp_webhook import GUPSHUP_TOKEN, SERVICE_ENV, WEBHOOK, gupshup_message

ERASE = "/api_v1/privacy/erase"
EXPORT = "/api_v1/privacy/export"
WITHDRAW = "/api_v1/privacy/consent/withdraw"
LEAD_STATUS = "/api_v1/lead_status"
TRACK = "/api_v1/track_application"


class ErasureTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service(env=SERVICE_ENV)

    def post(self, path, body, key=None):
        return self.lg.request("POST", path, body, api_key=key or self.key)

    def create(self, **overrides):
        lead = valid_lead(**overrides)
        status, _, created = self.post("/api_v1/create_lead", lead)
        self.assertEqual(status, 200, created)
        return lead, created

    def erase(self, mobile, reason="customer asked by e-mail", env="orbit"):
        return self.post(ERASE, {"environment": env, "mobile_number": mobile, "reason": reason})

    def found(self, mobile) -> int:
        return self.post(LEAD_STATUS, {"environment": "orbit", "mobile_number": mobile})[0]

    def test_after_erasure_neither_the_api_nor_the_database_finds_the_person(self):
        lead, created = self.create(firstName="Zubeida", lastName="Quraishi",
                                    remarks="Zubeida prefers Urdu")
        mobile = lead["mobile"]
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), timeout=10)
        text = "Zubeida asks about her loan"
        body = json.dumps(gupshup_message(mobile, text))
        status, _, resp = self.lg.request("POST", f"{WEBHOOK}/{GUPSHUP_TOKEN}", raw_body=body,
                                          headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, resp)
        wait_until(lambda: self.post(EXPORT, {"environment": "orbit", "mobile_number": mobile})
                   [2]["data"]["messages_received"], timeout=15)
        # What a reader of the storage could use before: the person's wrapped data key and the
        # ciphertext of their name, sealed under it.
        [(key_id, wrapped)] = self.lg.db_query(
            "SELECT id, wrapped_key FROM person_keys WHERE environment = 'orbit'")
        [(sealed_name,)] = self.lg.db_query(
            "SELECT first_name_enc FROM leads WHERE reference_id = ?", (created["reference_id"],))
        self.assertTrue(sealed_name.startswith(f"v1:p{key_id}:"), sealed_name)
        before = self.lg.db_bytes()
        self.assertIn(wrapped.encode(), before)
        self.assertIn(sealed_name.encode(), before)

        status, _, erased = self.erase(mobile)
        self.assertEqual(status, 200, erased)
        summary = erased["data"]["erasure"]
        self.assertEqual((summary["leads"], summary["data_keys_destroyed"],
                          summary["applications_checked"]), (1, 1, 1), summary)
        self.assertGreaterEqual(summary["conversation_texts_deleted"], 1, summary)

        self.assertEqual(self.found(mobile), 404)
        self.assertEqual(self.post(TRACK, {"environment": "orbit", "mobile_number": mobile})[0],
                         404)
        status, _, exported = self.post(EXPORT, {"environment": "orbit", "mobile_number": mobile})
        self.assertEqual(status, 200, exported)
        for name in ("leads", "consents", "messages_received", "messages_sent_outside_leads",
                     "otp", "consent_requests"):
            self.assertEqual(exported["data"][name], [], name)
        after = self.lg.db_bytes()
        for needle in ("Zubeida", "Quraishi", lead["pan"], lead["email"], mobile, wrapped,
                       sealed_name, text):
            self.assertNotIn(needle.encode(), after, f"{needle!r} is still in the database")
        # The tombstone keeps the counts: the lead row is there, without PII.
        [(count,)] = self.lg.db_query("SELECT COUNT(*) FROM leads WHERE environment = 'orbit'")
        self.assertEqual(int(count), 1)
        logged = self.lg.log_text()
        self.assertRegex(logged, r'"event":"privacy_erase".*"api_key_name":"tests"')
        self.assertRegex(logged, r'"event":"person_erased"')

        # A new lead for the same mobile is a new customer, with a new data key.
        _, again = self.create(mobile=mobile, pan=lead["pan"], lastName="Quraishi")
        self.assertNotEqual(again["reference_id"], created["reference_id"])
        self.assertEqual(self.found(mobile), 200)
        keys = {row[0] for row in self.lg.db_query(
            "SELECT id FROM person_keys WHERE environment = 'orbit' AND erased_at = 0")}
        self.assertEqual(len(keys), 1)
        self.assertNotIn(key_id, keys)

    def test_a_legal_hold_or_an_unanswering_los_erases_nothing(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        basic_id = created["basic_application_id"]
        self.fake.set_status(basic_id, "Sanctioned")
        response = self.erase(mobile)
        self.assertProblem(response, 409, "LEGAL_HOLD")
        problem = response[2]
        self.assertIn("Sanctioned", problem["detail"])
        self.assertEqual(problem.get("basic_application_id"), basic_id)
        self.assertEqual(self.found(mobile), 200)
        # The cache says nothing about it: the LOS is asked at erasure time.
        asked = len(self.fake.calls("GetApplicationStatus"))
        self.fake.set_status(basic_id, "Under Review")
        # Every attempt of the status call fails (LEADGATE_STATUS_ATTEMPTS, 2 by default).
        self.fake.script("GetApplicationStatus", [{"status": 503}] * 2)
        status, headers, problem = self.erase(mobile)
        self.assertEqual(status, 503, problem)
        self.assertEqual(problem["code"], "LOS_UNAVAILABLE")
        self.assertIn("retry-after", headers)
        self.assertGreater(len(self.fake.calls("GetApplicationStatus")), asked)
        self.assertEqual(self.found(mobile), 200)
        status, _, erased = self.erase(mobile)
        self.assertEqual(status, 200, erased)
        self.assertEqual(self.found(mobile), 404)
        # The CLI twin asks the same questions.
        other, _ = self.create()
        result = self.lg.run_cli("privacy", "erase", "--env", "orbit", "--phone",
                                 other["mobile"], "--reason", "written request")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 lead(s) tombstoned", result.stdout)
        self.assertEqual(self.found(other["mobile"]), 404)
        result = self.lg.run_cli("privacy", "erase", "--env", "orbit", "--phone", "12")
        self.assertEqual(result.returncode, 2)

    def test_bad_fields_are_named(self):
        status, _, problem = self.post(ERASE, {"environment": "orbit", "mobile_number": "12"})
        self.assertEqual(status, 422, problem)
        self.assertEqual({e["field"] for e in problem["errors"]}, {"mobile_number", "reason"})

    def test_an_app_key_needs_the_persons_customer_token(self):
        lead, _ = self.create()
        app_key = self.lg.create_api_key("app", ("orbit",), kind="app")
        self.assertProblem(self.post(ERASE, {"environment": "orbit",
                                             "mobile_number": lead["mobile"],
                                             "reason": "from the app"}, key=app_key),
                           401, "CUSTOMER_TOKEN_REQUIRED")
        self.assertEqual(self.found(lead["mobile"]), 200)

    def test_withdrawing_loan_processing_erases_the_person(self):
        lead, _ = self.create()
        mobile = lead["mobile"]
        status, _, resp = self.post(WITHDRAW, {"environment": "orbit", "mobile_number": mobile,
                                               "purpose": "loan_processing"})
        self.assertEqual(status, 200, resp)
        self.assertEqual(resp["data"]["erasure"]["leads"], 1, resp)
        self.assertEqual(self.found(mobile), 404)

    def test_the_sweep_erases_people_inactive_for_the_given_time(self):
        lead, _ = self.create()
        result = self.lg.run_cli("privacy", "sweep", "--older-than", "30d")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("0 inactive person(s), 0 erased", result.stdout)
        self.assertEqual(self.found(lead["mobile"]), 200)
        result = self.lg.run_cli("privacy", "sweep", "--older-than", "0s")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"[1-9]\d* erased")
        self.assertEqual(self.found(lead["mobile"]), 404)
        result = self.lg.run_cli("privacy", "sweep", "--older-than", "soon")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--older-than", result.stderr)


if __name__ == "__main__":
    unittest.main()
