"""POST /api_v1/lead_flash against fake partners: the success path and its outbox message,
validation and the financial hard/soft rules, lookup by environment, state (409 on a second
flash, also after a restart), CreateSelfFullfilmentLead failures and the retry, core-field
updates with their audit trail, and Idempotency-Key.

Spec: /work/shared/spec/api-wireframes.md §1B, /work/shared/spec/interfaces.md §2-§4, issue 4.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_lead_flash
(and with LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=... for the PostgreSQL store)
"""

import datetime
import json
import threading
import time
import unittest
import uuid

from harness import (
    OMIT, PARTNER_CREDENTIALS, LeadgateTestCase, accepted, http_request, template_calls_for,
    valid_lead, wait_until,
)

LEAD_FLASH = "/api_v1/lead_flash"
SELF_FULFILMENT = "CreateSelfFullfilmentLead"
UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SUCCESS_KEYS = {"success", "basic_application_id", "reference_id", "message", "status",
                "next_steps"}
NEXT_STEPS = ["Document verification", "Property valuation", "Final approval"]

# Short CreateSelfFullfilmentLead timings (defaults: 45 s timeout, 2 attempts 5 s apart).
FAST_FLASH = {
    "LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "1000",
    "LEADGATE_SELF_FULFILMENT_ATTEMPTS": "2",
    "LEADGATE_SELF_FULFILMENT_DELAY_MS": "50",
}


def flash_body(application_id, **overrides) -> dict:
    """A valid lead_flash body for an orbit application; OMIT removes a field."""
    body = {
        "environment": "orbit",
        "applicationId": application_id,
        "professionId": 1,
        "professionName": "Software Engineer",
    }
    for name, value in overrides.items():
        if value is OMIT:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def flash_calls_for(fake, application_id) -> list[dict]:
    """CreateSelfFullfilmentLead calls for one application (by the applicationId sent)."""
    return [c for c in fake.calls(SELF_FULFILMENT)
            if isinstance(c["body"], dict) and c["body"].get("applicationId") == application_id]


def status_updates_for(fake, mobile, template_id="orbit_status_update") -> list[dict]:
    """Accepted Gupshup template calls to 91+mobile with the status-update template."""
    return [c for c in accepted(template_calls_for(fake, mobile))
            if isinstance(c.get("template"), dict) and c["template"].get("id") == template_id]


def today_ist() -> datetime.date:
    return (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(hours=5, minutes=30)).date()


def dob_for_age(years: int) -> str:
    """An ISO date of birth making the customer `years` old today (IST), birthday 10 days ago."""
    d = today_ist() - datetime.timedelta(days=10)
    try:
        born = d.replace(year=d.year - years)
    except ValueError:  # 29 February
        born = d.replace(year=d.year - years, day=28)
    return born.isoformat()


class FlashTestCase(LeadgateTestCase):
    """Starts a service with short self-fulfilment timings; helpers to create and flash."""

    service_env: dict = {}

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service(env={**FAST_FLASH, **self.service_env})

    def create(self, key=None, **overrides):
        """create_lead; returns (lead, response body)."""
        lead = valid_lead(**overrides)
        status, _, body = self.post_lead(self.lg, lead, key or self.key)
        self.assertEqual(status, 200, body)
        return lead, body

    def flash(self, body, key=None, headers=None, timeout=30.0):
        return self.lg.request("POST", LEAD_FLASH, body, headers=headers,
                               api_key=key or self.key, timeout=timeout)

    def lead_row(self, reference_id):
        rows = self.lg.db_query(
            "SELECT status, completion_reference, flashed_at, warnings_json, flash_details_enc "
            "FROM leads WHERE reference_id = ?", (reference_id,))
        self.assertEqual(len(rows), 1, rows)
        return dict(zip(("status", "completion_reference", "flashed_at", "warnings_json",
                         "flash_details_enc"), rows[0]))

    def lead_status(self, reference_id):
        return self.lead_row(reference_id)["status"]

    def audit_rows(self, reference_id):
        return self.lg.db_query(
            "SELECT operation, field, old_value, new_value FROM audit_log "
            "WHERE entity_ref = ? ORDER BY id", (reference_id,))

    def errors_by_field(self, response):
        body = self.assertProblem(response, 422)
        self.assertIsInstance(body.get("errors"), list, body)
        out = {}
        for entry in body["errors"]:
            self.assertIsInstance(entry, dict, body)
            self.assertIsInstance(entry.get("field"), str, body)
            self.assertTrue(entry.get("message"), body)
            out[entry["field"]] = entry["message"]
        return out


