"""WhatsApp OTP (issue 5, api-wireframes §2): otp_send / otp_resend / otp_verify with consent,
through the real binary and the fake Gupshup, on either store (LEADGATE_TEST_STORE).

The code is read where the customer would read it: the params of the authentication template
the fake Gupshup received. Every code a test received is looked for in the service's captured
stdout/stderr after the test (it must never be logged).

Services are shared per class (one per configuration) to keep the suite fast; every test uses
fresh phone numbers (and, where the per-key limit matters, its own API key).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_otp
"""
from __future__ import annotations

import json
import re
import threading
import time
import unittest

from harness import (FakePartners, Leadgate, LeadgateTestCase, PARTNER_CREDENTIALS, accepted,
                     free_port, random_mobile, template_calls_for, wait_until)

SEND = "/api_v1/otp_send"
RESEND = "/api_v1/otp_resend"
VERIFY = "/api_v1/otp_verify"
GUPSHUP = "gupshup"
CODE_RE = r"^[0-9]{6}$"

# Fast defaults for the shared flow service: no resend cooldown (resend tests would otherwise
# wait 30 s) and a per-key allowance the whole class cannot reach.
FLOW_ENV = {
    "LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "0",
    "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000",
}


# --------------------------------------------------------------------------- helpers


def otp_calls(fake: FakePartners, phone: str, env: str = "orbit") -> list[dict]:
    """Accepted authentication-template messages addressed to 91 + phone."""
    return [c for c in accepted(template_calls_for(fake, phone))
            if (c.get("template") or {}).get("id") == f"{env}_otp_authentication"]


def consent_calls(fake: FakePartners, phone: str, env: str = "orbit") -> list[dict]:
    """Accepted consent-request messages addressed to 91 + phone."""
    return [c for c in accepted(template_calls_for(fake, phone))
            if (c.get("template") or {}).get("id") == f"{env}_consent_request"]


def agree(lg: Leadgate, path: str):
    """The consent page's "I agree": its form POSTed to the link (no fields, no API key)."""
    return lg.request("POST", path, raw_body=b"",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})


CONSENT_PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY", "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer", "cache-control": "no-store"}


def metrics(lg: Leadgate) -> dict[str, float]:
    """GET /metrics as {'name{labels}': value} (samples only)."""
    out = {}
    for line in lg.metrics_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


_NOT_IN_A_TOKEN = r"(?<![0-9A-Za-z]){}(?![0-9A-Za-z])"


def _json_leaks(value, code: str) -> bool:
    """True when a parsed log value carries the code (as a token of text, or as the number).

    A code inside a longer run of letters and digits is not a leak: random identifiers such as
    the hexadecimal request_id contain any six-digit run now and then (a4554306d)."""
    if isinstance(value, dict):
        return any(_json_leaks(k, code) or _json_leaks(v, code) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_leaks(v, code) for v in value)
    if isinstance(value, str):
        return re.search(_NOT_IN_A_TOKEN.format(code), value) is not None
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return value == int(code)
    return False


def leaked_codes(log_text: str, codes) -> list[tuple[str, str]]:
    """(code, line) for every log line that carries one of the codes.

    JSON log lines are parsed so that numbers which merely contain six digits (durations,
    counters) are not mistaken for a code: a string value containing the code, or a number
    equal to it, is a leak. Any other line is a leak when the code appears in it as a
    standalone run of six digits. A code inside a longer token of letters and digits (a random
    hexadecimal id) is not a leak.
    """
    found = []
    for line in log_text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        for code in codes:
            if parsed is not None and not isinstance(parsed, (int, float, str)):
                hit = _json_leaks(parsed, code)
            else:
                hit = re.search(_NOT_IN_A_TOKEN.format(code), line) is not None
            if hit:
                found.append((code, line))
    return found


