"""Data-protection rights (issue 21), the consent ledger: POST /api_v1/privacy/consents answers a
person's current consent per purpose and its whole history; POST /api_v1/privacy/consent/withdraw
withdraws one, sending the person nothing. A lead's submission, otp_send (user_check true or the
consent link), and WhatsApp STOP / START all land in the ledger.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_privacy
"""
from __future__ import annotations

import json
import re
import time
import unittest

from harness import (
    LeadgateTestCase, accepted, random_mobile, template_calls_for, valid_lead, wait_until,
)
from test_whatsapp_webhook import GUPSHUP_TOKEN, SERVICE_ENV, WEBHOOK, gupshup_message

CONSENTS = "/api_v1/privacy/consents"
WITHDRAW = "/api_v1/privacy/consent/withdraw"
NOTICE = "2026-12-privacy-v3"
ENV = {**SERVICE_ENV, "LEADGATE_ORBIT_CONSENT_NOTICE_VERSION": NOTICE,
       "LEADGATE_ORBIT_GRIEVANCE_CONTACT": "grievance.officer@orbit.example.in"}


class ConsentLedgerTest(LeadgateTestCase):

    def setUp(self):
        # A failed WhatsApp send is retried after 3 s: time to withdraw while it is queued.
        self.fake, self.lg, self.key = self.start_service(
            env={**ENV, "LEADGATE_OUTBOX_BACKOFF_MS": "3000"})

    def consents(self, mobile, env="orbit", key=None, headers=None):
        return self.lg.request("POST", CONSENTS, {"environment": env, "mobile_number": mobile},
                               api_key=key or self.key, headers=headers)

    def withdraw(self, mobile, purpose, env="orbit", key=None, headers=None):
        return self.lg.request("POST", WITHDRAW, {"environment": env, "mobile_number": mobile,
                                                  "purpose": purpose},
                               api_key=key or self.key, headers=headers)

    def current(self, mobile) -> dict:
        status, _, body = self.consents(mobile)
        self.assertEqual(status, 200, body)
        return body["data"]["current"]

    def history(self, mobile) -> list[dict]:
        return self.consents(mobile)[2]["data"]["history"]

    def test_an_unknown_person_has_no_consents(self):
        status, _, body = self.consents(random_mobile())
        self.assertEqual(status, 200, body)
        self.assertIs(body["success"], True)
        self.assertEqual(body["data"]["current"], {"whatsapp_otp": "none",
                                                   "whatsapp_updates": "none",
                                                   "loan_processing": "none"})
        self.assertEqual(body["data"]["history"], [])

    def test_every_bad_field_is_named(self):
        status, _, body = self.lg.request("POST", WITHDRAW, {"environment": "orbit",
                                                             "mobile_number": "12",
                                                             "purpose": "marketing"},
                                          api_key=self.key)
        self.assertProblem((status, _, body), 422, "VALIDATION_ERROR")
        self.assertEqual({e["field"] for e in body["errors"]}, {"mobile_number", "purpose"})
        orbit_only = self.lg.create_api_key("orbit-only", ("orbit",))
        self.assertProblem(self.consents(random_mobile(), env="homfinity", key=orbit_only), 403,
                           "ENVIRONMENT_FORBIDDEN")

    def test_a_lead_and_an_otp_grant_and_a_withdrawal_is_recorded_with_nothing_sent(self):
        lead = valid_lead()
        mobile = lead["mobile"]
        status, _, body = self.lg.request("POST", "/api_v1/create_lead", lead, api_key=self.key,
                                          headers={"X-Request-ID": "privacy-lead-0001"})
        self.assertEqual(status, 200, body)
        status, _, body = self.lg.request("POST", "/api_v1/otp_send",
                                          {"environment": "orbit", "phone_number": mobile,
                                           "user_check": True}, api_key=self.key)
        self.assertEqual(status, 200, body)
        # A second code asserts nothing new: the ledger does not repeat the grant.
        self.lg.db_execute("DELETE FROM rate_events")
        self.lg.request("POST", "/api_v1/otp_send", {"environment": "orbit",
                                                     "phone_number": mobile, "user_check": True},
                        api_key=self.key)
        self.assertEqual(self.current(mobile), {"whatsapp_otp": "granted",
                                                "whatsapp_updates": "none",
                                                "loan_processing": "granted"})
        history = self.history(mobile)
        self.assertEqual([(e["purpose"], e["source"]) for e in history],
                         [("loan_processing", "api"), ("whatsapp_otp", "client_asserted")])
        self.assertEqual(history[0]["request_id"], "privacy-lead-0001")
        self.assertEqual(history[0]["notice_version"], NOTICE)
        self.assertRegex(history[0]["granted_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertNotIn("withdrawn_at", history[0])

        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), timeout=10)
        sent_before = len(template_calls_for(self.fake, mobile))
        status, _, body = self.withdraw(mobile, "whatsapp_otp",
                                        headers={"X-Request-ID": "privacy-withdraw-01"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["current"], "withdrawn")
        event = body["data"]["event"]
        self.assertEqual((event["purpose"], event["source"], event["request_id"]),
                         ("whatsapp_otp", "api", "privacy-withdraw-01"))
        self.assertIn("withdrawn_at", event)
        # Withdrawing again answers the standing withdrawal and records nothing more.
        status, _, again = self.withdraw(mobile, "whatsapp_otp")
        self.assertEqual(status, 200, again)
        self.assertEqual(again["data"]["event"], event)
        self.assertEqual(self.current(mobile)["whatsapp_otp"], "withdrawn")
        self.assertEqual(len(self.history(mobile)), 3)
        time.sleep(0.5)
        self.assertEqual(len(template_calls_for(self.fake, mobile)), sent_before,
                         "a withdrawal through the API sends the person nothing")
        logged = self.lg.log_text()
        self.assertRegex(logged, r'"event":"privacy_withdraw".*"api_key_name":"tests"')
        self.assertNotIn(mobile, logged)
        # Withdrawing loan_processing erases the person (test_erasure), still sending nothing.
        status, _, body = self.withdraw(mobile, "loan_processing")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["erasure"]["leads"], 1, body)
        self.assertEqual(self.current(mobile), {"whatsapp_otp": "none", "whatsapp_updates": "none",
                                                "loan_processing": "none"})
        time.sleep(0.3)
        self.assertEqual(len(template_calls_for(self.fake, mobile)), sent_before)

    def test_withdrawing_updates_suppresses_a_message_already_queued(self):
        self.fake.script("gupshup", [{"status": 500}])  # the confirmation's first attempt fails
        lead = valid_lead()
        mobile = lead["mobile"]
        status, _, created = self.lg.request("POST", "/api_v1/create_lead", lead,
                                             api_key=self.key)
        self.assertEqual(status, 200, created)
        wait_until(lambda: template_calls_for(self.fake, mobile), timeout=10)
        rows = self.lg.db_query("SELECT status FROM outbox WHERE lead_ref = ?",
                                (created["reference_id"],))
        self.assertEqual(rows, [("pending",)], "queued for a retry")
        status, _, body = self.withdraw(mobile, "whatsapp_updates")
        self.assertEqual(status, 200, body)
        wait_until(lambda: self.lg.db_query("SELECT status FROM outbox WHERE lead_ref = ?",
                                            (created["reference_id"],)) == [("suppressed",)],
                   timeout=15, message="the queued confirmation was not suppressed")
        self.assertEqual(len(template_calls_for(self.fake, mobile)), 1, "only the failed attempt")
        self.assertEqual(self.current(mobile)["whatsapp_updates"], "withdrawn")

    def test_whatsapp_stop_and_start_are_in_the_ledger(self):
        mobile = random_mobile()
        for text in ("STOP", "START"):
            body = json.dumps(gupshup_message(mobile, text))
            status, _, resp = self.lg.request("POST", f"{WEBHOOK}/{GUPSHUP_TOKEN}",
                                              raw_body=body,
                                              headers={"Content-Type": "application/json"})
            self.assertEqual(status, 200, resp)
            wait_until(lambda: len(self.history(mobile)) == (1 if text == "STOP" else 2),
                       timeout=15, message=f"{text} not in the ledger")
        history = self.history(mobile)
        self.assertEqual([(e["purpose"], e["source"], "withdrawn_at" in e) for e in history],
                         [("whatsapp_updates", "whatsapp_stop", True),
                          ("whatsapp_updates", "whatsapp_start", False)])
        self.assertEqual(self.current(mobile)["whatsapp_updates"], "granted")

    def test_an_app_key_needs_the_persons_customer_token(self):
        app_key = self.lg.create_api_key("app", ("orbit",), kind="app")
        self.assertProblem(self.consents(random_mobile(), key=app_key), 401,
                           "CUSTOMER_TOKEN_REQUIRED")
        self.assertProblem(self.withdraw(random_mobile(), "whatsapp_updates", key=app_key), 401,
                           "CUSTOMER_TOKEN_REQUIRED")


