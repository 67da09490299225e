"""Tracking (issue 6, docs/api.md "Tracking"): POST /api_v1/lead_status and
POST /api_v1/track_application through the real binary and the fake partners, on either store
(LEADGATE_TEST_STORE).

Covered: lookup by mobile number / basic_application_id (masking, both identifiers, 422 without
one, 404 unknown and across environments), several applications newest first, the live status
from the fake LOS (GetApplicationStatus; fake.set_status changes it), the cached fallback when the
partner fails (500s, hangs, malformed or foreign answers), older answers not stored, "local" for
a lead the LOS never accepted, notify -> status_update template at the fake Gupshup (one per
lead per LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS, even for concurrent calls), the
timeline in time order (lead_created … appointment_cancelled), stages and next steps, contact
information from configuration and the RM, and the application_id filter.

One service per class (tests use their own customers; the fake is reset before each test).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_tracking
"""
from __future__ import annotations

import datetime
import json
import threading
import time
import unittest
import uuid

from harness import (
    PARTNER_CREDENTIALS, FakePartners, Leadgate, LeadgateTestCase, accepted, bookable_dates,
    ddmmyyyy, random_mobile, template_calls_for, valid_lead, wait_until,
)

LEAD_STATUS = "/api_v1/lead_status"
TRACK = "/api_v1/track_application"
BOOK = "/api_v1/book_appointment"
CANCEL = "/api_v1/cancel_appointment"
LEAD_FLASH = "/api_v1/lead_flash"
APP_STATUS = "GetApplicationStatus"
CREATE_FBB = "CreateFBBByBasicUser"

ISO_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

SUPPORT = {
    "orbit": {"phone": "1800-200-3000", "email": "care@orbit.example.in",
              "hours": "Mon-Sat 9:00 AM - 7:00 PM IST"},
    "homfinity": {"phone": "1800-200-4000", "email": "care@homfinity.example.in",
                  "hours": "Mon-Fri 10:00 AM - 6:00 PM IST"},
}
STATUS_TIMEOUT_MS = 1500  # per GetApplicationStatus attempt (default 3000)

SERVICE_ENV = {
    "LEADGATE_STATUS_TIMEOUT_MS": str(STATUS_TIMEOUT_MS),
    "LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "3000",
    "LEADGATE_SELF_FULFILMENT_ATTEMPTS": "2",
    "LEADGATE_SELF_FULFILMENT_DELAY_MS": "50",
    "LEADGATE_BASIC_APP_ATTEMPTS": "1",
}
for _env, _s in SUPPORT.items():
    SERVICE_ENV[f"LEADGATE_{_env.upper()}_SUPPORT_PHONE"] = _s["phone"]
    SERVICE_ENV[f"LEADGATE_{_env.upper()}_SUPPORT_EMAIL"] = _s["email"]
    SERVICE_ENV[f"LEADGATE_{_env.upper()}_SUPPORT_HOURS"] = _s["hours"]

RM = {"name": "Meera Iyer", "phone": "9876500011", "location": "Powai Branch, Mumbai"}

APPLICATION_KEYS = {"basic_application_id", "reference_id", "loan_type", "status",
                    "status_source", "created_at"}