class OtpTestCase(LeadgateTestCase):
    """A class-level fake + service (ENV), and helpers that remember every code received."""

    ENV: dict = FLOW_ENV

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env=cls.ENV)
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("otp-tests", ("orbit", "homfinity"))

    def setUp(self):
        self.fake.reset()
        self.codes: list[str] = []
        self.addCleanup(self.assertCodesNotLogged)

    def assertCodesNotLogged(self):
        leaks = leaked_codes(self.lg.log_text(), self.codes)
        self.assertEqual(leaks, [], "an OTP code appears in the service's log output")

    # ---- requests

    def send(self, phone, user_check=True, env="orbit", key=None, lg=None):
        body = {"phone_number": phone, "user_check": user_check}
        if env is not None:
            body["environment"] = env
        return (lg or self.lg).request("POST", SEND, body, api_key=key or self.key)

    def resend(self, phone, env="orbit", key=None, lg=None):
        body = {"phone_number": phone}
        if env is not None:
            body["environment"] = env
        return (lg or self.lg).request("POST", RESEND, body, api_key=key or self.key)

    def verify(self, phone, otp, env="orbit", key=None, lg=None):
        body = {"phone_number": phone, "otp": otp}
        if env is not None:
            body["environment"] = env
        return (lg or self.lg).request("POST", VERIFY, body, api_key=key or self.key)

    # ---- codes as delivered

    def code_for(self, phone, count=1, env="orbit") -> str:
        """The code in the count-th authentication message to phone (remembered for the log
        scan)."""
        calls = otp_calls(self.fake, phone, env)
        self.assertEqual(len(calls), count, f"expected {count} OTP message(s) to {phone}: {calls}")
        params = calls[-1]["template"]["params"]
        self.assertEqual(len(params), 1, calls[-1]["template"])
        code = params[0]
        self.assertRegex(code, CODE_RE)
        self.codes.append(code)
        return code

    def sent_code(self, phone, user_check=True, env="orbit", key=None, count=None) -> str:
        """otp_send (asserting 200) and return the delivered code."""
        before = len(otp_calls(self.fake, phone, env))
        status, _, body = self.send(phone, user_check, env, key)
        self.assertEqual(status, 200, body)
        return self.code_for(phone, before + 1, env)

    def resent_code(self, phone, env="orbit", key=None) -> str:
        before = len(otp_calls(self.fake, phone, env))
        status, _, body = self.resend(phone, env, key)
        self.assertEqual(status, 200, body)
        self.assertIs(body.get("success"), True, body)
        return self.code_for(phone, before + 1, env)

    def assertVerified(self, response, phone):
        status, headers, body = response
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertIs(body.get("success"), True, body)
        self.assertIsInstance(body.get("message"), str, body)
        self.assertTrue(body["message"], body)
        data = dict(body.get("data") or {})
        # issue 20 §2: the proof of the phone for app keys, opaque and new at each verification.
        self.assertRegex(str(data.pop("customer_token", "")), r"^lgc_[A-Za-z0-9_-]{43}$", body)
        self.assertEqual(data, {"phone_number": phone, "verified": True}, body)

    def assertOtpError(self, response, code):
        body = self.assertProblem(response, 400, code)
        for otp in self.codes:
            self.assertNotRegex(json.dumps(body), _NOT_IN_A_TOKEN.format(otp),
                                "an OTP code appears in an error body")
        return body

    def assertFieldError(self, response, field):
        body = self.assertProblem(response, 422)
        fields = [e.get("field") for e in body.get("errors", [])]
        self.assertIn(field, fields, body)
        return body

    def assertRateLimited(self, response, code, max_seconds=None):
        body = self.assertProblem(response, 429, code)
        retry_after = response[1].get("retry-after")
        self.assertIsNotNone(retry_after, f"429 without Retry-After: {response[1]}")
        self.assertRegex(retry_after, r"^[0-9]+$")
        self.assertGreaterEqual(int(retry_after), 1)
        if max_seconds is not None:
            self.assertLessEqual(int(retry_after), max_seconds)
        return body


def wrong(code: str, delta: int = 1) -> str:
    return f"{(int(code) + delta) % 1_000_000:06d}"


# --------------------------------------------------------------------------- the flows