EXPORT = "/api_v1/privacy/export"


class ExportTest(LeadgateTestCase):
    """POST /api_v1/privacy/export and `leadgate privacy export`: everything held, decrypted."""

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service(env=ENV)

    def export(self, mobile, env="orbit", key=None):
        return self.lg.request("POST", EXPORT, {"environment": env, "mobile_number": mobile},
                               api_key=key or self.key)

    def assert_empty(self, data):
        for name in ("leads", "consents", "messages_received", "messages_sent_outside_leads",
                     "otp", "consent_requests"):
            self.assertEqual(data[name], [], name)

    def test_an_unknown_person_gets_empty_lists(self):
        status, _, body = self.export(random_mobile())
        self.assertEqual(status, 200, body)
        self.assert_empty(body["data"])

    def test_a_persons_lead_messages_consents_and_otp_times_but_never_the_code(self):
        lead = valid_lead(remarks="Prefers a call after 6 pm")
        mobile = lead["mobile"]
        status, _, created = self.lg.request("POST", "/api_v1/create_lead", lead,
                                             api_key=self.key)
        self.assertEqual(status, 200, created)
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), timeout=10)
        body = json.dumps(gupshup_message(mobile, "what is my loan status"))
        status, _, resp = self.lg.request("POST", f"{WEBHOOK}/{GUPSHUP_TOKEN}", raw_body=body,
                                          headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, resp)
        before = len(template_calls_for(self.fake, mobile))
        status, _, resp = self.lg.request("POST", "/api_v1/otp_send",
                                          {"environment": "orbit", "phone_number": mobile,
                                           "user_check": True}, api_key=self.key)
        self.assertEqual(status, 200, resp)
        otp_call = template_calls_for(self.fake, mobile)[before]
        code = re.search(r"\b\d{6}\b", json.dumps(otp_call["form"])).group(0)

        def exported():
            status, _, body = self.export(mobile)
            self.assertEqual(status, 200, body)
            return body["data"]
        wait_until(lambda: exported()["messages_received"], timeout=15,
                   message="the inbound message never reached the export")
        data = exported()
        self.assertEqual((data["environment"], data["mobile_number"]), ("orbit", mobile))
        [got] = data["leads"]
        self.assertEqual(got["reference_id"], created["reference_id"])
        for field in ("firstName", "lastName", "email", "pan", "remarks"):
            self.assertEqual(got["fields"].get(field), lead[field], field)
        self.assertEqual(got["fields"]["mobile"], mobile)
        self.assertIn("created", {e["operation"] for e in got["audit"]})
        self.assertTrue(all("old_value" not in e for e in got["audit"]))
        purposes = {m["purpose"]: m for m in got["messages_sent"]}
        self.assertIn("lead_confirmation", purposes)
        self.assertTrue(purposes["lead_confirmation"]["params"])
        self.assertEqual([(e["purpose"], e["source"]) for e in data["consents"]],
                         [("loan_processing", "api"), ("whatsapp_otp", "client_asserted")])
        self.assertEqual([m["text"] for m in data["messages_received"]],
                         ["what is my loan status"])
        [otp] = data["otp"]
        self.assertRegex(otp["sent_at"], r"^\d{4}-\d\d-\d\dT")
        self.assertNotIn(code, json.dumps(data), "an OTP code in the export")
        # The other brand holds nothing about the same mobile.
        status, _, other = self.export(mobile, env="homfinity")
        self.assertEqual(status, 200, other)
        self.assert_empty(other["data"])
        # The CLI twin prints the same object.
        result = self.lg.run_cli("privacy", "export", "--env", "orbit", "--phone", mobile)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), exported())
        self.assertIn("1 lead(s)", result.stderr)
        result = self.lg.run_cli("privacy", "export", "--env", "orbit", "--phone", "12")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--phone", result.stderr)
        logged = self.lg.log_text()
        self.assertRegex(logged, r'"event":"privacy_export".*"api_key_name":"tests"')

    def test_an_app_key_needs_the_persons_customer_token(self):
        app_key = self.lg.create_api_key("app", ("orbit",), kind="app")
        self.assertProblem(self.export(random_mobile(), key=app_key), 401,
                           "CUSTOMER_TOKEN_REQUIRED")


if __name__ == "__main__":
    unittest.main()
