"""Customer-level authorisation (issue 20 §2) and the ops-only key on brand routes (§5), through
the real binary and the fake partners, on either store (LEADGATE_TEST_STORE).

An `app` API key (a key inside a mobile app) may act on a customer only with the customer token
otp_verify answered for that customer's phone in that environment (X-Customer-Token): create_lead,
lead_flash, lead_status, track_application, book_appointment, cancel_appointment and the
appointment's .ics. Without a valid token: 401 CUSTOMER_TOKEN_REQUIRED; with another phone's or
another environment's: 403 CUSTOMER_MISMATCH. The OTP endpoints and appointment_slots stay open.
A `server` key (the default) is unchanged.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_customer_tokens
"""
from __future__ import annotations

import time
import unittest

from harness import (FakePartners, Leadgate, LeadgateTestCase, accepted, bookable_dates,
                     clock_12h, ddmmyyyy, los_calls_for, random_mobile, template_calls_for,
                     valid_lead)

SEND = "/api_v1/otp_send"
RESEND = "/api_v1/otp_resend"
VERIFY = "/api_v1/otp_verify"
CREATE = "/api_v1/create_lead"
FLASH = "/api_v1/lead_flash"
STATUS = "/api_v1/lead_status"
TRACK = "/api_v1/track_application"
BOOK = "/api_v1/book_appointment"
CANCEL = "/api_v1/cancel_appointment"
SLOTS = "/api_v1/appointment_slots"
TOKEN_RE = r"^lgc_[A-Za-z0-9_-]{43}$"

SERVICE_ENV = {
    "LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "0",
    "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000",
    "LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "1000",
    "LEADGATE_SELF_FULFILMENT_DELAY_MS": "50",
    "LEADGATE_CUSTOMER_TOKEN_TTL_SECONDS": "600",
}
RM = {"name": "Token Tester", "phone": "9876500011", "location": "Andheri Branch, Mumbai"}


def status_updates(fake, mobile) -> list[dict]:
    return [c for c in template_calls_for(fake, mobile)
            if (c.get("template") or {}).get("id") == "orbit_status_update"]


