"""WhatsApp OTP across two leadgate instances sharing one PostgreSQL database and PII key
(issue 5): a code sent through one instance verifies through the other, and everything that
must be shared — used/burned state, attempts, resend invalidation, consent links, send limits —
is shared through the database.

Run: cd tests/integration && LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=postgresql://… \
         LEADGATE_BIN=/work/main/build/debug/leadgate python3 -m unittest -v test_pg_otp_instances
"""
from __future__ import annotations

import os
import threading
import unittest

from harness import (FakePartners, Leadgate, binary_available, create_pg_database,
                     drop_pg_database, leadgate_bin, random_mobile, template_calls_for)
from test_otp import (FLOW_ENV, GUPSHUP, OtpTestCase, agree, consent_calls, leaked_codes,
                      otp_calls, wrong)


@unittest.skipUnless(os.environ.get("LEADGATE_TEST_PG_URL"),
                     "needs a PostgreSQL server (LEADGATE_TEST_PG_URL)")
@unittest.skipUnless(binary_available(), f"leadgate binary not found: {leadgate_bin()}")
class TwoInstancesTestCase(OtpTestCase):
    """Instances a and b on one fresh database with one PII key; self.lg is a."""

    ENV = dict(FLOW_ENV, LEADGATE_OTP_MAX_SENDS="3")

    @classmethod
    def setUpClass(cls):
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.db_url = create_pg_database()
        cls.addClassCleanup(drop_pg_database, cls.db_url)
        cls.a = Leadgate(cls.fake, env=cls.ENV, database_url=cls.db_url)
        cls.addClassCleanup(cls.a.close)
        cls.b = Leadgate(cls.fake, env=cls.ENV, database_url=cls.db_url, pii_key=cls.a.pii_key)
        cls.addClassCleanup(cls.b.close)
        cls.a.start()
        cls.b.start()
        cls.lg = cls.a
        cls.key = cls.a.create_api_key("otp-instances", ("orbit", "homfinity"))

    def assertCodesNotLogged(self):
        for lg in (self.a, self.b):
            leaks = leaked_codes(lg.log_text(), self.codes)
            self.assertEqual(leaks, [], "an OTP code appears in an instance's log output")