class LeadFlashSuccessTest(FlashTestCase):

    def test_success_body_los_call_outbox_message_and_status(self):
        lead, created = self.create(firstName="Kavya", lastName="Menon", loanType="HL",
                                    loanAmountReq=2500000, loanTenure=240, creditScore=760,
                                    annualIncome=1800000)
        app_id = created["applicationId"]
        body = flash_body(app_id, professionId=20, professionName="doctor",
                          propertyIdentified=True, propertyName="Dream Home",
                          propertyType="apartment", agreementType="Sale Deed",
                          location="Andheri East, Mumbai", usageType="Residential",
                          propertyValue=4000000, salaryCreditModeId=1,
                          companyName="Menon Clinic", coBorrowerIncome=300000)
        status, headers, resp = self.flash(body, headers={"X-Request-ID": "it-flash-0001"})
        self.assertEqual(status, 200, resp)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(resp, {
            "success": True,
            "basic_application_id": created["basic_application_id"],
            "reference_id": created["reference_id"],
            "message": "Lead Flash processed successfully",
            "status": "completed",
            "next_steps": NEXT_STEPS,
        })

        # One CreateSelfFullfilmentLead call: ids, merged lead + flash details, credentials.
        calls = flash_calls_for(self.fake, app_id)
        self.assertEqual(len(calls), 1, calls)
        call = calls[0]
        self.assertEqual(call["method"], "POST")
        self.assertTrue(call["path"].endswith("/CreateSelfFullfilmentLead"), call["path"])
        creds = PARTNER_CREDENTIALS["orbit"]
        self.assertEqual(call["headers"].get("x-api-key"), creds["BASIC_APP_API_KEY"])
        self.assertEqual(call["headers"].get("x-user-id"), creds["BASIC_APP_USER_ID"])
        self.assertEqual(call["headers"].get("x-request-id"), "it-flash-0001")
        sent = call["body"]
        self.assertEqual(sent.get("applicationId"), app_id, sent)
        self.assertEqual(sent.get("basic_application_id"), created["basic_application_id"], sent)
        self.assertEqual(sent.get("environment"), "orbit", sent)
        values = [str(v) for v in sent.values()]
        # From the stored lead (not repeated in the flash request) …
        for expected in ("Kavya", "Menon", lead["mobile"], lead["email"], lead["pan"],
                         "2500000", "240", "760", "400001"):
            self.assertIn(expected, values, f"{expected!r} (stored lead) not sent: {sent}")
        # … and the flash details, normalised to the catalogue's / lists' spellings.
        self.assertEqual(sent.get("professionId"), 20, sent)
        self.assertEqual(sent.get("professionName"), "Doctor", sent)
        self.assertEqual(sent.get("propertyValue"), 4000000, sent)
        self.assertEqual(sent.get("propertyType"), "Apartment", sent)
        self.assertEqual(sent.get("usageType"), "residential", sent)
        self.assertEqual(sent.get("agreementType"), "Sale Deed", sent)
        self.assertEqual(sent.get("companyName"), "Menon Clinic", sent)
        self.assertEqual(sent.get("coBorrowerIncome"), 300000, sent)
        self.assertIs(sent.get("propertyIdentified"), True, sent)

        # The WhatsApp status update reaches the fake Gupshup once.
        updates = wait_until(lambda: status_updates_for(self.fake, lead["mobile"]), timeout=10,
                             message="no status-update template reached the fake Gupshup")
        update = updates[0]
        self.assertEqual(update["headers"].get("apikey"), creds["GUPSHUP_API_KEY"])
        self.assertEqual(update["form"].get("source"), creds["GUPSHUP_SOURCE"])
        self.assertEqual(update["template"]["params"],
                         ["Kavya Menon", created["basic_application_id"], "completed"])
        time.sleep(0.3)
        self.assertEqual(len(status_updates_for(self.fake, lead["mobile"])), 1)

        # Stored: completed, with the partner's reference, a flash time and the details.
        row = self.lead_row(created["reference_id"])
        self.assertEqual(row["status"], "completed")
        self.assertTrue(row["completion_reference"].startswith("SF-"), row)
        self.assertGreater(int(row["flashed_at"]), 0, row)
        self.assertTrue(row["flash_details_enc"], row)
        self.assertNotIn("Menon Clinic", row["flash_details_enc"])  # sealed
        self.assertIn(("status_changed", "status", "flash_pending", "completed"),
                      self.audit_rows(created["reference_id"]))

    def test_profession_alias_and_minimal_body(self):
        _, created = self.create()
        status, _, resp = self.flash(flash_body(created["applicationId"], professionId=1,
                                                professionName="  SOFTWARE developer "))
        self.assertEqual(status, 200, resp)
        sent = flash_calls_for(self.fake, created["applicationId"])[0]["body"]
        self.assertEqual(sent.get("professionName"), "Software Engineer", sent)
        self.assertIs(sent.get("propertyIdentified"), False, sent)

    def test_soft_rules_return_warnings_with_200(self):
        # EMI of ₹25 lakh over 240 months at 8.5% ≈ ₹21,696 > 50% of ₹25,000 a month.
        _, created = self.create(creditScore=640, annualIncome=300000, loanAmountReq=2500000,
                                 loanTenure=240)
        status, _, resp = self.flash(flash_body(created["applicationId"]))
        self.assertEqual(status, 200, resp)
        self.assertEqual(set(resp), SUCCESS_KEYS | {"warnings"}, resp)
        self.assertEqual(resp["status"], "completed")
        codes = {w["code"]: w["message"] for w in resp["warnings"]}
        self.assertEqual(set(codes), {"FOIR_HIGH", "CREDIT_SCORE_BELOW_COMFORT"}, resp)
        self.assertIn("650", codes["CREDIT_SCORE_BELOW_COMFORT"])
        self.assertIn("640", codes["CREDIT_SCORE_BELOW_COMFORT"])
        self.assertIn("50%", codes["FOIR_HIGH"])
        row = self.lead_row(created["reference_id"])
        self.assertEqual(row["status"], "completed")
        stored = json.loads(row["warnings_json"])
        self.assertEqual({w["code"] for w in stored}, set(codes), stored)

    def test_co_borrower_income_counts_towards_foir(self):
        # ₹3 lakh + ₹6 lakh a year = ₹75,000 a month; EMI ≈ ₹21,696 is about 29%.
        _, created = self.create(annualIncome=300000, loanAmountReq=2500000, loanTenure=240)
        status, _, resp = self.flash(flash_body(created["applicationId"],
                                                coBorrowerIncome=600000))
        self.assertEqual(status, 200, resp)
        self.assertNotIn("warnings", resp)

    def test_tenure_above_usual_is_a_warning(self):
        _, created = self.create(loanType="PL", loanAmountReq=500000, loanTenure=96,
                                 dateOfBirth=dob_for_age(30))
        status, _, resp = self.flash(flash_body(created["applicationId"]))
        self.assertEqual(status, 200, resp)
        self.assertEqual([w["code"] for w in resp.get("warnings", [])], ["TENURE_ABOVE_USUAL"],
                         resp)