def parse_iso(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def status_calls_for(fake: FakePartners, basic_application_id: str) -> list[dict]:
    return [c for c in fake.calls(APP_STATUS)
            if c["query"].get("basic_application_id") == basic_application_id]


def templates_to(fake: FakePartners, mobile: str, template_id: str) -> list[dict]:
    return [c for c in accepted(template_calls_for(fake, mobile))
            if (c.get("template") or {}).get("id") == template_id]


class TrackingTestCase(LeadgateTestCase):
    """One fake + service for the class; the fake is reset before each test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env=SERVICE_ENV)
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("tracking-tests", ("orbit", "homfinity"))
        cls.orbit_key = cls.lg.create_api_key("tracking-orbit", "orbit")
        result = cls.lg.run_cli("rm", "add", "--env", "orbit", "--name", RM["name"],
                                "--phone", RM["phone"], "--location", RM["location"])
        cls.rm_added = result.returncode == 0
        cls.rm_add_output = result.stdout + result.stderr

    def setUp(self):
        self.fake.reset()

    # ---- helpers

    def create(self, **overrides):
        """create_lead (200 expected); returns (lead, response body)."""
        lead = valid_lead(**overrides)
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        return lead, body

    def post(self, path, body, key=None, headers=None):
        return self.lg.request("POST", path, body, headers=headers, api_key=key or self.key)

    def lead_status(self, body, key=None, headers=None, expect=200):
        status, hdrs, resp = self.post(LEAD_STATUS, body, key, headers)
        if expect is not None:
            self.assertEqual(status, expect, resp)
            if expect == 200:
                self.assertIs(resp.get("success"), True, resp)
                self.assertEqual(resp.get("message"), "Lead status retrieved successfully", resp)
                self.assertIsInstance(resp.get("data"), dict, resp)
        return resp if expect == 200 else (status, hdrs, resp)

    def track(self, body, key=None, expect=200):
        status, hdrs, resp = self.post(TRACK, body, key)
        if expect is not None:
            self.assertEqual(status, expect, resp)
            if expect == 200:
                self.assertIs(resp.get("success"), True, resp)
                self.assertEqual(resp.get("message"),
                                 "Application tracking retrieved successfully", resp)
                self.assertIsInstance(resp.get("data"), dict, resp)
        return resp if expect == 200 else (status, hdrs, resp)

    def by_mobile(self, mobile, env="orbit", **extra):
        return self.lead_status({"environment": env, "mobile_number": mobile, **extra})["data"]

    def timeline(self, mobile, env="orbit", **extra):
        data = self.track({"environment": env, "mobile_number": mobile, **extra})["data"]
        self.assertIsInstance(data.get("application_timeline"), list, data)
        return data["application_timeline"]

    def errors_by_field(self, response):
        body = self.assertProblem(response, 422, "VALIDATION_ERROR")
        self.assertIsInstance(body.get("errors"), list, body)
        return {e.get("field"): e.get("message") for e in body["errors"]}

    def assert_not_found(self, response):
        body = self.assertProblem(response, 404, "NOT_FOUND")
        return body

    def require_rm(self):
        if not self.rm_added:
            self.fail(f"leadgate rm add failed: {self.rm_add_output}")

    def wait_confirmation_in_timeline(self, mobile):
        wait_until(lambda: templates_to(self.fake, mobile, "orbit_lead_confirmation"), 10,
                   message="the lead confirmation did not reach the fake Gupshup")

        def sent():
            events = self.timeline(mobile)
            return [e for e in events if e.get("event") == "whatsapp_sent"
                    and (e.get("details") or {}).get("purpose") == "lead_confirmation"]
        return wait_until(sent, 10, interval=0.2,
                          message="whatsapp_sent (lead_confirmation) not in the timeline")


# --------------------------------------------------------------------------- lead_status


class LeadStatusTest(TrackingTestCase):

    def test_by_mobile_live_status_and_body(self):
        lead, created = self.create(loanType="HL", loanAmountReq=2500000, loanTenure=240)
        bid = created["basic_application_id"]
        mobile = lead["mobile"]
        resp = self.lead_status({"environment": "orbit",
                                 "mobile_number": f"+91 {mobile[:5]} {mobile[5:]}"})
        data = resp["data"]
        self.assertEqual(data.get("basic_application_id"), bid, data)
        self.assertEqual(data.get("status"), "Under Review", data)  # the fake's default
        self.assertEqual(data.get("mobile_number"), mobile, data)  # normalised, not masked
        self.assertEqual(data.get("status_source"), "live", data)
        self.assertRegex(str(data.get("status_refreshed_at")), ISO_RE)
        details = data.get("additional_details")
        self.assertIsInstance(details, dict, data)
        self.assertEqual(details.get("reference_id"), created["reference_id"], details)
        self.assertEqual(details.get("application_id"), created["applicationId"], details)
        self.assertEqual(details.get("loan_type"), "HL", details)
        self.assertEqual(details.get("loan_product"), "Home Loan", details)
        self.assertEqual(details.get("loan_amount"), 2500000, details)
        self.assertEqual(details.get("loan_tenure"), 240, details)
        self.assertEqual(details.get("stage"), "Credit assessment", details)  # fake's stage
        self.assertEqual(details.get("lead_status"), "created", details)
        self.assertRegex(str(details.get("partner_updated_at")), ISO_RE)
        self.assertRegex(str(details.get("created_at")), ISO_RE)
        self.assertRegex(str(details.get("updated_at")), ISO_RE)
        self.assertIn("appointment", details)
        self.assertIsNone(details["appointment"], details)
        apps = data.get("applications")
        self.assertIsInstance(apps, list, data)
        self.assertEqual(len(apps), 1, apps)
        self.assertTrue(APPLICATION_KEYS <= set(apps[0]), apps[0])
        self.assertEqual(apps[0]["basic_application_id"], bid)
        self.assertEqual(apps[0]["reference_id"], created["reference_id"])
        self.assertEqual(apps[0]["loan_type"], "HL")
        self.assertEqual(apps[0]["status"], "Under Review")
        # No personal data beyond the normalised mobile.
        text = json.dumps(resp)
        for secret in (lead["pan"], lead["email"]):
            self.assertNotIn(secret, text)

        # The LOS was asked about this application, with the environment's credentials.
        calls = status_calls_for(self.fake, bid)
        self.assertGreaterEqual(len(calls), 1)
        self.assertEqual(calls[0]["method"], "GET")
        creds = PARTNER_CREDENTIALS["orbit"]
        self.assertEqual(calls[0]["headers"].get("x-api-key"), creds["BASIC_APP_API_KEY"])
        self.assertEqual(calls[0]["headers"].get("x-user-id"), creds["BASIC_APP_USER_ID"])

    def test_partner_status_change_is_reported_and_in_the_timeline(self):
        lead, created = self.create()
        bid, mobile = created["basic_application_id"], lead["mobile"]
        self.assertEqual(self.by_mobile(mobile)["status"], "Under Review")
        self.fake.set_status(bid, "Sanctioned", stage="Sanction letter issued")
        data = self.by_mobile(mobile)
        self.assertEqual(data["status"], "Sanctioned", data)
        self.assertEqual(data["status_source"], "live", data)
        self.assertEqual(data["additional_details"]["stage"], "Sanction letter issued", data)
        self.by_mobile(mobile)  # the same answer again: no second change

        events = self.timeline(mobile)
        changes = [e for e in events if e.get("event") == "partner_status_changed"]
        to_sanctioned = [e for e in changes if (e.get("details") or {}).get("to") == "Sanctioned"]
        self.assertEqual(len(to_sanctioned), 1, changes)
        self.assertEqual(to_sanctioned[0]["details"].get("from"), "Under Review", to_sanctioned)

        self.fake.set_status(bid, "Disbursed", stage="Disbursement done")
        self.assertEqual(self.by_mobile(mobile)["status"], "Disbursed")
        changes = [e for e in self.timeline(mobile) if e.get("event") == "partner_status_changed"]
        self.assertEqual([(e["details"].get("from"), e["details"].get("to")) for e in changes
                          if e["details"].get("to") in ("Sanctioned", "Disbursed")],
                         [("Under Review", "Sanctioned"), ("Sanctioned", "Disbursed")], changes)

    def test_several_applications_newest_first(self):
        hl, hl_created = self.create(loanType="HL")
        pl, pl_created = self.create(loanType="PL", mobile=hl["mobile"], pan=hl["pan"],
                                     email=hl["email"], loanAmountReq=500000, loanTenure=60)
        mobile = hl["mobile"]
        self.fake.reset()  # count status calls from here
        data = self.by_mobile(mobile)
        self.assertEqual(data["basic_application_id"], pl_created["basic_application_id"], data)
        self.assertEqual(data["additional_details"]["loan_type"], "PL", data)
        self.assertEqual(data["additional_details"]["loan_product"], "Personal Loan", data)
        apps = data["applications"]
        self.assertEqual([a.get("basic_application_id") for a in apps],
                         [pl_created["basic_application_id"], hl_created["basic_application_id"]],
                         apps)
        self.assertEqual([a.get("loan_type") for a in apps], ["PL", "HL"], apps)
        self.assertEqual([a.get("reference_id") for a in apps],
                         [pl_created["reference_id"], hl_created["reference_id"]], apps)
        for app in apps:
            self.assertTrue(APPLICATION_KEYS <= set(app), app)
        self.assertGreaterEqual(parse_iso(apps[0]["created_at"]), parse_iso(apps[1]["created_at"]))
        # The HL application was never asked about: its stored (derived) status shows.
        self.assertEqual(apps[1]["status"], "Application Created", apps)
        # Only the application shown in data is refreshed live.
        self.assertEqual(len(status_calls_for(self.fake, hl_created["basic_application_id"])), 0)
        self.assertGreaterEqual(
            len(status_calls_for(self.fake, pl_created["basic_application_id"])), 1)

    def test_by_basic_application_id_masks_the_mobile(self):
        lead, created = self.create()
        bid, mobile = created["basic_application_id"], lead["mobile"]
        data = self.lead_status({"environment": "orbit", "basic_application_id": bid})["data"]
        self.assertEqual(data["basic_application_id"], bid, data)
        self.assertEqual(data["mobile_number"], mobile[:2] + "XXXXXX" + mobile[-2:], data)
        self.assertNotIn(mobile, json.dumps(data))
        self.assertEqual(data["additional_details"]["reference_id"], created["reference_id"])

        # Both identifiers: must belong together; the mobile is then shown.
        data = self.lead_status({"environment": "orbit", "basic_application_id": bid,
                                 "mobile_number": mobile})["data"]
        self.assertEqual(data["mobile_number"], mobile, data)
        other, _ = self.create()
        self.assert_not_found(self.lead_status(
            {"environment": "orbit", "basic_application_id": bid,
             "mobile_number": other["mobile"]}, expect=None))

    def test_an_identifier_is_required(self):
        fields = self.errors_by_field(self.lead_status({"environment": "orbit"}, expect=None))
        self.assertIn("mobile_number", fields)
        fields = self.errors_by_field(self.lead_status(
            {"environment": "orbit", "mobile_number": "12345"}, expect=None))
        self.assertIn("mobile_number", fields)

    def test_unknown_lead_is_404(self):
        self.assert_not_found(self.lead_status(
            {"environment": "orbit", "mobile_number": random_mobile()}, expect=None))
        self.assert_not_found(self.lead_status(
            {"environment": "orbit", "basic_application_id": "BZZ9ZZ9"}, expect=None))
        self.assert_not_found(self.track(
            {"environment": "orbit", "mobile_number": random_mobile()}, expect=None))

    def test_another_environments_lead_is_404_like_an_unknown_one(self):
        lead, created = self.create(environment="homfinity")
        bid, mobile = created["basic_application_id"], lead["mobile"]
        ok = self.by_mobile(mobile, env="homfinity")
        self.assertEqual(ok["basic_application_id"], bid)
        foreign = self.assert_not_found(self.lead_status(
            {"environment": "orbit", "mobile_number": mobile}, expect=None))
        unknown = self.assert_not_found(self.lead_status(
            {"environment": "orbit", "mobile_number": random_mobile()}, expect=None))
        strip = lambda b: {k: v for k, v in b.items() if k != "request_id"}  # noqa: E731
        self.assertEqual(strip(foreign), strip(unknown))
        self.assert_not_found(self.lead_status(
            {"environment": "orbit", "basic_application_id": bid}, expect=None))
        self.assert_not_found(self.track(
            {"environment": "orbit", "mobile_number": mobile}, expect=None))

    def test_environment_from_a_single_environment_key(self):
        lead, created = self.create()
        data = self.lead_status({"mobile_number": lead["mobile"]}, key=self.orbit_key)["data"]
        self.assertEqual(data["basic_application_id"], created["basic_application_id"])
        # A key scoped to both environments must name one.
        fields = self.errors_by_field(self.lead_status({"mobile_number": lead["mobile"]},
                                                       expect=None))
        self.assertIn("environment", fields)
        # A key not scoped for the named environment.
        self.assertProblem(self.lead_status({"environment": "homfinity",
                                             "mobile_number": lead["mobile"]},
                                            key=self.orbit_key, expect=None),
                           403, "ENVIRONMENT_FORBIDDEN")

    def test_partner_500_answers_cached(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        live = self.by_mobile(mobile)
        self.assertEqual(live["status_source"], "live", live)
        refreshed = live["status_refreshed_at"]
        self.fake.reset()
        self.fake.script(APP_STATUS, [{"status": 500}] * 3)
        data = self.by_mobile(mobile)
        self.assertEqual(data["status_source"], "cached", data)
        self.assertEqual(data["status"], "Under Review", data)
        self.assertEqual(parse_iso(data["status_refreshed_at"]), parse_iso(refreshed), data)
        self.assertEqual(data["basic_application_id"], created["basic_application_id"])
        self.assertEqual(len(status_calls_for(self.fake, created["basic_application_id"])), 2,
                         "GetApplicationStatus is tried twice (LEADGATE_STATUS_ATTEMPTS 2)")

        self.fake.reset()
        self.fake.script(APP_STATUS, [{"status": 503}] * 3)
        current = self.track({"environment": "orbit", "mobile_number": mobile})["data"]
        current = current["current_status"]
        self.assertEqual(current.get("status_source"), "cached", current)
        self.assertEqual(current.get("status"), "Under Review", current)

    def test_partner_hanging_answers_cached_within_the_timeouts(self):
        lead, created = self.create()
        self.fake.script(APP_STATUS, [{"hang": True, "max_s": 6}] * 3)
        started = time.monotonic()
        data = self.by_mobile(lead["mobile"])
        elapsed = time.monotonic() - started
        self.assertEqual(data["status_source"], "cached", data)
        # Never answered: the status derived from our own (created) and no refresh time.
        self.assertEqual(data["status"], "Application Created", data)
        self.assertIsNone(data["status_refreshed_at"], data)
        budget = 2 * STATUS_TIMEOUT_MS / 1000 + 0.25
        self.assertLess(elapsed, budget + 2.0, f"took {elapsed:.2f}s (timeouts {budget:.2f}s)")
        self.assertEqual(len(status_calls_for(self.fake, created["basic_application_id"])), 2)

    def test_partner_answering_badly_answers_cached(self):
        lead, created = self.create()
        bid, mobile = created["basic_application_id"], lead["mobile"]
        self.assertEqual(self.by_mobile(mobile)["status"], "Under Review")
        foreign = {"status": 200, "body": {"success": True, "data": {
            "basic_application_id": "BOTHER1", "status": "Approved", "stage": "Final",
            "updated_at": "2099-01-01T00:00:00Z"}}}
        for name, entry in (("malformed", {"malformed": True}),
                            ("another application's answer", foreign),
                            ("success false", {"status": 200, "body": {"success": False,
                                                                       "message": "oops"}}),
                            ("status over 100 characters", {"status": 200, "body": {
                                "success": True, "data": {
                                    "basic_application_id": bid, "status": "S" * 101,
                                    "stage": "Final", "updated_at": "2099-01-01T00:00:00Z"}}})):
            with self.subTest(name):
                self.fake.reset()
                self.fake.script(APP_STATUS, [entry] * 3)
                data = self.by_mobile(mobile)
                self.assertEqual(data["status_source"], "cached", data)
                self.assertEqual(data["status"], "Under Review", data)
        self.fake.reset()
        data = self.by_mobile(mobile)
        self.assertEqual((data["status_source"], data["status"]), ("live", "Under Review"), data)
        self.assertEqual(data["basic_application_id"], bid)

    def test_an_older_partner_answer_is_not_stored(self):
        lead, created = self.create()
        bid, mobile = created["basic_application_id"], lead["mobile"]
        newer = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
                 + datetime.timedelta(hours=1))
        newer_text = newer.strftime("%Y-%m-%dT%H:%M:%SZ")
        older_text = (newer - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.fake.set_status(bid, "Sanctioned", stage="Sanction letter issued",
                             updated_at=newer_text)
        data = self.by_mobile(mobile)
        self.assertEqual(data["status"], "Sanctioned", data)
        self.assertEqual(parse_iso(data["additional_details"]["partner_updated_at"]), newer)

        self.fake.set_status(bid, "Rejected", stage="Credit", updated_at=older_text)
        self.by_mobile(mobile)  # the older answer arrives
        self.fake.reset()
        self.fake.script(APP_STATUS, [{"status": 500}] * 3)
        data = self.by_mobile(mobile)  # partner down: the stored status shows
        self.assertEqual(data["status_source"], "cached", data)
        self.assertEqual(data["status"], "Sanctioned", data)
        self.assertEqual(parse_iso(data["additional_details"]["partner_updated_at"]), newer)
        self.assertEqual(data["additional_details"]["stage"], "Sanction letter issued", data)
        self.fake.reset()
        self.fake.set_status(bid, "Sanctioned", stage="Sanction letter issued",
                             updated_at=newer_text)
        changes = [e for e in self.timeline(mobile) if e.get("event") == "partner_status_changed"]
        self.assertNotIn("Rejected", [(e.get("details") or {}).get("to") for e in changes],
                         changes)

    def test_lead_the_los_never_accepted_is_local(self):
        self.fake.script(CREATE_FBB, [{"status": 400, "body": {
            "success": False, "message": "PAN rejected by the lender"}}] * 3)
        lead = valid_lead()
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 400, body)
        self.fake.reset()
        data = self.by_mobile(lead["mobile"])
        self.assertEqual(data["status_source"], "local", data)
        self.assertEqual(data["status"], "Submission Failed", data)
        self.assertFalse(data.get("basic_application_id"), data)  # none yet (null or "")
        self.assertEqual(data["additional_details"]["lead_status"], "los_failed", data)
        self.assertEqual(self.fake.calls(APP_STATUS), [])
        tracked = self.track({"environment": "orbit", "mobile_number": lead["mobile"]})["data"]
        self.assertEqual(tracked["current_status"].get("stage"), "submission_failed", tracked)
        self.assertEqual(tracked["current_status"].get("status_source"), "local", tracked)
        self.assertIn("partner_submission_failed",
                      [e.get("event") for e in tracked["application_timeline"]])

    def test_notify_queues_the_status_update_template(self):
        lead, created = self.create(firstName="Ishaan", lastName="Kapoor")
        bid, mobile = created["basic_application_id"], lead["mobile"]
        self.fake.set_status(bid, "Sanctioned")
        plain = self.by_mobile(mobile)
        self.assertEqual(plain["status"], "Sanctioned")
        time.sleep(0.3)
        self.assertEqual(templates_to(self.fake, mobile, "orbit_status_update"), [],
                         "no status update without notify")
        data = self.by_mobile(mobile, notify=True)
        self.assertEqual(data["additional_details"].get("notification"), "queued", data)
        calls = wait_until(lambda: templates_to(self.fake, mobile, "orbit_status_update"), 10,
                           message="status_update did not reach the fake Gupshup")
        self.assertEqual(calls[0]["form"].get("destination"), "91" + mobile)
        self.assertEqual(calls[0]["form"].get("source"),
                         PARTNER_CREDENTIALS["orbit"]["GUPSHUP_SOURCE"])
        self.assertEqual(calls[0]["template"].get("params"), ["Ishaan Kapoor", bid, "Sanctioned"])
        time.sleep(0.3)
        self.assertEqual(len(templates_to(self.fake, mobile, "orbit_status_update")), 1)

        def queued_or_sent():
            return [e for e in self.timeline(mobile)
                    if e.get("event") in ("whatsapp_queued", "whatsapp_sent")
                    and (e.get("details") or {}).get("purpose") == "status_update"]
        wait_until(queued_or_sent, 10, interval=0.2,
                   message="the status update is not in the timeline")

    def test_notify_sends_one_message_per_interval_even_when_concurrent(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        self.fake.set_status(created["basic_application_id"], "Under Review")
        body = {"environment": "orbit", "mobile_number": mobile, "notify": True}
        results = []
        lock = threading.Lock()

        def call():
            response = self.lead_status(body, expect=None)
            with lock:
                results.append(response)
        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r[0] for r in results], [200] * 6, results)
        notes = sorted(r[2]["data"]["additional_details"].get("notification") for r in results)
        self.assertEqual(notes, ["queued"] + ["suppressed"] * 5, results)
        wait_until(lambda: templates_to(self.fake, mobile, "orbit_status_update"), 10,
                   message="status_update did not reach the fake Gupshup")
        # A later call within LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS (3600) still answers 200.
        data = self.by_mobile(mobile, notify=True)
        self.assertEqual(data["additional_details"].get("notification"), "suppressed", data)
        self.assertEqual(data["status"], "Under Review", data)
        time.sleep(0.5)
        self.assertEqual(len(templates_to(self.fake, mobile, "orbit_status_update")), 1)
        # Once the interval has passed (moved back in the database), the next one is queued.
        moved = self.lg.db_execute(
            "UPDATE leads SET last_status_notified_at = last_status_notified_at - ? "
            "WHERE reference_id = ?", (3_601_000, created["reference_id"]))
        self.assertEqual(moved, 1)
        data = self.by_mobile(mobile, notify=True)
        self.assertEqual(data["additional_details"].get("notification"), "queued", data)
        wait_until(lambda: len(templates_to(self.fake, mobile, "orbit_status_update")) == 2, 10,
                   message="the second status_update did not reach the fake Gupshup")

    def test_idempotency_key_replays(self):
        lead, _ = self.create()
        body = {"environment": "orbit", "mobile_number": lead["mobile"]}
        headers = {"Idempotency-Key": "lead-status-" + uuid.uuid4().hex}
        first = self.lead_status(body, headers=headers, expect=None)
        second = self.lead_status(body, headers=headers, expect=None)
        self.assertEqual(first[0], 200, first)
        self.assertEqual(second[0], 200, second)
        self.assertEqual(second[1].get("idempotent-replayed"), "true", second[1])
        self.assertEqual(first[2], second[2])
        self.assertProblem(self.lead_status({**body, "notify": True}, headers=headers,
                                            expect=None), 422, "IDEMPOTENCY_KEY_REUSED")


# --------------------------------------------------------------------------- track_application


def flash_body(application_id: str) -> dict:
    return {"environment": "orbit", "applicationId": application_id, "professionId": 1,
            "professionName": "Software Engineer"}


class TrackApplicationTest(TrackingTestCase):

    def test_current_status_next_steps_and_contact_information(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        data = self.track({"environment": "orbit", "mobile_number": mobile})["data"]
        self.assertEqual(data.get("basic_application_id"), created["basic_application_id"], data)
        self.assertEqual(data.get("reference_id"), created["reference_id"], data)
        self.assertEqual(data.get("application_id"), created["applicationId"], data)
        self.assertEqual(data.get("mobile_number"), mobile, data)
        current = data.get("current_status")
        self.assertIsInstance(current, dict, data)
        self.assertEqual(current.get("status"), "Under Review", current)
        self.assertEqual(current.get("stage"), "under_review", current)
        self.assertIsInstance(current.get("stage_description"), str, current)
        self.assertTrue(current["stage_description"].strip(), current)
        self.assertEqual(current.get("partner_status"), "Under Review", current)
        self.assertEqual(current.get("partner_stage"), "Credit assessment", current)
        self.assertEqual(current.get("lead_status"), "created", current)
        self.assertEqual(current.get("status_source"), "live", current)
        self.assertRegex(str(current.get("status_refreshed_at")), ISO_RE)
        steps = data.get("next_steps")
        self.assertIsInstance(steps, list, data)
        self.assertTrue(steps, data)
        self.assertTrue(all(isinstance(s, str) and s.strip() for s in steps), steps)
        contact = data.get("contact_information")
        self.assertIsInstance(contact, dict, data)
        self.assertEqual(contact.get("brand"), "Orbit", contact)
        self.assertEqual(contact.get("support_phone"), SUPPORT["orbit"]["phone"], contact)
        self.assertEqual(contact.get("support_email"), SUPPORT["orbit"]["email"], contact)
        self.assertEqual(contact.get("support_hours"), SUPPORT["orbit"]["hours"], contact)
        self.assertIn("relationship_manager", contact)
        self.assertIsNone(contact["relationship_manager"], contact)
        apps = data.get("applications")
        self.assertIsInstance(apps, list, data)
        self.assertEqual([a.get("basic_application_id") for a in apps],
                         [created["basic_application_id"]])

        # The other brand's configuration for its own leads.
        hlead, _ = self.create(environment="homfinity")
        contact = self.track({"environment": "homfinity",
                              "mobile_number": hlead["mobile"]})["data"]["contact_information"]
        self.assertEqual(contact.get("brand"), "Homfinity", contact)
        self.assertEqual(contact.get("support_phone"), SUPPORT["homfinity"]["phone"], contact)
        self.assertEqual(contact.get("support_email"), SUPPORT["homfinity"]["email"], contact)

    def test_rm_named_at_creation_is_the_contact(self):
        lead, _ = self.create(applicationAssignedToRm="Rohit Verma")
        contact = self.track({"environment": "orbit",
                              "mobile_number": lead["mobile"]})["data"]["contact_information"]
        self.assertIsInstance(contact.get("relationship_manager"), dict, contact)
        self.assertEqual(contact["relationship_manager"].get("name"), "Rohit Verma", contact)

    def test_stages_follow_the_partner_status(self):
        lead, created = self.create()
        bid, mobile = created["basic_application_id"], lead["mobile"]
        expected = [("Documents Pending", "documents_pending"), ("KYC verification", "documents_pending"),
                    ("Technical Valuation", "valuation"), ("Under Review", "under_review"),
                    ("Credit Underwriting", "under_review"), ("Sanctioned", "approved"),
                    ("Loan Approved", "approved"), ("Disbursed", "disbursed"),
                    ("Rejected", "rejected"), ("Application Declined", "rejected"),
                    ("On Hold", "on_hold"), ("Login Done", "details_pending")]
        steps_by_stage = {}
        for partner_status, stage in expected:
            with self.subTest(partner_status=partner_status):
                self.fake.set_status(bid, partner_status)
                data = self.track({"environment": "orbit", "mobile_number": mobile})["data"]
                current = data["current_status"]
                self.assertEqual(current.get("status"), partner_status, current)
                self.assertEqual(current.get("stage"), stage, current)
                self.assertTrue(str(current.get("stage_description", "")).strip(), current)
                self.assertTrue(data.get("next_steps"), data)
                steps_by_stage[stage] = tuple(data.get("next_steps") or ())
        # Each stage has its own list of next steps.
        self.assertEqual(len(set(steps_by_stage.values())), len(steps_by_stage), steps_by_stage)

    def test_application_id_selects_one_of_the_customers_applications(self):
        hl, hl_created = self.create(loanType="HL")
        _, pl_created = self.create(loanType="PL", mobile=hl["mobile"], pan=hl["pan"],
                                    email=hl["email"], loanAmountReq=500000, loanTenure=60)
        mobile = hl["mobile"]
        base = {"environment": "orbit", "mobile_number": mobile}
        data = self.track(base)["data"]
        self.assertEqual(data["basic_application_id"], pl_created["basic_application_id"])
        self.assertEqual([a.get("basic_application_id") for a in data["applications"]],
                         [pl_created["basic_application_id"], hl_created["basic_application_id"]])
        for app_id in (hl_created["basic_application_id"], hl_created["applicationId"]):
            with self.subTest(application_id=app_id):
                self.fake.reset()
                data = self.track({**base, "application_id": app_id})["data"]
                self.assertEqual(data["basic_application_id"], hl_created["basic_application_id"])
                self.assertEqual(data["reference_id"], hl_created["reference_id"])
                self.assertEqual(data["application_id"], hl_created["applicationId"])
                self.assertEqual(data["current_status"].get("status_source"), "live")
                self.assertGreaterEqual(
                    len(status_calls_for(self.fake, hl_created["basic_application_id"])), 1)
        other, other_created = self.create()
        for app_id in (other_created["basic_application_id"], other_created["applicationId"],
                       str(uuid.uuid4()), "BZZ9ZZ9"):
            with self.subTest(foreign=app_id):
                self.assert_not_found(self.track({**base, "application_id": app_id},
                                                 expect=None))

    def test_details_updated_lists_fields_without_values(self):
        lead, created = self.create()
        changed = dict(lead, firstName="Kabir", email=f"kabir.{lead['mobile']}@example.org")
        status, _, body = self.post_lead(self.lg, changed, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("message"), "Lead updated successfully", body)
        events = self.timeline(lead["mobile"])
        updates = [e for e in events if e.get("event") == "details_updated"]
        self.assertEqual(len(updates), 1, events)
        fields = (updates[0].get("details") or {}).get("fields")
        self.assertIsInstance(fields, list, updates)
        self.assertEqual(len(fields), 2, fields)
        text = json.dumps(events)
        for value in ("Kabir", changed["email"], lead["email"]):
            self.assertNotIn(value, text)
        names = [e.get("event") for e in events]
        self.assertLess(names.index("lead_created"), names.index("details_updated"), names)

    def test_mobile_number_is_required(self):
        _, created = self.create()
        fields = self.errors_by_field(self.track(
            {"environment": "orbit", "application_id": created["basic_application_id"]},
            expect=None))
        self.assertIn("mobile_number", fields)

    def test_timeline_in_time_order(self):
        self.require_rm()
        lead, created = self.create(firstName="Nikhil", lastName="Sharma")
        bid, mobile = created["basic_application_id"], lead["mobile"]
        self.wait_confirmation_in_timeline(mobile)

        status, _, flashed = self.post(LEAD_FLASH, flash_body(created["applicationId"]))
        self.assertEqual(status, 200, flashed)
        self.fake.set_status(bid, "Sanctioned")
        self.assertEqual(self.by_mobile(mobile)["status"], "Sanctioned")

        day = bookable_dates()[3]
        status, _, booked = self.post(BOOK, {
            "environment": "orbit", "reference_id": created["reference_id"],
            "date": ddmmyyyy(day), "time": "3:30 PM", "rm_name": RM["name"]})
        self.assertEqual(status, 200, booked)
        data = self.track({"environment": "orbit", "mobile_number": mobile})["data"]
        self.assertEqual(data["contact_information"].get("relationship_manager"),
                         {"name": RM["name"], "phone": RM["phone"], "location": RM["location"]},
                         data["contact_information"])
        appointment = self.by_mobile(mobile)["additional_details"].get("appointment")
        self.assertIsInstance(appointment, dict)
        expected = {"appointment_id": booked.get("appointment_id"), "date": ddmmyyyy(day),
                    "time": "3:30 PM", "rm_name": RM["name"], "location": RM["location"]}
        self.assertEqual({k: appointment.get(k) for k in expected}, expected, appointment)

        # Default template ids (<env>_<purpose>) for the customer and the RM.
        wait_until(lambda: templates_to(self.fake, mobile, "orbit_appointment_confirmation"), 10,
                   message="appointment_confirmation did not reach the fake Gupshup")
        wait_until(lambda: templates_to(self.fake, RM["phone"], "orbit_rm_appointment"), 10,
                   message="rm_appointment did not reach the fake Gupshup")

        status, _, cancelled = self.post(CANCEL, {"environment": "orbit",
                                                  "appointment_id": booked["appointment_id"]})
        self.assertEqual(status, 200, cancelled)
        wait_until(lambda: templates_to(self.fake, mobile, "orbit_appointment_cancelled"), 10,
                   message="appointment_cancelled did not reach the fake Gupshup")
        wait_until(lambda: templates_to(self.fake, RM["phone"], "orbit_rm_appointment_cancelled"),
                   10, message="rm_appointment_cancelled did not reach the fake Gupshup")
        data = self.track({"environment": "orbit", "mobile_number": mobile})["data"]
        events = data["application_timeline"]
        for event in events:
            self.assertRegex(str(event.get("at")), ISO_RE, event)
            self.assertIsInstance(event.get("event"), str, event)
            self.assertTrue(event.get("source"), event)
            self.assertTrue(str(event.get("description", "")).strip(), event)
        times = [parse_iso(e["at"]) for e in events]
        self.assertEqual(times, sorted(times), [(e["at"], e["event"]) for e in events])

        def index(name, predicate=lambda e: True):
            for i, e in enumerate(events):
                if e.get("event") == name and predicate(e):
                    return i
            self.fail(f"{name} not in the timeline: {[e.get('event') for e in events]}")

        order = [
            index("lead_created"),
            index("partner_submitted"),
            index("whatsapp_sent",
                  lambda e: (e.get("details") or {}).get("purpose") == "lead_confirmation"),
            index("lead_flash_completed"),
            index("partner_status_changed",
                  lambda e: (e.get("details") or {}).get("to") == "Sanctioned"),
            index("appointment_booked"),
            index("appointment_cancelled"),
        ]
        self.assertEqual(order, sorted(order), [e.get("event") for e in events])
        sent = events[order[2]]
        self.assertEqual(sent.get("source"), "outbox", sent)
        confirmation = templates_to(self.fake, mobile, "orbit_lead_confirmation")
        self.assertEqual(sent["details"].get("provider_message_id"),
                         confirmation[0].get("message_id"), sent)
        created_event = events[order[0]]
        self.assertIsInstance((created_event.get("details") or {}).get("fields"), list,
                              created_event)
        # Values are never shown.
        text = json.dumps(events)
        for secret in (lead["pan"], lead["email"], lead["dateOfBirth"]):
            self.assertNotIn(secret, text)
        # After the cancellation no appointment RM is the contact.
        self.assertIsNone(data["contact_information"].get("relationship_manager"),
                          data["contact_information"])


if __name__ == "__main__":
    unittest.main()