class OtpAcrossInstancesTest(TwoInstancesTestCase):

    def test_send_via_one_verify_via_the_other(self):
        phone = random_mobile()
        status, _, body = self.send(phone, lg=self.a)
        self.assertEqual(status, 200, body)
        code = self.code_for(phone)
        self.assertVerified(self.verify(phone, code, lg=self.b), phone)
        self.assertOtpError(self.verify(phone, code, lg=self.a), "OTP_ALREADY_USED")
        self.assertOtpError(self.verify(phone, code, lg=self.b), "OTP_ALREADY_USED")

    def test_resend_via_the_other_invalidates_the_old_code(self):
        phone = random_mobile()
        self.assertEqual(self.send(phone, lg=self.a)[0], 200)
        old = self.code_for(phone, 1)
        status, _, body = self.resend(phone, lg=self.b)
        self.assertEqual(status, 200, body)
        new = self.code_for(phone, 2)
        if new == old:
            self.skipTest("the fresh code equals the old one")
        self.assertOtpError(self.verify(phone, old, lg=self.a), "OTP_INVALID")
        self.assertVerified(self.verify(phone, new, lg=self.a), phone)

    def test_attempts_are_counted_across_instances(self):
        phone = random_mobile()
        self.assertEqual(self.send(phone, lg=self.b)[0], 200)
        code = self.code_for(phone)
        for attempt, lg in zip(range(1, 5), (self.a, self.b, self.a, self.b)):
            self.assertOtpError(self.verify(phone, wrong(code, attempt), lg=lg), "OTP_INVALID")
        self.assertOtpError(self.verify(phone, wrong(code, 5), lg=self.a),
                            "OTP_ATTEMPTS_EXCEEDED")
        self.assertOtpError(self.verify(phone, code, lg=self.b), "OTP_ATTEMPTS_EXCEEDED")

    def test_concurrent_verify_on_both_instances_exactly_one_succeeds(self):
        for _ in range(5):
            phone = random_mobile()
            self.assertEqual(self.send(phone, lg=self.a)[0], 200)
            code = self.code_for(phone)
            barrier = threading.Barrier(2)
            results = [None, None]

            def worker(i, lg):
                barrier.wait()
                results[i] = self.verify(phone, code, lg=lg)

            threads = [threading.Thread(target=worker, args=(i, lg))
                       for i, lg in enumerate((self.a, self.b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(sorted(r[0] for r in results), [200, 400], [r[2] for r in results])
            self.assertOtpError(next(r for r in results if r[0] == 400), "OTP_ALREADY_USED")
            self.assertVerified(next(r for r in results if r[0] == 200), phone)

    def test_consent_link_from_one_opens_once_on_either(self):
        phone = random_mobile()
        self.assertEqual(self.send(phone, user_check=False, lg=self.a)[0], 200)
        self.code_for(phone)
        link = consent_calls(self.fake, phone)[0]["template"]["params"][0]
        token = link.rsplit("/", 1)[1]
        path = "/api_v1/consent/" + token
        self.assertEqual(self.a.request("GET", path)[0], 200)  # shown on either, not granted
        status, _, page = agree(self.b, path)
        self.assertEqual(status, 200, page)
        for lg in (self.a, self.b):  # already recorded, on either
            status, _, page = agree(lg, path)
            self.assertEqual(status, 200, page)
            self.assertIn("already recorded", page)
        audit = self.b.run_cli("consent", "list", "--env", "orbit", "--phone", phone)
        self.assertEqual(audit.returncode, 0, audit.stderr)
        self.assertIn("1 granted", audit.stdout)

    def test_send_window_is_shared(self):
        phone = random_mobile()
        self.assertEqual(self.send(phone, lg=self.a)[0], 200)
        self.assertEqual(self.send(phone, lg=self.b)[0], 200)
        self.assertEqual(self.resend(phone, lg=self.a)[0], 200)
        last = self.code_for(phone, 3)
        self.assertRateLimited(self.send(phone, lg=self.b), "OTP_RATE_LIMITED")
        self.assertRateLimited(self.resend(phone, lg=self.a), "OTP_RATE_LIMITED")
        self.assertEqual(len(otp_calls(self.fake, phone)), 3)
        self.assertVerified(self.verify(phone, last, lg=self.b), phone)

    def test_failed_send_on_one_does_not_count_on_the_other(self):
        phone = random_mobile()
        self.fake.script(GUPSHUP, [{"status": 500}, {"status": 500}])
        self.assertProblem(self.send(phone, lg=self.a), 503, "WHATSAPP_UNAVAILABLE")
        for lg in (self.b, self.a, self.b):
            self.assertEqual(self.send(phone, lg=lg)[0], 200)
        self.code_for(phone, 3)
        self.assertRateLimited(self.send(phone, lg=self.a), "OTP_RATE_LIMITED")


class OtpCooldownAcrossInstancesTest(TwoInstancesTestCase):
    ENV = {"LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000"}  # default 30 s cooldown

    def test_cooldown_is_shared(self):
        phone = random_mobile()
        self.assertEqual(self.send(phone, lg=self.a)[0], 200)
        code = self.code_for(phone)
        self.assertRateLimited(self.send(phone, lg=self.b), "OTP_RATE_LIMITED", max_seconds=30)
        self.assertRateLimited(self.resend(phone, lg=self.b), "OTP_RATE_LIMITED", max_seconds=30)
        self.assertEqual(len(template_calls_for(self.fake, phone)), 1)
        self.assertVerified(self.verify(phone, code, lg=self.b), phone)


class OtpKeyLimitAcrossInstancesTest(TwoInstancesTestCase):
    ENV = {"LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "2"}

    def test_key_allowance_is_shared(self):
        key = self.a.create_api_key("pump", ("orbit",))
        self.assertEqual(self.send(random_mobile(), key=key, lg=self.a)[0], 200)
        self.assertEqual(self.send(random_mobile(), key=key, lg=self.b)[0], 200)
        self.assertRateLimited(self.send(random_mobile(), key=key, lg=self.a), "RATE_LIMITED")
        self.assertRateLimited(self.send(random_mobile(), key=key, lg=self.b), "RATE_LIMITED")


if __name__ == "__main__":
    unittest.main()