class LeadFlashValidationTest(FlashTestCase):

    def assertNothingSent(self):
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_missing_required_fields_are_listed_at_once(self):
        response = self.flash({"environment": "orbit"})
        errors = self.errors_by_field(response)
        self.assertEqual(response[2].get("code"), "VALIDATION_ERROR")
        self.assertEqual(set(errors), {"applicationId", "professionId", "professionName"}, errors)
        self.assertNothingSent()

    def test_application_id_must_be_a_uuid(self):
        errors = self.errors_by_field(self.flash(flash_body("not-a-uuid")))
        self.assertEqual(errors, {"applicationId": "applicationId must be a UUID"})
        self.assertNothingSent()

    def test_profession_name_mismatch_names_both_fields(self):
        _, created = self.create()
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], professionId=1, professionName="Doctor")))
        self.assertEqual(set(errors), {"professionId", "professionName"}, errors)
        self.assertIn("Software Engineer", errors["professionName"])
        self.assertEqual(self.lead_status(created["reference_id"]), "created")
        self.assertNothingSent()

    def test_unknown_profession_id(self):
        _, created = self.create()
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], professionId=99999, professionName="Astronaut")))
        self.assertIn("professionId", errors)
        self.assertNothingSent()

    def test_ltv_above_the_rbi_ceiling_is_422(self):
        # ₹25 lakh on a ₹25 lakh property: 100% against the 90% ceiling (max ₹22,50,000).
        _, created = self.create(loanType="HL", loanAmountReq=2500000)
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], propertyIdentified=True, propertyValue=2500000)))
        self.assertEqual(set(errors), {"loanAmountReq"}, errors)
        self.assertIn("90%", errors["loanAmountReq"])
        self.assertIn("₹22,50,000", errors["loanAmountReq"])
        self.assertIn("10.00 percentage points", errors["loanAmountReq"])
        self.assertEqual(self.lead_status(created["reference_id"]), "created")
        self.assertNothingSent()

    def test_ltv_exactly_at_the_ceiling_passes(self):
        _, created = self.create(loanType="HL", loanAmountReq=2700000)
        status, _, resp = self.flash(flash_body(created["applicationId"], propertyIdentified=True,
                                                propertyValue=3000000))
        self.assertEqual(status, 200, resp)

    def test_age_at_maturity_over_70_is_422_and_a_shorter_tenure_fixes_it(self):
        _, created = self.create(dateOfBirth=dob_for_age(60), loanTenure=180)
        errors = self.errors_by_field(self.flash(flash_body(created["applicationId"])))
        self.assertEqual(set(errors), {"loanTenure"}, errors)
        self.assertIn("75", errors["loanTenure"])
        self.assertIn("70", errors["loanTenure"])
        self.assertEqual(self.lead_status(created["reference_id"]), "created")
        self.assertNothingSent()
        # 60 + 10 years = 70: exactly at the maximum, accepted.
        status, _, resp = self.flash(flash_body(created["applicationId"], loanTenure=120))
        self.assertEqual(status, 200, resp)
        self.assertEqual(flash_calls_for(self.fake, created["applicationId"])[0]["body"]
                         .get("loanTenureMonths"), 120)

    def test_property_value_required_when_property_identified(self):
        _, created = self.create()
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], propertyIdentified=True)))
        self.assertEqual(set(errors), {"propertyValue"}, errors)
        self.assertNothingSent()

    def test_bad_property_and_employment_fields_are_listed_together(self):
        _, created = self.create()
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], propertyType="Castle", agreementType="Handshake",
            usageType="industrial", propertyValue=-1, salaryCreditModeId=9,
            companyName="x" * 101, coBorrowerIncome=-5, email="not-an-email")))
        self.assertEqual(set(errors), {"propertyType", "agreementType", "usageType",
                                       "propertyValue", "salaryCreditModeId", "companyName",
                                       "coBorrowerIncome", "email"}, errors)
        self.assertEqual(errors["email"], "Invalid email address format")
        self.assertNothingSent()

    def test_location_naming_another_state_is_422(self):
        _, created = self.create(pincode="400001")  # Maharashtra
        errors = self.errors_by_field(self.flash(flash_body(
            created["applicationId"], location="Bengaluru, Karnataka")))
        self.assertEqual(set(errors), {"location"}, errors)

    def test_lap_ceiling_comes_from_the_environment_configuration(self):
        self.lg.extra_env["LEADGATE_ORBIT_LAP_MAX_LTV"] = "0.5"
        self.lg.restart()
        # ₹25 lakh against ₹45 lakh = 55.56%: above orbit's 50%, below homfinity's default 65%.
        _, orbit = self.create(loanType="LAP", loanAmountReq=2500000)
        errors = self.errors_by_field(self.flash(flash_body(
            orbit["applicationId"], propertyIdentified=True, propertyValue=4500000)))
        self.assertIn("50%", errors.get("loanAmountReq", ""), errors)
        _, homfinity = self.create(environment="homfinity", loanType="LAP",
                                   loanAmountReq=2500000)
        status, _, resp = self.flash(flash_body(
            homfinity["applicationId"], environment="homfinity", propertyIdentified=True,
            propertyValue=4500000))
        self.assertEqual(status, 200, resp)