class CustomerTokenTestCase(LeadgateTestCase):
    """One service for the class: a server key, an app key for both environments, an RM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env=SERVICE_ENV)
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.server_key = cls.lg.create_api_key("backend", ("orbit", "homfinity"))
        cls.app_key = cls.lg.create_api_key("mobile-app", ("orbit", "homfinity"), kind="app")
        cls.rm_result = cls.lg.run_cli("rm", "add", "--env", "orbit", "--name", RM["name"],
                                       "--phone", RM["phone"], "--location", RM["location"])

    # ---- helpers

    def call(self, method, path, body=None, key=None, token=None):
        headers = {"X-Customer-Token": token} if token is not None else None
        return self.lg.request(method, path, body, headers=headers,
                               api_key=key or self.app_key)

    def token_for(self, phone, env="orbit", key=None) -> str:
        """otp_send + otp_verify with the code the fake Gupshup received; the customer_token."""
        before = len(self._otp_calls(phone, env))
        status, _, body = self.call("POST", SEND, {"environment": env, "phone_number": phone,
                                                   "user_check": True}, key=key)
        self.assertEqual(status, 200, body)
        calls = self._otp_calls(phone, env)
        self.assertEqual(len(calls), before + 1, calls)
        code = calls[-1]["template"]["params"][0]
        status, _, body = self.call("POST", VERIFY, {"environment": env, "phone_number": phone,
                                                     "otp": code}, key=key)
        self.assertEqual(status, 200, body)
        token = body["data"]["customer_token"]
        self.assertRegex(token, TOKEN_RE)
        return token

    def _otp_calls(self, phone, env):
        return [c for c in accepted(template_calls_for(self.fake, phone))
                if (c.get("template") or {}).get("id") == f"{env}_otp_authentication"]

    def created_lead(self, **overrides):
        """A lead created with the server key: (lead body, response body)."""
        lead = valid_lead(**overrides)
        status, _, body = self.post_lead(self.lg, lead, self.server_key)
        self.assertEqual(status, 200, body)
        return lead, body

    def assertRequired(self, response):
        self.assertProblem(response, 401, "CUSTOMER_TOKEN_REQUIRED")

    def assertMismatch(self, response):
        self.assertProblem(response, 403, "CUSTOMER_MISMATCH")


class CustomerTokenIssueTest(CustomerTokenTestCase):

    def test_verify_answers_a_token_stored_only_as_a_hash(self):
        phone = random_mobile()
        token = self.token_for(phone)
        self.assertNotIn(token.encode(), self.lg.db_bytes())
        rows = self.lg.db_query("SELECT environment, phone_bidx, expires_at - created_at "
                                "FROM customer_tokens")
        self.assertTrue(rows)
        for env, bidx, ttl in rows:
            self.assertNotIn(phone, str(bidx))
            self.assertEqual(int(ttl), 600_000)
        # A second verification gives a new token; both work until they expire.
        again = self.token_for(phone)
        self.assertNotEqual(token, again)
        for t in (token, again):
            status, _, body = self.call("POST", TRACK, {"environment": "orbit",
                                                        "mobile_number": phone}, token=t)
            self.assertEqual(status, 404, body)  # proven, and the customer has no lead yet

    def test_a_server_key_is_unchanged(self):
        lead, created = self.created_lead()
        for path, body in ((STATUS, {"environment": "orbit", "mobile_number": lead["mobile"]}),
                           (TRACK, {"environment": "orbit", "mobile_number": lead["mobile"]})):
            status, _, resp = self.call("POST", path, body, key=self.server_key)
            self.assertEqual(status, 200, resp)

    def test_otp_routes_and_slots_stay_open_to_app_keys(self):
        phone = random_mobile()
        status, _, body = self.call("POST", SEND, {"environment": "orbit", "phone_number": phone,
                                                   "user_check": True})
        self.assertEqual(status, 200, body)
        status, _, body = self.call("POST", RESEND, {"environment": "orbit",
                                                     "phone_number": phone})
        self.assertEqual(status, 200, body)
        day = ddmmyyyy(bookable_dates()[3])
        status, _, body = self.call("GET", f"{SLOTS}?environment=orbit&date={day}")
        self.assertEqual(status, 200, body)


class AppKeyLeadsTest(CustomerTokenTestCase):

    def test_create_lead_needs_the_token_of_its_mobile(self):
        lead = valid_lead()
        self.assertRequired(self.call("POST", CREATE, lead))
        self.assertRequired(self.call("POST", CREATE, lead, token="lgc_" + "A" * 43))
        self.assertRequired(self.call("POST", CREATE, lead, token="not-a-token"))
        other = self.token_for(random_mobile())
        self.assertMismatch(self.call("POST", CREATE, lead, token=other))
        homfinity = self.token_for(lead["mobile"], env="homfinity")
        self.assertMismatch(self.call("POST", CREATE, lead, token=homfinity))
        self.assertEqual(los_calls_for(self.fake, lead["mobile"]), [])  # refused before the LOS
        token = self.token_for(lead["mobile"])
        status, _, body = self.call("POST", CREATE, lead, token=token)
        self.assertEqual(status, 200, body)
        # The token is checked before the Idempotency-Key replay too.
        status, _, body = self.lg.request("POST", CREATE, lead, api_key=self.app_key,
                                          headers={"Idempotency-Key": "ct-replay-1",
                                                   "X-Customer-Token": token})
        self.assertEqual(status, 200, body)
        self.assertRequired(self.lg.request("POST", CREATE, lead, api_key=self.app_key,
                                            headers={"Idempotency-Key": "ct-replay-1"}))

    def test_expired_token_is_refused(self):
        lead, _ = self.created_lead()
        token = self.token_for(lead["mobile"])
        body = {"environment": "orbit", "mobile_number": lead["mobile"]}
        status, _, resp = self.call("POST", TRACK, body, token=token)
        self.assertEqual(status, 200, resp)
        self.lg.db_execute("UPDATE customer_tokens SET expires_at = 1")
        self.assertRequired(self.call("POST", TRACK, body, token=token))

    def test_lead_status_and_track_by_mobile_and_by_application_id(self):
        mine, my_lead = self.created_lead()
        theirs, their_lead = self.created_lead()
        token = self.token_for(mine["mobile"])
        for path in (STATUS, TRACK):
            self.assertRequired(self.call("POST", path, {"environment": "orbit",
                                                         "mobile_number": mine["mobile"]}))
            status, _, body = self.call("POST", path, {"environment": "orbit",
                                                       "mobile_number": mine["mobile"]},
                                        token=token)
            self.assertEqual(status, 200, body)
            self.assertMismatch(self.call("POST", path, {"environment": "orbit",
                                                         "mobile_number": theirs["mobile"]},
                                          token=token))
            self.assertMismatch(self.call("POST", path, {"environment": "homfinity",
                                                         "mobile_number": mine["mobile"]},
                                          token=token))
        # By application id alone: the lead found must be the token's customer's.
        status, _, body = self.call("POST", STATUS, {
            "environment": "orbit", "basic_application_id": my_lead["basic_application_id"]},
            token=token)
        self.assertEqual(status, 200, body)
        self.assertMismatch(self.call("POST", STATUS, {
            "environment": "orbit", "basic_application_id": their_lead["basic_application_id"]},
            token=token))
        self.assertRequired(self.call("POST", STATUS, {
            "environment": "orbit", "basic_application_id": their_lead["basic_application_id"]}))
        # An answer stored under an Idempotency-Key is never replayed to another customer.
        by_id = {"environment": "orbit", "basic_application_id": my_lead["basic_application_id"]}
        idem = {"Idempotency-Key": "ct-status-1"}
        status, _, body = self.lg.request("POST", STATUS, by_id, api_key=self.app_key,
                                          headers={**idem, "X-Customer-Token": token})
        self.assertEqual(status, 200, body)
        stranger = self.token_for(theirs["mobile"])
        self.assertMismatch(self.lg.request("POST", STATUS, by_id, api_key=self.app_key,
                                            headers={**idem, "X-Customer-Token": stranger}))
        # notify with another customer's application: refused, and nothing is sent.
        self.assertMismatch(self.call("POST", STATUS, {
            "environment": "orbit", "basic_application_id": their_lead["basic_application_id"],
            "notify": True}, token=token))
        time.sleep(0.3)
        self.assertEqual(status_updates(self.fake, theirs["mobile"]), [])

    def test_lead_flash_needs_the_leads_mobile_and_cannot_change_it(self):
        mine, my_lead = self.created_lead()
        theirs, their_lead = self.created_lead()
        token = self.token_for(mine["mobile"])
        body = {"environment": "orbit", "applicationId": my_lead["applicationId"],
                "professionId": 1, "professionName": "Software Engineer"}
        self.assertRequired(self.call("POST", FLASH, body))
        self.assertMismatch(self.call("POST", FLASH, {**body, "applicationId":
                                                      their_lead["applicationId"]}, token=token))
        self.assertMismatch(self.call("POST", FLASH, {**body, "mobile": random_mobile()},
                                      token=token))
        # The same mobile again is no change.
        status, _, resp = self.call("POST", FLASH, {**body, "mobile": mine["mobile"]},
                                    token=token)
        self.assertEqual(status, 200, resp)


class AppKeyAppointmentsTest(CustomerTokenTestCase):

    def setUp(self):
        self.assertEqual(self.rm_result.returncode, 0, self.rm_result.stderr)

    def test_book_cancel_and_ics_need_the_leads_token(self):
        mine, my_lead = self.created_lead()
        theirs, _ = self.created_lead()
        token = self.token_for(mine["mobile"])
        other = self.token_for(theirs["mobile"])
        day = bookable_dates()[5]
        booking = {"environment": "orbit", "reference_id": my_lead["reference_id"],
                   "date": ddmmyyyy(day), "time": clock_12h(11, 30)}
        self.assertRequired(self.call("POST", BOOK, booking))
        self.assertMismatch(self.call("POST", BOOK, booking, token=other))
        status, _, booked = self.call("POST", BOOK, booking, token=token)
        self.assertEqual(status, 200, booked)
        appointment_id = booked["appointment_id"]
        ics = booked["calendar_url"]
        self.assertRequired(self.call("GET", ics))
        self.assertMismatch(self.call("GET", ics, token=other))
        status, headers, text = self.call("GET", ics, token=token)
        self.assertEqual(status, 200, text)
        self.assertIn("text/calendar", headers.get("content-type", ""))
        cancel = {"environment": "orbit", "appointment_id": appointment_id}
        self.assertRequired(self.call("POST", CANCEL, cancel))
        self.assertMismatch(self.call("POST", CANCEL, cancel, token=other))
        status, _, body = self.call("POST", CANCEL, cancel, token=token)
        self.assertEqual(status, 200, body)


class OpsOnlyKeyTest(LeadgateTestCase):
    """§5: an ops-only key gets 403 SCOPE_FORBIDDEN on every brand route, whether or not the
    request names an environment."""

    def test_every_brand_route(self):
        _, lg, server_key = self.start_service()
        ops_key = lg.create_api_key("ops-only", "ops")
        lead = valid_lead()
        status, _, created = self.post_lead(lg, lead, server_key)
        self.assertEqual(status, 200, created)
        day = ddmmyyyy(bookable_dates()[2])
        requests = [
            ("POST", CREATE, lead),
            ("POST", SEND, {"phone_number": lead["mobile"], "user_check": True}),
            ("POST", RESEND, {"phone_number": lead["mobile"]}),
            ("POST", VERIFY, {"phone_number": lead["mobile"], "otp": "123456"}),
            ("POST", FLASH, {"applicationId": created["applicationId"], "professionId": 1,
                             "professionName": "Software Engineer"}),
            ("POST", STATUS, {"mobile_number": lead["mobile"]}),
            ("POST", TRACK, {"mobile_number": lead["mobile"]}),
            ("POST", BOOK, {"reference_id": created["reference_id"], "date": day,
                            "time": clock_12h(11)}),
            ("POST", CANCEL, {"appointment_id": "00000000-0000-4000-8000-000000000000"}),
            ("GET", f"{SLOTS}?date={day}", None),
            ("GET", "/api_v1/appointments/00000000-0000-4000-8000-000000000000.ics", None),
        ]
        for method, path, body in requests:
            for named in (False, True):
                if named and body is None:
                    path_named = path + ("&" if "?" in path else "?") + "environment=orbit"
                    response = lg.request(method, path_named, api_key=ops_key)
                elif named:
                    response = lg.request(method, path, {**body, "environment": "orbit"},
                                          api_key=ops_key)
                else:
                    plain = {k: v for k, v in (body or {}).items() if k != "environment"}
                    response = lg.request(method, path, plain if body is not None else None,
                                          api_key=ops_key)
                with self.subTest(path=path, environment_named=named):
                    self.assertProblem(response, 403, "SCOPE_FORBIDDEN")
        # The ops key still reads /metrics.
        status, _, _ = lg.request("GET", "/metrics", api_key=ops_key)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
