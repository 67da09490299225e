"""POST /api_v1/create_lead against fake partners: the success path, validation, HTTP
conventions (auth, request ids, content types, limits), upsert, ops endpoints and logs.

Spec: /work/shared/spec/api-wireframes.md §1A, /work/shared/spec/interfaces.md §2-§4, issue 2.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_create_lead
"""

import json
import time
import unittest

from harness import (
    CREATE_LEAD, OMIT, PARTNER_CREDENTIALS, LeadgateTestCase, accepted, los_calls_for,
    template_calls_for, valid_lead, wait_until,
)

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SUCCESS_KEYS = {"success", "basic_application_id", "applicationId", "reference_id", "message"}


class CreateLeadSuccessTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_success_body_is_exactly_the_wireframe_shape(self):
        status, headers, body = self.post_lead(self.lg, valid_lead(), self.key)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(set(body), SUCCESS_KEYS, body)
        self.assertIs(body["success"], True)
        self.assertEqual(body["message"], "Lead created successfully")
        self.assertRegex(body["basic_application_id"], r"^B[A-Z0-9]{6}$")
        self.assertRegex(body["applicationId"], UUID_RE)
        self.assertRegex(body["reference_id"], UUID_RE)

    def test_los_receives_one_call_with_credentials_request_id_and_mapped_fields(self):
        lead = valid_lead(firstName="Meenakshi", lastName="Raghavan", loanType="HL",
                          dateOfBirth="1988-11-23", loanAmountReq=3400000, loanTenure=180,
                          creditScore=781, pincode="400001")
        status, headers, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        calls = los_calls_for(self.fake, lead["mobile"])
        self.assertEqual(len(calls), 1, calls)
        call = calls[0]
        self.assertEqual(call["method"], "POST")
        self.assertTrue(call["path"].endswith("/CreateFBBByBasicUser"), call["path"])
        creds = PARTNER_CREDENTIALS["orbit"]
        self.assertEqual(call["headers"].get("x-api-key"), creds["BASIC_APP_API_KEY"])
        self.assertEqual(call["headers"].get("x-user-id"), creds["BASIC_APP_USER_ID"])
        self.assertEqual(call["headers"].get("x-request-id"), headers.get("x-request-id"))
        self.assertIn("json", call["headers"].get("content-type", ""))
        sent = call["body"]
        self.assertIsInstance(sent, dict, call["raw_body"])
        self.assertEqual(sent.get("environment"), "orbit", sent)
        values = [str(v) for v in sent.values()]
        for expected in ("Meenakshi", "Raghavan", lead["mobile"], lead["email"], lead["pan"],
                         "3400000", "180", "781", "400001"):
            self.assertIn(expected, values, f"{expected!r} not sent to the LOS: {sent}")
        # Dates go to the partner as DD-MM-YYYY.
        self.assertIn("23-11-1988", values, sent)
        self.assertNotIn("1988-11-23", values, sent)
        # The loan type is mapped to the partner's product name.
        self.assertIn("Home Loan", values, sent)

    def test_whatsapp_lead_confirmation_is_sent_once(self):
        lead = valid_lead(firstName="Kavya", lastName="Menon", loanType="HL")
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        calls = wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])),
                           timeout=10, message="no lead confirmation reached the fake Gupshup")
        call = calls[0]
        self.assertTrue(call["path"].endswith("/wa/api/v1/template/msg"), call["path"])
        creds = PARTNER_CREDENTIALS["orbit"]
        self.assertEqual(call["headers"].get("apikey"), creds["GUPSHUP_API_KEY"])
        self.assertEqual(call["form"].get("channel"), "whatsapp")
        self.assertEqual(call["form"].get("source"), creds["GUPSHUP_SOURCE"])
        self.assertTrue(call["form"].get("src.name"))
        self.assertEqual(call["template"]["id"], "orbit_lead_confirmation", call["template"])
        self.assertEqual(call["template"]["params"],
                         ["Kavya Menon", body["basic_application_id"], "Home Loan"])
        time.sleep(0.5)  # a duplicate would show up within the poll interval (50 ms)
        self.assertEqual(len(template_calls_for(self.fake, lead["mobile"])), 1)

    def test_normalised_mobile_is_used(self):
        lead = valid_lead()
        mobile = lead["mobile"]
        lead["mobile"] = f"+91 {mobile[:5]} {mobile[5:]}"
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(los_calls_for(self.fake, mobile)), 1)
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), timeout=10,
                   message="confirmation not sent to the normalised number")

    def test_homfinity_lead_uses_homfinity_credentials_and_template(self):
        lead = valid_lead(environment="homfinity", loanType="LAP")
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        calls = los_calls_for(self.fake, lead["mobile"])
        self.assertEqual(len(calls), 1)
        creds = PARTNER_CREDENTIALS["homfinity"]
        self.assertEqual(calls[0]["headers"].get("x-api-key"), creds["BASIC_APP_API_KEY"])
        self.assertEqual(calls[0]["headers"].get("x-user-id"), creds["BASIC_APP_USER_ID"])
        self.assertEqual(calls[0]["body"].get("environment"), "homfinity")
        sent = wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])),
                          timeout=10)[0]
        self.assertEqual(sent["headers"].get("apikey"), creds["GUPSHUP_API_KEY"])
        self.assertEqual(sent["form"].get("source"), creds["GUPSHUP_SOURCE"])
        self.assertEqual(sent["template"]["id"], "homfinity_lead_confirmation")


class ValidationTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def errors_by_field(self, response):
        body = self.assertProblem(response, 422)
        self.assertIsInstance(body.get("errors"), list, body)
        out = {}
        for entry in body["errors"]:
            self.assertIsInstance(entry, dict, body)
            self.assertIsInstance(entry.get("field"), str, body)
            self.assertIsInstance(entry.get("message"), str, body)
            self.assertTrue(entry["message"], body)
            out[entry["field"]] = entry["message"]
        return out

    def test_every_invalid_field_is_listed_at_once(self):
        lead = valid_lead(mobile="12345", email="not-an-email", pan="ABC123",
                          loanAmountReq=5000, creditScore=1000, loanTenure=5,
                          dateOfBirth="2015-01-01", gender="Unknown")
        response = self.post_lead(self.lg, lead, self.key)
        errors = self.errors_by_field(response)
        self.assertEqual(response[2].get("code"), "VALIDATION_ERROR")
        expected = {"mobile", "email", "pan", "loanAmountReq", "creditScore", "loanTenure",
                    "dateOfBirth", "gender"}
        self.assertEqual(set(errors), expected, errors)
        # The validation matrix's messages.
        self.assertEqual(errors["mobile"], "Invalid mobile number format")
        self.assertEqual(errors["email"], "Invalid email address format")
        self.assertEqual(errors["pan"], "Invalid PAN number format")
        self.assertEqual(errors["loanAmountReq"], "Loan amount must be between 1L-5Cr")
        self.assertEqual(errors["creditScore"], "Credit score must be between 300-900")
        self.assertEqual(self.fake.calls("CreateFBBByBasicUser"), [])

    def test_bad_environment_and_first_name_use_matrix_messages(self):
        errors = self.errors_by_field(self.post_lead(
            self.lg, valid_lead(environment="staging", firstName="A"), self.key))
        self.assertEqual(errors.get("environment"), "Environment must be orbit or homfinity",
                         errors)
        self.assertEqual(errors.get("firstName"), "First name must be 2-50 characters", errors)

    def test_missing_required_fields_are_named(self):
        errors = self.errors_by_field(self.post_lead(
            self.lg, valid_lead(pan=OMIT, dateOfBirth=OMIT, loanTenure=OMIT), self.key))
        self.assertEqual(set(errors), {"pan", "dateOfBirth", "loanTenure"}, errors)

    def test_wrong_json_types_name_the_field(self):
        errors = self.errors_by_field(self.post_lead(
            self.lg, valid_lead(loanAmountReq="2500000", firstName=123, includeCreditScore="yes"),
            self.key))
        self.assertEqual(set(errors), {"loanAmountReq", "firstName", "includeCreditScore"},
                         errors)

    def test_unknown_pincode_and_state_mismatch(self):
        errors = self.errors_by_field(self.post_lead(
            self.lg, valid_lead(pincode="000000"), self.key))
        self.assertIn("pincode", errors)
        errors = self.errors_by_field(self.post_lead(
            self.lg, valid_lead(pincode="400001", state="Kerala"), self.key))
        self.assertIn("state", errors)

    def test_malformed_json_is_400(self):
        response = self.lg.request("POST", CREATE_LEAD, raw_body='{"environment": "orbit",',
                                   headers={"Content-Type": "application/json"},
                                   api_key=self.key)
        self.assertProblem(response, 400)

    def test_json_that_is_not_an_object_is_400(self):
        response = self.lg.request("POST", CREATE_LEAD, raw_body='[1, 2, 3]',
                                   headers={"Content-Type": "application/json"},
                                   api_key=self.key)
        self.assertProblem(response, 400)

    def test_non_json_content_type_is_415(self):
        response = self.lg.request("POST", CREATE_LEAD, raw_body=json.dumps(valid_lead()),
                                   headers={"Content-Type": "text/plain"}, api_key=self.key)
        self.assertProblem(response, 415)
        self.assertEqual(self.fake.calls("CreateFBBByBasicUser"), [])

    def test_body_over_64_kib_is_413(self):
        lead = valid_lead(remarks="x" * (70 * 1024))
        response = self.post_lead(self.lg, lead, self.key)
        self.assertProblem(response, 413)
        self.assertEqual(self.fake.calls("CreateFBBByBasicUser"), [])


class AuthTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_missing_key_is_401(self):
        self.assertProblem(self.post_lead(self.lg, valid_lead(), None), 401)
        self.assertEqual(self.fake.calls("CreateFBBByBasicUser"), [])

    def test_unknown_bearer_key_is_401(self):
        self.assertProblem(self.post_lead(self.lg, valid_lead(), "lg_not-a-real-key"), 401)

    def test_unknown_x_api_key_is_401(self):
        response = self.lg.request("POST", CREATE_LEAD, valid_lead(),
                                   headers={"X-API-Key": "lg_not-a-real-key"})
        self.assertProblem(response, 401)

    def test_valid_x_api_key_is_accepted(self):
        status, _, body = self.lg.request("POST", CREATE_LEAD, valid_lead(),
                                          headers={"X-API-Key": self.key})
        self.assertEqual(status, 200, body)

    def test_key_scoped_to_other_environment_is_403(self):
        homfinity_key = self.lg.create_api_key("homfinity-only", ("homfinity",))
        lead = valid_lead(environment="orbit")
        self.assertProblem(self.post_lead(self.lg, lead, homfinity_key), 403)
        self.assertEqual(los_calls_for(self.fake, lead["mobile"]), [])
        status, _, body = self.post_lead(self.lg, valid_lead(environment="homfinity"),
                                         homfinity_key)
        self.assertEqual(status, 200, body)

    def test_padded_environment_cannot_cross_brands(self):
        # The value is trimmed by validation: the scope check must see the same value.
        homfinity_key = self.lg.create_api_key("homfinity-only", ("homfinity",))
        for padded in (" orbit", "orbit ", "\torbit"):
            lead = valid_lead(environment=padded)
            self.assertProblem(self.post_lead(self.lg, lead, homfinity_key), 403)
            self.assertEqual(los_calls_for(self.fake, lead["mobile"]), [])


class RequestIdTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_given_request_id_is_echoed_and_sent_to_partners(self):
        lead = valid_lead()
        status, headers, body = self.post_lead(self.lg, lead, self.key,
                                               headers={"X-Request-ID": "it-req-0001"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("x-request-id"), "it-req-0001")
        self.assertEqual(los_calls_for(self.fake, lead["mobile"])[0]["headers"]
                         .get("x-request-id"), "it-req-0001")
        self.lg.wait_for_log("it-req-0001")  # the access log is written within a few ms

    def test_given_request_id_is_echoed_on_errors(self):
        response = self.post_lead(self.lg, valid_lead(pan="bad"), self.key,
                                  headers={"X-Request-ID": "it-req-0002"})
        body = self.assertProblem(response, 422)
        self.assertEqual(body["request_id"], "it-req-0002")

    def test_request_id_is_generated_when_absent(self):
        first = self.post_lead(self.lg, valid_lead(), self.key)[1].get("x-request-id")
        second = self.post_lead(self.lg, valid_lead(), self.key)[1].get("x-request-id")
        self.assertTrue(first)
        self.assertTrue(second)
        self.assertNotEqual(first, second)

    def test_insane_request_id_is_replaced(self):
        _, headers, _ = self.post_lead(self.lg, valid_lead(), self.key,
                                       headers={"X-Request-ID": "bad id with spaces {}"})
        self.assertTrue(headers.get("x-request-id"))
        self.assertNotEqual(headers.get("x-request-id"), "bad id with spaces {}")


class UpsertTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_same_mobile_and_loan_type_updates_the_created_lead(self):
        lead = valid_lead(loanType="HL")
        status, _, first = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, first)
        changed = dict(lead, loanAmountReq=4200000, remarks="called back")
        status, _, second = self.post_lead(self.lg, changed, self.key)
        self.assertEqual(status, 200, second)
        self.assertEqual(set(second), SUCCESS_KEYS, second)
        self.assertIs(second["success"], True)
        self.assertEqual(second["message"], "Lead updated successfully")
        for name in ("basic_application_id", "applicationId", "reference_id"):
            self.assertEqual(second[name], first[name], name)
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)

    def test_same_mobile_in_normalised_form_is_the_same_customer(self):
        lead = valid_lead()
        status, _, first = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, first)
        again = dict(lead, mobile="0" + lead["mobile"])
        status, _, second = self.post_lead(self.lg, again, self.key)
        self.assertEqual(status, 200, second)
        self.assertEqual(second["message"], "Lead updated successfully")
        self.assertEqual(second["reference_id"], first["reference_id"])

    def test_other_loan_type_is_a_new_lead(self):
        lead = valid_lead(loanType="HL")
        first = self.post_lead(self.lg, lead, self.key)[2]
        status, _, second = self.post_lead(self.lg, dict(lead, loanType="PL"), self.key)
        self.assertEqual(status, 200, second)
        self.assertEqual(second["message"], "Lead created successfully")
        self.assertNotEqual(second["reference_id"], first["reference_id"])
        self.assertNotEqual(second["basic_application_id"], first["basic_application_id"])
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 2)

    def test_lead_past_created_is_409_duplicate(self):
        # No API moves a lead past `created` yet (lead_flash comes later), so the test moves
        # it in the database, as a later stage of the workflow would.
        lead = valid_lead(loanType="HL")
        status, _, first = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, first)
        changed = self.lg.db_execute("UPDATE leads SET status = 'flash_completed' "
                                     "WHERE reference_id = ?", (first["reference_id"],))
        self.assertEqual(changed, 1)
        body = self.assertProblem(self.post_lead(self.lg, lead, self.key), 409, "DUPLICATE_LEAD")
        self.assertEqual(body.get("basic_application_id"), first["basic_application_id"], body)
        self.assertEqual(len(los_calls_for(self.fake, lead["mobile"])), 1)


class OpsEndpointsTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_healthz_needs_no_key(self):
        status, _, body = self.lg.request("GET", "/healthz")
        self.assertEqual(status, 200, body)

    def test_readyz_reports_database_and_real_partners(self):
        status, _, body = self.lg.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertIs(body["partners"]["basic_app"]["sandbox"], False, body)
        self.assertIs(body["partners"]["gupshup"]["sandbox"], False, body)

    def test_metrics_have_requests_by_route_and_partner_latency(self):
        status, _, body = self.post_lead(self.lg, valid_lead(), self.key)
        self.assertEqual(status, 200, body)
        text = self.lg.metrics_text()  # an ops key; 200 text/plain
        self.assertRegex(text, r'(?m)^leadgate_http_requests_total\{[^}]*'
                               r'route="/api_v1/create_lead"[^}]*\} [0-9.e+]+$')
        self.assertRegex(text, r'(?m)^leadgate_http_requests_total\{[^}]*status="200"')
        self.assertRegex(text, r'(?m)^leadgate_partner_call_duration_seconds_(bucket|count|sum)'
                               r'\{[^}]*\}')
        self.assertRegex(text, r'(?m)^leadgate_http_request_duration_seconds_bucket\{[^}]*'
                               r'route="/api_v1/create_lead"')

    def test_metrics_need_an_ops_key(self):
        # Its counters are labelled by environment: a brand's key reads neither brand's numbers.
        for label, key in (("orbit key", self.lg.create_api_key("orbit-app", "orbit")),
                           ("both brands", self.key)):
            with self.subTest(label):
                problem = self.assertProblem(self.lg.request("GET", "/metrics", api_key=key),
                                             403, "SCOPE_FORBIDDEN")
                self.assertIn("ops scope", problem["detail"])
        self.assertProblem(self.lg.request("GET", "/metrics"), 401)
        self.assertIn("leadgate_http_requests_total", self.lg.metrics_text())

    def test_wrong_method_is_405_with_allow(self):
        status, headers, body = self.lg.request("GET", "/api_v1/create_lead", api_key=self.key)
        self.assertProblem((status, headers, body), 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(headers.get("allow"), "POST", headers)
        status, headers, _ = self.lg.request("DELETE", "/dashboard/login")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("allow"), "GET, POST", headers)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        import http.client
        conn = http.client.HTTPConnection(self.lg.host, self.lg.port, timeout=10)
        try:
            for _ in range(3):
                conn.request("POST", CREATE_LEAD, body=json.dumps(valid_lead()),
                             headers={"Content-Type": "application/json",
                                      "Authorization": f"Bearer {self.key}"})
                resp = conn.getresponse()
                body = resp.read()
                self.assertEqual(resp.status, 200, body)
                self.assertFalse(resp.will_close, "connection not kept alive")
        finally:
            conn.close()

    def test_unknown_path_is_404_problem(self):
        self.assertProblem(self.lg.request("GET", "/api_v1/nope", api_key=self.key), 404)


class LogTest(LeadgateTestCase):

    def setUp(self):
        self.fake, self.lg, self.key = self.start_service()

    def test_no_pii_in_logs_and_request_lines_are_structured(self):
        lead = valid_lead(firstName="Zephyrine", lastName="Quixotica",
                          email="zephyrine.q.7741@example.org", dateOfBirth="1987-03-29")
        status, _, body = self.post_lead(self.lg, lead, self.key,
                                         headers={"X-Request-ID": "it-log-check"})
        self.assertEqual(status, 200, body)
        # An upsert and a validation failure that still carries real PII, too.
        self.assertEqual(self.post_lead(self.lg, dict(lead, remarks="again"), self.key)[0], 200)
        bad = dict(lead, creditScore=5)
        self.assertEqual(self.post_lead(self.lg, bad, self.key)[0], 422)
        wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])), timeout=10)
        self.lg.stop()
        logs = self.lg.stdout_text() + self.lg.stderr_text()
        for secret in (lead["mobile"], "91" + lead["mobile"], lead["pan"], lead["email"],
                       "1987-03-29", "29-03-1987"):
            self.assertNotIn(secret, logs, f"PII {secret!r} appears in the logs")

        request_lines = []
        for line in self.lg.stderr_text().splitlines() + self.lg.stdout_text().splitlines():
            if "http_request" not in line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                self.fail(f"http_request log line is not JSON: {line!r}")
            request_lines.append(entry)
            for field in ("request_id", "route", "status", "duration_ms", "environment"):
                self.assertIn(field, entry, f"{field} missing in {line}")
        self.assertGreaterEqual(len(request_lines), 3, request_lines)
        mine = [e for e in request_lines if e["request_id"] == "it-log-check"]
        self.assertEqual(len(mine), 1, request_lines)
        self.assertEqual(mine[0]["route"], "/api_v1/create_lead")
        self.assertEqual(mine[0]["status"], 200)
        self.assertEqual(mine[0]["environment"], "orbit")
        self.assertIsInstance(mine[0]["duration_ms"], (int, float))

    def test_every_stderr_line_is_json(self):
        self.assertEqual(self.post_lead(self.lg, valid_lead(), self.key)[0], 200)
        self.lg.stop()
        for line in self.lg.stderr_text().splitlines():
            if not line.strip():
                continue
            try:
                json.loads(line)
            except json.JSONDecodeError:
                self.fail(f"log line is not JSON: {line!r}")


if __name__ == "__main__":
    unittest.main()