class LeadFlashLookupTest(FlashTestCase):

    def test_unknown_application_is_404(self):
        response = self.flash(flash_body(str(uuid.uuid4())))
        self.assertProblem(response, 404, "NOT_FOUND")
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_other_environments_application_is_404(self):
        _, created = self.create(environment="orbit")
        homfinity_key = self.lg.create_api_key("homfinity-only", ("homfinity",))
        self.assertProblem(self.flash(flash_body(created["applicationId"],
                                                 environment="homfinity"), key=homfinity_key),
                           404, "NOT_FOUND")
        # Also when the environment comes from the single-environment key.
        self.assertProblem(self.flash(flash_body(created["applicationId"], environment=OMIT),
                                      key=homfinity_key), 404, "NOT_FOUND")
        # And with a two-environment key naming the wrong environment.
        self.assertProblem(self.flash(flash_body(created["applicationId"],
                                                 environment="homfinity")), 404, "NOT_FOUND")
        self.assertEqual(self.lead_status(created["reference_id"]), "created")
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_key_scoped_to_other_environment_is_403(self):
        _, created = self.create(environment="orbit")
        homfinity_key = self.lg.create_api_key("homfinity-only", ("homfinity",))
        self.assertProblem(self.flash(flash_body(created["applicationId"], environment="orbit"),
                                      key=homfinity_key), 403)
        self.assertEqual(self.lead_status(created["reference_id"]), "created")
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_missing_key_is_401(self):
        response = self.lg.request("POST", LEAD_FLASH, flash_body(str(uuid.uuid4())))
        self.assertProblem(response, 401)

    def test_environment_required_with_a_two_environment_key(self):
        _, created = self.create()
        errors = self.errors_by_field(self.flash(flash_body(created["applicationId"],
                                                            environment=OMIT)))
        self.assertIn("environment", errors)
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_invalid_environment_is_422(self):
        errors = self.errors_by_field(self.flash(flash_body(str(uuid.uuid4()),
                                                            environment="staging")))
        self.assertEqual(errors.get("environment"), "Environment must be orbit or homfinity")

    def test_environment_optional_with_a_single_environment_key(self):
        orbit_key = self.lg.create_api_key("orbit-only", ("orbit",))
        _, created = self.create(key=orbit_key)
        status, _, resp = self.flash(flash_body(created["applicationId"], environment=OMIT),
                                     key=orbit_key)
        self.assertEqual(status, 200, resp)
        self.assertEqual(resp["status"], "completed")

    def test_homfinity_flash_uses_homfinity_credentials_and_template(self):
        lead, created = self.create(environment="homfinity")
        status, _, resp = self.flash(flash_body(created["applicationId"],
                                                environment="homfinity"))
        self.assertEqual(status, 200, resp)
        creds = PARTNER_CREDENTIALS["homfinity"]
        call = flash_calls_for(self.fake, created["applicationId"])[0]
        self.assertEqual(call["headers"].get("x-api-key"), creds["BASIC_APP_API_KEY"])
        self.assertEqual(call["headers"].get("x-user-id"), creds["BASIC_APP_USER_ID"])
        wait_until(lambda: status_updates_for(self.fake, lead["mobile"],
                                              "homfinity_status_update"), timeout=10,
                   message="no homfinity status update")