class OtpFlowTest(OtpTestCase):

    def test_code_arrives_and_verifies(self):
        phone = random_mobile()
        started = time.monotonic()
        status, headers, body = self.send("+91 " + phone[:5] + " " + phone[5:], user_check=True)
        elapsed = time.monotonic() - started
        self.assertEqual(status, 200, body)
        # Speed is the benchmark's business; this only catches a send stuck on something.
        self.assertLess(elapsed, 5.0, "otp_send should answer within seconds")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertIs(body.get("success"), True, body)
        self.assertIsInstance(body.get("message"), str, body)
        self.assertEqual(body.get("data"), {"phone_number": phone}, body)
        # Exactly one message (user_check true: no consent request), the orbit OTP template.
        calls = template_calls_for(self.fake, phone)
        self.assertEqual(len(calls), 1, calls)
        call = calls[0]
        self.assertEqual(call["template"]["id"], "orbit_otp_authentication")
        self.assertEqual(call["form"]["destination"], "91" + phone)
        self.assertEqual(call["form"].get("source"), PARTNER_CREDENTIALS["orbit"]["GUPSHUP_SOURCE"])
        self.assertEqual(call["headers"].get("apikey"),
                         PARTNER_CREDENTIALS["orbit"]["GUPSHUP_API_KEY"])
        code = self.code_for(phone)
        self.assertNotRegex(json.dumps(body), _NOT_IN_A_TOKEN.format(code),
                            "the code is echoed in the send response")
        # Verified with the number written differently: it is normalised the same way.
        self.assertVerified(self.verify("0" + phone, code), phone)

    def test_homfinity_uses_its_own_template_and_scope(self):
        phone = random_mobile()
        code = self.sent_code(phone, env="homfinity")
        call = otp_calls(self.fake, phone, "homfinity")[0]
        self.assertEqual(call["form"].get("source"),
                         PARTNER_CREDENTIALS["homfinity"]["GUPSHUP_SOURCE"])
        # A code is bound to its environment.
        self.assertOtpError(self.verify(phone, code, env="orbit"), "OTP_NOT_FOUND")
        self.assertVerified(self.verify(phone, code, env="homfinity"), phone)

    def test_reuse_fails_already_used(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        self.assertVerified(self.verify(phone, code), phone)
        self.assertOtpError(self.verify(phone, code), "OTP_ALREADY_USED")
        self.assertOtpError(self.verify(phone, code), "OTP_ALREADY_USED")

    def test_code_is_stored_only_as_a_hash(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        rows = self.lg.db_query("SELECT code_hash, state, attempts FROM otp_codes")
        self.assertTrue(rows)
        for code_hash, _state, _attempts in rows:
            # (64 random hex digits hold a given six-digit run now and then: look for it as text)
            self.assertNotRegex(str(code_hash), rf"(?<![0-9a-fA-F]){code}(?![0-9a-fA-F])")
            self.assertGreaterEqual(len(str(code_hash)), 32, code_hash)

    def test_five_wrong_codes_burn_it(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        for attempt in range(1, 5):
            self.assertOtpError(self.verify(phone, wrong(code, attempt)), "OTP_INVALID")
        self.assertOtpError(self.verify(phone, wrong(code, 5)), "OTP_ATTEMPTS_EXCEEDED")
        # Burned: even the right code fails now.
        self.assertOtpError(self.verify(phone, code), "OTP_ATTEMPTS_EXCEEDED")
        # A fresh code (resend) works again.
        fresh = self.resent_code(phone)
        self.assertVerified(self.verify(phone, fresh), phone)

    def test_four_wrong_codes_then_the_right_one_verifies(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        for attempt in range(1, 5):
            self.assertOtpError(self.verify(phone, wrong(code, attempt)), "OTP_INVALID")
        self.assertVerified(self.verify(phone, code), phone)

    def test_resend_invalidates_the_old_code(self):
        phone = random_mobile()
        old = self.sent_code(phone)
        status, _, body = self.resend(phone)
        self.assertEqual(status, 200, body)
        self.assertIs(body.get("success"), True, body)
        self.assertEqual(body.get("data"), {"phone_number": phone}, body)
        new = self.code_for(phone, 2)
        if new == old:  # one chance in a million: the fresh code happens to be the same
            self.skipTest("the fresh code equals the old one")
        self.assertEqual(len(template_calls_for(self.fake, phone)), 2, "resend sent a consent")
        self.assertOtpError(self.verify(phone, old), "OTP_INVALID")
        self.assertVerified(self.verify(phone, new), phone)

    def test_send_again_also_replaces_the_code(self):
        phone = random_mobile()
        old = self.sent_code(phone)
        new = self.sent_code(phone)
        if new == old:
            self.skipTest("the fresh code equals the old one")
        self.assertOtpError(self.verify(phone, old), "OTP_INVALID")
        self.assertVerified(self.verify(phone, new), phone)

    def test_concurrent_double_verify_exactly_one_succeeds(self):
        for _ in range(5):
            phone = random_mobile()
            code = self.sent_code(phone)
            barrier = threading.Barrier(2)
            results = [None, None]

            def worker(i):
                barrier.wait()
                results[i] = self.verify(phone, code)

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            statuses = sorted(r[0] for r in results)
            self.assertEqual(statuses, [200, 400], [r[2] for r in results])
            loser = next(r for r in results if r[0] == 400)
            self.assertOtpError(loser, "OTP_ALREADY_USED")
            winner = next(r for r in results if r[0] == 200)
            self.assertVerified(winner, phone)

    def test_verify_without_any_otp_is_not_found(self):
        self.assertOtpError(self.verify(random_mobile(), "123456"), "OTP_NOT_FOUND")

    def test_resend_without_a_previous_send_is_not_found(self):
        phone = random_mobile()
        self.assertOtpError(self.resend(phone), "OTP_NOT_FOUND")
        self.assertEqual(template_calls_for(self.fake, phone), [])

    def test_otp_never_appears_in_the_logs_of_a_busy_flow(self):
        # Exercise every path that logs (sent, verify failures of each kind, resend, consent);
        # the per-test scan (assertCodesNotLogged) then checks each code received.
        phone = random_mobile()
        code = self.sent_code(phone, user_check=False)
        self.verify(phone, wrong(code))
        code = self.resent_code(phone)
        self.verify(phone, wrong(code))
        self.assertVerified(self.verify(phone, code), phone)
        self.verify(phone, code)
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        self.assertProblem(self.send(phone), 503, "WHATSAPP_UNAVAILABLE")
        self.assertTrue(self.codes)


class OtpConsentTest(OtpTestCase):

    def _max_consent_id(self) -> int:
        rows = self.lg.db_query("SELECT MAX(id) FROM consents")
        value = rows[0][0] if rows else None
        return int(value) if value not in (None, "") else 0

    def _link_path(self, link: str) -> str:
        self.assertTrue(link.startswith(self.lg.url + "/api_v1/consent/"), link)
        token = link.rsplit("/", 1)[1]
        self.assertRegex(token, r"^[A-Za-z0-9]{12}$")
        return link[len(self.lg.url):]

    def test_user_check_false_sends_consent_then_otp_and_the_link_opens_once(self):
        phone = random_mobile()
        before = self._max_consent_id()
        status, _, body = self.send(phone, user_check=False)
        self.assertEqual(status, 200, body)
        self.assertIs(body.get("success"), True, body)
        self.assertEqual(body.get("data"), {"phone_number": phone}, body)
        calls = template_calls_for(self.fake, phone)
        self.assertEqual([c["template"]["id"] for c in calls],
                         ["orbit_consent_request", "orbit_otp_authentication"], calls)
        self.assertLessEqual(calls[0]["time"], calls[1]["time"])
        code = self.code_for(phone)
        params = calls[0]["template"]["params"]
        self.assertEqual(len(params), 1, params)
        path = self._link_path(params[0])
        self.assertNotRegex(params[0], _NOT_IN_A_TOKEN.format(code))

        # Requested, not yet granted.
        rows = self.lg.db_query("SELECT environment, requested_at, expires_at, granted_at, "
                                "phone_enc FROM consents WHERE id > ?", (before,))
        self.assertEqual(len(rows), 1, rows)
        env, requested_at, expires_at, granted_at, phone_enc = rows[0]
        self.assertEqual(env, "orbit")
        self.assertEqual(int(granted_at), 0)
        self.assertGreater(int(expires_at), int(requested_at))
        self.assertNotIn(phone, str(phone_enc), "the phone is stored in clear")

        # The link needs no API key. Opening it (as a link preview would, twice) shows the
        # request and an "I agree" form posting back to the link, and records nothing.
        for _ in range(2):
            status, headers, page = self.lg.request("GET", path)
            self.assertEqual(status, 200, page)
            self.assertConsentPage(headers, page)
            self.assertIn("Orbit asks for your consent", page)
            self.assertRegex(page, r'<form method="post"><button type="submit">I agree</button>')
            self.assertEqual(int(self.lg.db_query("SELECT granted_at FROM consents WHERE id > ?",
                                                  (before,))[0][0]), 0)
        # "I agree" records it once, with a small HTML page. A second tap or a reload (POST) and
        # opening the link again say it is already recorded; nothing changes.
        status, headers, page = agree(self.lg, path)
        self.assertEqual(status, 200, page)
        self.assertConsentPage(headers, page)
        self.assertIn("Your consent was recorded on", page)
        granted_first = self.lg.db_query("SELECT granted_at FROM consents WHERE id > ?",
                                         (before,))
        for again in (lambda: agree(self.lg, path), lambda: self.lg.request("GET", path)):
            status, headers, page = again()
            self.assertEqual(status, 200, page)
            self.assertConsentPage(headers, page)
            self.assertIn("Your consent was already recorded on", page)
            self.assertNotIn("<form", page)
        self.assertEqual(self.lg.db_query("SELECT granted_at FROM consents WHERE id > ?",
                                          (before,)), granted_first)

        rows = self.lg.db_query("SELECT environment, requested_at, granted_at FROM consents "
                                "WHERE id > ?", (before,))
        self.assertEqual(len(rows), 1, rows)
        env, requested_at, granted_at = rows[0]
        self.assertEqual(env, "orbit")
        self.assertGreater(int(granted_at), 0)
        self.assertGreaterEqual(int(granted_at), int(requested_at))

        # Queryable for audit per phone and environment.
        audit = self.lg.run_cli("consent", "list", "--env", "orbit", "--phone", phone)
        self.assertEqual(audit.returncode, 0, audit.stderr)
        self.assertIn("1 granted", audit.stdout, audit.stdout)
        self.assertNotIn(phone, audit.stdout, "the audit listing shows the phone in clear")

        # The OTP of a consent send verifies like any other.
        self.assertVerified(self.verify(phone, code), phone)

    def assertConsentPage(self, headers, page):
        self.assertTrue(headers.get("content-type", "").startswith("text/html"), headers)
        self.assertEqual({k: headers.get(k) for k in CONSENT_PAGE_HEADERS}, CONSENT_PAGE_HEADERS)
        self.assertNotIn("<script", page.lower())

    def test_user_check_true_sends_only_the_otp(self):
        phone = random_mobile()
        before = self._max_consent_id()
        status, _, body = self.send(phone, user_check=True)
        self.assertEqual(status, 200, body)
        calls = template_calls_for(self.fake, phone)
        self.assertEqual([c["template"]["id"] for c in calls], ["orbit_otp_authentication"])
        self.code_for(phone)
        self.assertEqual(self.lg.db_query("SELECT COUNT(*) FROM consents WHERE id > ?",
                                          (before,))[0][0], 0)

    def test_expired_consent_link_is_404(self):
        phone = random_mobile()
        before = self._max_consent_id()
        self.sent_code(phone, user_check=False)
        path = self._link_path(consent_calls(self.fake, phone)[0]["template"]["params"][0])
        self.assertEqual(self.lg.db_execute("UPDATE consents SET expires_at = 1 WHERE id > ?",
                                            (before,)), 1)
        for status, headers, page in (self.lg.request("GET", path), agree(self.lg, path)):
            self.assertEqual(status, 404, page)
            self.assertConsentPage(headers, page)
            self.assertIn("Link not valid", page)
        rows = self.lg.db_query("SELECT granted_at FROM consents WHERE id > ?", (before,))
        self.assertEqual(int(rows[0][0]), 0)

    def test_unknown_and_malformed_tokens_are_404(self):
        for token in ("AAAAAAAAAAAA", "short", "abc!defghijk", "A" * 40):
            for status, _, page in (self.lg.request("GET", "/api_v1/consent/" + token),
                                    agree(self.lg, "/api_v1/consent/" + token)):
                self.assertEqual(status, 404, (token, page))


class OtpConsentPageEscapingTest(OtpTestCase):
    ENV = dict(FLOW_ENV, LEADGATE_ORBIT_BRAND_NAME='A&B <i>"Loans"</i>')

    def test_the_brand_name_is_escaped_on_the_consent_page(self):
        phone = random_mobile()
        self.sent_code(phone, user_check=False)
        link = consent_calls(self.fake, phone)[0]["template"]["params"][0]
        status, _, page = self.lg.request("GET", link[len(self.lg.url):])
        self.assertEqual(status, 200, page)
        self.assertIn("A&amp;B &lt;i&gt;&quot;Loans&quot;&lt;/i&gt; asks for your consent", page)
        self.assertNotIn("<i>", page)


class OtpValidationTest(OtpTestCase):

    def test_bad_phone_is_422_naming_phone_number(self):
        for phone in ("12345", "5876543210", "+1 9876543210", "98765abcde", "", 9876543210, None):
            with self.subTest(phone=phone):
                body = {"phone_number": phone, "user_check": True, "environment": "orbit"}
                r = self.lg.request("POST", SEND, body, api_key=self.key)
                self.assertFieldError(r, "phone_number")
                r = self.lg.request("POST", RESEND, {"phone_number": phone, "environment": "orbit"},
                                    api_key=self.key)
                self.assertFieldError(r, "phone_number")
                r = self.lg.request("POST", VERIFY, {"phone_number": phone, "otp": "123456",
                                                     "environment": "orbit"}, api_key=self.key)
                self.assertFieldError(r, "phone_number")
        self.assertEqual(self.fake.calls(GUPSHUP), [])

    def test_missing_or_non_boolean_user_check_is_422(self):
        phone = random_mobile()
        r = self.lg.request("POST", SEND, {"phone_number": phone, "environment": "orbit"},
                            api_key=self.key)
        self.assertFieldError(r, "user_check")
        for value in ("true", 1, None):
            r = self.lg.request("POST", SEND, {"phone_number": phone, "user_check": value,
                                               "environment": "orbit"}, api_key=self.key)
            self.assertFieldError(r, "user_check")
        self.assertEqual(template_calls_for(self.fake, phone), [])

    def test_otp_not_six_digits_is_422_naming_otp(self):
        phone = random_mobile()
        for otp in ("12345", "1234567", "12a456", "", "١٢٣٤٥٦", 123456, None):
            with self.subTest(otp=otp):
                body = {"phone_number": phone, "otp": otp, "environment": "orbit"}
                self.assertFieldError(self.lg.request("POST", VERIFY, body, api_key=self.key),
                                      "otp")
        body = {"phone_number": phone, "environment": "orbit"}
        self.assertFieldError(self.lg.request("POST", VERIFY, body, api_key=self.key), "otp")

    def test_unknown_environment_is_422(self):
        r = self.send(random_mobile(), env="mars")
        self.assertFieldError(r, "environment")

    def test_no_api_key_is_401(self):
        for path, body in ((SEND, {"phone_number": random_mobile(), "user_check": True}),
                           (VERIFY, {"phone_number": random_mobile(), "otp": "123456"})):
            status, _, answer = self.lg.request("POST", path, body)
            self.assertEqual(status, 401, answer)


class OtpEnvironmentTest(OtpTestCase):

    def test_one_environment_key_may_omit_it(self):
        key = self.lg.create_api_key("homfinity-only", ("homfinity",))
        phone = random_mobile()
        status, _, body = self.send(phone, env=None, key=key)
        self.assertEqual(status, 200, body)
        old = self.code_for(phone, 1, "homfinity")
        status, _, body = self.resend(phone, env=None, key=key)
        self.assertEqual(status, 200, body)
        new = self.code_for(phone, 2, "homfinity")
        if new != old:
            self.assertOtpError(self.verify(phone, old, env=None, key=key), "OTP_INVALID")
        self.assertVerified(self.verify(phone, new, env=None, key=key), phone)
        self.assertEqual(otp_calls(self.fake, phone, "orbit"), [])

    def test_two_environment_key_must_name_it(self):
        phone = random_mobile()
        self.assertFieldError(self.send(phone, env=None), "environment")
        self.assertEqual(template_calls_for(self.fake, phone), [])
        code = self.sent_code(phone)
        self.assertFieldError(self.resend(phone, env=None), "environment")
        self.assertFieldError(self.verify(phone, code, env=None), "environment")
        # Nothing was consumed by the rejected requests.
        self.assertVerified(self.verify(phone, code), phone)

    def test_key_for_another_environment_is_403(self):
        key = self.lg.create_api_key("orbit-only", ("orbit",))
        phone = random_mobile()
        self.assertProblem(self.send(phone, env="homfinity", key=key), 403)
        self.assertEqual(template_calls_for(self.fake, phone), [])


class OtpMetricsTest(OtpTestCase):

    def test_counters_for_sent_verified_failed_and_consent(self):
        before = metrics(self.lg)
        phone = random_mobile()
        code = self.sent_code(phone, user_check=False)
        self.verify(phone, wrong(code))
        self.assertVerified(self.verify(phone, code), phone)
        self.verify(phone, code)
        path = consent_calls(self.fake, phone)[0]["template"]["params"][0][len(self.lg.url):]
        self.assertEqual(self.lg.request("GET", path)[0], 200)  # shown: not counted
        self.assertEqual(agree(self.lg, path)[0], 200)
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        self.assertProblem(self.send(random_mobile()), 503, "WHATSAPP_UNAVAILABLE")
        after = metrics(self.lg)

        def delta(name):
            return after.get(name, 0) - before.get(name, 0)

        self.assertEqual(delta('leadgate_otp_sent_total{environment="orbit"}'), 1, after)
        self.assertEqual(delta('leadgate_otp_verified_total{environment="orbit"}'), 1, after)
        self.assertEqual(delta('leadgate_otp_failed_total{environment="orbit",reason="OTP_INVALID"}'),
                         1, after)
        self.assertEqual(delta('leadgate_otp_failed_total{environment="orbit",'
                               'reason="OTP_ALREADY_USED"}'), 1, after)
        failed_delivery = [n for n in after if n.startswith("leadgate_otp_failed_total{")
                           and 'environment="orbit"' in n and "whatsapp" in n.lower()]
        self.assertEqual(len(failed_delivery), 1, after)
        self.assertEqual(delta(failed_delivery[0]), 1, after)
        self.assertEqual(delta('leadgate_consent_requested_total{environment="orbit"}'), 1, after)
        self.assertEqual(delta('leadgate_consent_granted_total{environment="orbit"}'), 1, after)
        # No code in any metric name or label.
        for name in after:
            self.assertNotIn(code, name)


# --------------------------------------------------------------------------- time and limits


class OtpExpiryTest(OtpTestCase):
    ENV = dict(FLOW_ENV, LEADGATE_OTP_TTL_SECONDS="2")

    def test_code_expires_after_the_ttl(self):
        fresh, stale = random_mobile(), random_mobile()
        fresh_code = self.sent_code(fresh)
        self.assertVerified(self.verify(fresh, fresh_code), fresh)  # well within the TTL
        stale_code = self.sent_code(stale)
        time.sleep(2.3)
        self.assertOtpError(self.verify(stale, stale_code), "OTP_EXPIRED")
        # A resend gives a fresh expiry.
        code = self.resent_code(stale)
        self.assertVerified(self.verify(stale, code), stale)


class OtpCooldownTest(OtpTestCase):
    ENV = {"LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000"}  # default 30 s cooldown

    def test_second_send_within_the_cooldown_is_429_with_retry_after(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        self.assertRateLimited(self.send(phone), "OTP_RATE_LIMITED", max_seconds=30)
        self.assertRateLimited(self.resend(phone), "OTP_RATE_LIMITED", max_seconds=30)
        self.assertEqual(len(template_calls_for(self.fake, phone)), 1)
        # The rejected requests did not replace the delivered code.
        self.assertVerified(self.verify(phone, code), phone)
        # The limit is per phone and environment.
        self.sent_code(phone, env="homfinity")
        self.sent_code(random_mobile())


class OtpSendWindowTest(OtpTestCase):
    ENV = {"LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "0", "LEADGATE_OTP_MAX_SENDS": "3",
           "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000"}

    def test_failed_resend_keeps_the_delivered_code(self):
        phone = random_mobile()
        code = self.sent_code(phone)
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        self.assertProblem(self.resend(phone), 503, "WHATSAPP_UNAVAILABLE")
        self.assertVerified(self.verify(phone, code), phone)

    def test_fourth_send_in_the_window_is_429(self):
        phone = random_mobile()
        self.sent_code(phone)
        self.resent_code(phone)
        last = self.sent_code(phone)
        self.assertRateLimited(self.send(phone), "OTP_RATE_LIMITED", max_seconds=600)
        self.assertRateLimited(self.resend(phone), "OTP_RATE_LIMITED", max_seconds=600)
        self.assertEqual(len(otp_calls(self.fake, phone)), 3)
        self.assertVerified(self.verify(phone, last), phone)
        self.sent_code(random_mobile())  # another phone is not affected


class OtpGupshupDownTest(OtpTestCase):
    ENV = {"LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "0", "LEADGATE_OTP_MAX_SENDS": "1",
           "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000",
           "LEADGATE_OTP_SEND_TIMEOUT_MS": "700"}  # default 1500: two attempts take 3 s

    def test_gupshup_down_is_503_and_does_not_count_against_the_limit(self):
        phone = random_mobile()
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        started = time.monotonic()
        response = self.send(phone)
        self.assertLess(time.monotonic() - started, 2.8)
        self.assertProblem(response, 503, "WHATSAPP_UNAVAILABLE")
        self.assertTrue(response[1].get("retry-after"), response[1])
        self.assertEqual(len(template_calls_for(self.fake, phone)), 2, "expected one retry")
        # Gupshup is up again: the failed send did not use the single allowed send.
        code = self.sent_code(phone)
        self.assertVerified(self.verify(phone, code), phone)
        self.assertRateLimited(self.send(phone), "OTP_RATE_LIMITED")

    def test_one_failure_is_retried_and_delivered(self):
        phone = random_mobile()
        self.fake.script(GUPSHUP, [{"status": 500}])
        code = self.sent_code(phone)
        self.assertEqual(len(template_calls_for(self.fake, phone)), 2)
        self.assertVerified(self.verify(phone, code), phone)

    def test_gupshup_hanging_is_503_within_the_send_timeout_and_counts(self):
        phone = random_mobile()
        self.fake.script(GUPSHUP, [{"hang": True, "max_s": 5}, {"hang": True, "max_s": 5}])
        started = time.monotonic()
        response = self.send(phone)
        elapsed = time.monotonic() - started
        self.assertProblem(response, 503, "WHATSAPP_UNAVAILABLE")
        self.assertLess(elapsed, 1.4, "the 700 ms OTP send timeout was not applied (or retried)")
        # Gupshup got the request and may deliver it: not retried, and it used the one send.
        self.assertEqual(len(template_calls_for(self.fake, phone)), 1)
        self.assertRateLimited(self.send(phone), "OTP_RATE_LIMITED")
        self.assertEqual(len(template_calls_for(self.fake, phone)), 1)


class OtpSlowGupshupTest(OtpTestCase):
    """Gupshup slower than LEADGATE_OTP_SEND_TIMEOUT_MS: the outcome of the send is unknown (the
    message may still arrive), so it counts against the cooldown and the window, and is not
    retried. Default 30 s cooldown."""
    ENV = {"LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000", "LEADGATE_OTP_SEND_TIMEOUT_MS": "700"}

    def test_a_timed_out_send_counts_against_the_cooldown_and_its_late_code_verifies(self):
        phone = random_mobile()
        self.fake.script(GUPSHUP, [{"delay_ms": 1500}])  # then accepts the message
        started = time.monotonic()
        response = self.send(phone)
        self.assertLess(time.monotonic() - started, 1.4)
        self.assertProblem(response, 503, "WHATSAPP_UNAVAILABLE")
        self.assertGreaterEqual(int(response[1].get("retry-after", "0")), 5, response[1])
        # An immediate second send (and a resend) for that phone: refused, nothing sent.
        self.assertRateLimited(self.send(phone), "OTP_RATE_LIMITED", max_seconds=30)
        self.assertRateLimited(self.resend(phone), "OTP_RATE_LIMITED", max_seconds=30)
        # The slow message did arrive, once; its code verifies.
        wait_until(lambda: otp_calls(self.fake, phone), 5, message="the slow OTP never arrived")
        time.sleep(0.2)
        code = self.code_for(phone)
        self.assertVerified(self.verify(phone, code), phone)


class OtpGupshupUnreachableTest(OtpTestCase):
    """Nothing listens at LEADGATE_GUPSHUP_URL: connect refused is a definite failure (nothing
    was sent), so it is retried once and the limits are given back."""
    ENV = {"LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "30", "LEADGATE_OTP_MAX_SENDS": "1",
           "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000",
           "LEADGATE_GUPSHUP_URL": f"http://127.0.0.1:{free_port()}"}

    def test_connect_refused_gives_the_limits_back(self):
        phone = random_mobile()
        for _ in range(2):  # a retry is allowed: neither cooldown nor window was used
            response = self.send(phone)
            self.assertProblem(response, 503, "WHATSAPP_UNAVAILABLE")
            self.assertIn("no OTP was sent", response[2].get("detail", ""), response[2])


class OtpKeyLimitTest(OtpTestCase):
    ENV = {"LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "2"}  # default 30 s per-phone cooldown

    def test_third_send_of_a_key_within_a_minute_is_429(self):
        key = self.lg.create_api_key("pump", ("orbit",))
        self.sent_code(random_mobile(), key=key)
        self.sent_code(random_mobile(), key=key)
        phone = random_mobile()
        self.assertRateLimited(self.send(phone, key=key), "RATE_LIMITED", max_seconds=60)
        self.assertEqual(template_calls_for(self.fake, phone), [])
        # Another key has its own allowance.
        other = self.lg.create_api_key("other", ("orbit",))
        self.sent_code(phone, key=other)

    def test_refused_and_failed_sends_do_not_use_the_key_allowance(self):
        key = self.lg.create_api_key("careful", ("orbit",))
        first = random_mobile()
        self.sent_code(first, key=key)
        self.assertRateLimited(self.send(first, key=key), "OTP_RATE_LIMITED")  # cooldown
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        self.assertProblem(self.send(random_mobile(), key=key), 503, "WHATSAPP_UNAVAILABLE")
        self.sent_code(random_mobile(), key=key)  # the key's 2nd real send
        self.assertRateLimited(self.send(random_mobile(), key=key), "RATE_LIMITED")


if __name__ == "__main__":
    unittest.main()