class LeadFlashStateTest(FlashTestCase):
    # Long enough that a held or hung LOS call is still in its first attempt when the test acts
    # on it (a second flash, a kill), however slow the machine.
    service_env = {"LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "10000"}

    def test_second_flash_of_a_completed_application_is_409(self):
        _, created = self.create()
        body = flash_body(created["applicationId"])
        status, _, resp = self.flash(body)
        self.assertEqual(status, 200, resp)
        problem = self.assertProblem(self.flash(body), 409, "INVALID_STATE")
        self.assertIn("completed", problem.get("detail", ""), problem)
        self.assertEqual(problem.get("basic_application_id"), created["basic_application_id"])
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)

    def test_concurrent_flash_is_409_and_the_los_is_called_once(self):
        self.fake.script(SELF_FULFILMENT, [{"delay_ms": 3000}])
        _, created = self.create()
        body = flash_body(created["applicationId"])
        first = {}
        thread = threading.Thread(target=lambda: first.setdefault("r", self.flash(body)))
        thread.start()
        try:
            self.fake.wait_for_calls(SELF_FULFILMENT, 1, timeout=5)
            problem = self.assertProblem(self.flash(body), 409, "INVALID_STATE")
            self.assertIn("being processed", problem.get("detail", ""), problem)
        finally:
            thread.join(10)
        status, _, resp = first["r"]
        self.assertEqual(status, 200, resp)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)

    def test_instance_killed_during_the_los_call_is_retried_once_stale(self):
        self.fake.script(SELF_FULFILMENT, [{"hang": True, "max_s": 12}])
        lead, created = self.create()
        body = flash_body(created["applicationId"])

        def doomed():
            try:
                self.flash(body, timeout=10)
            except OSError:
                pass  # the instance is killed under it

        thread = threading.Thread(target=doomed)
        thread.start()
        self.fake.wait_for_calls(SELF_FULFILMENT, 1, timeout=5)
        self.lg.restart(kill=True)
        thread.join(10)
        self.assertEqual(self.lead_status(created["reference_id"]), "flash_pending")
        # Within the longest possible exchange the claim still holds …
        problem = self.assertProblem(self.flash(body), 409, "INVALID_STATE")
        self.assertIn("being processed", problem.get("detail", ""), problem)
        # … and once it is older than that, the next lead_flash takes it over.
        self.lg.db_execute("UPDATE leads SET updated_at = updated_at - 3600000 "
                           "WHERE reference_id = ?", (created["reference_id"],))
        status, _, resp = self.flash(body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(self.lead_status(created["reference_id"]), "completed")
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 2)
        wait_until(lambda: status_updates_for(self.fake, lead["mobile"]), timeout=10)

    def test_restart_after_success_keeps_completed(self):
        lead, created = self.create()
        body = flash_body(created["applicationId"])
        status, _, resp = self.flash(body)
        self.assertEqual(status, 200, resp)
        wait_until(lambda: status_updates_for(self.fake, lead["mobile"]), timeout=10)
        self.lg.restart()
        self.assertEqual(self.lead_status(created["reference_id"]), "completed")
        self.assertProblem(self.flash(body), 409, "INVALID_STATE")
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)
        time.sleep(0.3)
        self.assertEqual(len(status_updates_for(self.fake, lead["mobile"])), 1)


class LeadFlashSlowPartnerTest(FlashTestCase):
    # The create_lead LOS timings make the longest create exchange ~6.0 s (1 s + 5 s); the
    # self-fulfilment call may take up to 20 s. A flash still waiting on the LOS must not be
    # taken over once it is older than the create exchange.
    service_env = {
        "LEADGATE_BASIC_APP_TIMEOUT_MS": "1000",
        "LEADGATE_BASIC_APP_ATTEMPTS": "1",
        "LEADGATE_BASIC_APP_BACKOFF_MS": "0",
        "LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "20000",
        "LEADGATE_SELF_FULFILMENT_ATTEMPTS": "1",
    }

    def test_pending_flash_is_not_taken_over_while_the_self_fulfilment_call_may_run(self):
        self.fake.script(SELF_FULFILMENT, [{"delay_ms": 10000}])
        _, created = self.create()
        body = flash_body(created["applicationId"])
        first = {}
        thread = threading.Thread(target=lambda: first.setdefault("r", self.flash(body)))
        thread.start()
        try:
            self.fake.wait_for_calls(SELF_FULFILMENT, 1, timeout=5)
            time.sleep(6.5)
            problem = self.assertProblem(self.flash(body), 409, "INVALID_STATE")
            self.assertIn("being processed", problem.get("detail", ""), problem)
        finally:
            thread.join(20)
        status, _, resp = first["r"]
        self.assertEqual(status, 200, resp)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)
        self.assertEqual(self.lead_status(created["reference_id"]), "completed")


class LeadFlashPartnerFailureTest(FlashTestCase):

    def assertLosError(self, response):
        body = self.assertProblem(response, 400, "BASIC_APP_API_ERROR")
        self.assertTrue(body.get("reference_id"), body)
        return body

    def test_5xx_twice_is_400_flash_failed_then_retry_succeeds(self):
        self.fake.script(SELF_FULFILMENT, [{"status": 500}, {"status": 500}])
        lead, created = self.create()
        body = flash_body(created["applicationId"], propertyIdentified=True,
                          propertyValue=4000000, companyName="Verma Traders")
        problem = self.assertLosError(self.flash(body))
        self.assertEqual(problem["reference_id"], created["reference_id"])
        calls = flash_calls_for(self.fake, created["applicationId"])
        self.assertEqual(len(calls), 2, [c["response_status"] for c in calls])
        row = self.lead_row(created["reference_id"])
        self.assertEqual(row["status"], "flash_failed")
        self.assertTrue(row["flash_details_enc"], "flash details not kept")
        time.sleep(0.3)
        self.assertEqual(status_updates_for(self.fake, lead["mobile"]), [])

        # The LOS is healthy again: the same lead_flash retries and completes.
        status, _, resp = self.flash(body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(resp["status"], "completed")
        self.assertEqual(resp["reference_id"], created["reference_id"])
        calls = flash_calls_for(self.fake, created["applicationId"])
        self.assertEqual(len(calls), 3)
        self.assertEqual(calls[-1]["body"].get("propertyValue"), 4000000)
        self.assertEqual(self.lead_status(created["reference_id"]), "completed")
        wait_until(lambda: status_updates_for(self.fake, lead["mobile"]), timeout=10,
                   message="no status update after the retry")
        audit = self.audit_rows(created["reference_id"])
        self.assertIn(("status_changed", "status", "flash_pending", "flash_failed"), audit)
        self.assertIn(("status_changed", "status", "flash_failed", "flash_pending"), audit)
        self.assertIn(("status_changed", "status", "flash_pending", "completed"), audit)

    def test_5xx_then_ok_completes_in_one_request(self):
        self.fake.script(SELF_FULFILMENT, [{"status": 503}])
        _, created = self.create()
        status, _, resp = self.flash(flash_body(created["applicationId"]))
        self.assertEqual(status, 200, resp)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 2)

    def test_4xx_is_not_retried(self):
        self.fake.script(SELF_FULFILMENT, [{"status": 400, "body": {
            "success": False, "message": "Property rejected by lender"}}])
        _, created = self.create()
        problem = self.assertLosError(self.flash(flash_body(created["applicationId"])))
        self.assertIn("Property rejected by lender", problem.get("detail", ""), problem)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)
        self.assertEqual(self.lead_status(created["reference_id"]), "flash_failed")

    def test_malformed_answer_is_a_failure(self):
        self.fake.script(SELF_FULFILMENT, [{"malformed": True}, {"malformed": True}])
        _, created = self.create()
        self.assertLosError(self.flash(flash_body(created["applicationId"])))
        self.assertEqual(self.lead_status(created["reference_id"]), "flash_failed")

    def test_timeout_is_a_failure(self):
        self.fake.script(SELF_FULFILMENT, [{"hang": True, "max_s": 3},
                                           {"hang": True, "max_s": 3}])
        _, created = self.create()
        started = time.monotonic()
        self.assertLosError(self.flash(flash_body(created["applicationId"]), timeout=15))
        self.assertLess(time.monotonic() - started, 5.0)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 2)
        self.assertEqual(self.lead_status(created["reference_id"]), "flash_failed")


class LeadFlashCoreFieldTest(FlashTestCase):

    def test_new_email_is_applied_and_audited_masked(self):
        lead, created = self.create()
        new_email = f"kavya.new.{lead['mobile']}@example.net"
        status, _, resp = self.flash(flash_body(created["applicationId"], email=new_email))
        self.assertEqual(status, 200, resp)
        sent = flash_calls_for(self.fake, created["applicationId"])[0]["body"]
        self.assertEqual(sent.get("emailId"), new_email, sent)
        audit = self.audit_rows(created["reference_id"])
        email_rows = [r for r in audit if r[0] == "updated" and r[1] == "email"]
        self.assertEqual(len(email_rows), 1, audit)
        _, _, old_value, new_value = email_rows[0]
        self.assertTrue(old_value and new_value, email_rows)
        self.assertNotEqual(old_value, new_value)
        self.assertTrue(new_value.endswith("@example.net"), new_value)
        for row in audit:
            for secret in (lead["email"], new_email, lead["email"].split("@")[0],
                           new_email.split("@")[0]):
                self.assertNotIn(secret, " ".join(str(v) for v in row), row)
        # Unchanged fields are not audited.
        self.assertFalse([r for r in audit if r[0] == "updated" and r[1] != "email"], audit)

    def test_mobile_of_another_lead_is_a_conflict_not_a_500(self):
        # (environment, mobile, loan type) identifies a lead; moving this one onto another
        # customer's mobile would make two.
        _, mine = self.create(loanType="HL")
        other, _ = self.create(loanType="HL")
        response = self.flash(flash_body(mine["applicationId"], mobile=other["mobile"]))
        self.assertIn(response[0], (409, 422), response[2])
        self.assertProblem(response, response[0])
        self.assertEqual(self.lead_status(mine["reference_id"]), "created")
        self.assertEqual(self.fake.calls(SELF_FULFILMENT), [])

    def test_loan_type_of_another_lead_is_a_conflict_not_a_500(self):
        lead, mine = self.create(loanType="HL")
        status, _, body = self.post_lead(self.lg, dict(lead, loanType="PL"), self.key)
        self.assertEqual(status, 200, body)
        response = self.flash(flash_body(mine["applicationId"], loanType="PL"))
        self.assertIn(response[0], (409, 422), response[2])
        self.assertProblem(response, response[0])
        self.assertEqual(self.lead_status(mine["reference_id"]), "created")

    def test_same_values_are_not_audited(self):
        lead, created = self.create()
        status, _, resp = self.flash(flash_body(created["applicationId"], email=lead["email"],
                                                firstName=lead["firstName"]))
        self.assertEqual(status, 200, resp)
        audit = self.audit_rows(created["reference_id"])
        self.assertFalse([r for r in audit if r[0] == "updated"], audit)


def raw_flash(lg, raw: bytes, key: str, idem: str):
    return http_request(lg.host, lg.port, "POST", LEAD_FLASH, raw_body=raw,
                        headers={"Content-Type": "application/json",
                                 "Authorization": f"Bearer {key}", "Idempotency-Key": idem})


class LeadFlashIdempotencyTest(FlashTestCase):

    def test_same_key_same_body_replays(self):
        _, created = self.create()
        raw = json.dumps(flash_body(created["applicationId"])).encode()
        idem = str(uuid.uuid4())
        status1, headers1, body1 = raw_flash(self.lg, raw, self.key, idem)
        self.assertEqual(status1, 200, body1)
        self.assertNotEqual(headers1.get("idempotent-replayed"), "true")
        status2, headers2, body2 = raw_flash(self.lg, raw, self.key, idem)
        self.assertEqual(status2, 200, body2)
        self.assertEqual(body2, body1)
        self.assertEqual(headers2.get("idempotent-replayed"), "true")
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)
        # Without the key, the second flash is the 409.
        self.assertProblem(self.flash(flash_body(created["applicationId"])), 409,
                           "INVALID_STATE")

    def test_failure_releases_the_key_so_the_retry_runs(self):
        self.fake.script(SELF_FULFILMENT, [{"status": 500}, {"status": 500}])
        _, created = self.create()
        raw = json.dumps(flash_body(created["applicationId"])).encode()
        idem = str(uuid.uuid4())
        self.assertProblem(raw_flash(self.lg, raw, self.key, idem), 400, "BASIC_APP_API_ERROR")
        status, headers, body = raw_flash(self.lg, raw, self.key, idem)
        self.assertEqual(status, 200, body)
        self.assertNotEqual(headers.get("idempotent-replayed"), "true")
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 3)

    def test_key_used_on_create_lead_is_independent(self):
        idem = str(uuid.uuid4())
        lead = valid_lead()
        status, _, created = self.post_lead(self.lg, lead, self.key,
                                            headers={"Idempotency-Key": idem})
        self.assertEqual(status, 200, created)
        raw = json.dumps(flash_body(created["applicationId"])).encode()
        status, headers, body = raw_flash(self.lg, raw, self.key, idem)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["message"], "Lead Flash processed successfully")
        self.assertNotEqual(headers.get("idempotent-replayed"), "true")

    def test_same_key_different_body_is_422(self):
        _, created = self.create()
        idem = str(uuid.uuid4())
        status, _, body = raw_flash(self.lg, json.dumps(flash_body(created["applicationId"]))
                                    .encode(), self.key, idem)
        self.assertEqual(status, 200, body)
        other = flash_body(created["applicationId"], companyName="Other Co")
        response = raw_flash(self.lg, json.dumps(other).encode(), self.key, idem)
        self.assertProblem(response, 422)
        self.assertEqual(len(flash_calls_for(self.fake, created["applicationId"])), 1)


if __name__ == "__main__":
    unittest.main()
