"""API key revocation across two leadgate instances sharing one PostgreSQL database (issue 20 §7):
a key revoked with `leadgate apikey revoke` gets 401 on every instance within the key cache time
(LEADGATE_API_KEY_CACHE_SECONDS, default 30; 2 here), although both instances had it cached.
`apikey list` then shows it revoked, with when it was last used.

Run: cd tests/integration && LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=postgresql://… \
         LEADGATE_BIN=/work/main/build/asan/leadgate python3 -m unittest -v test_pg_apikey_revoke
"""
from __future__ import annotations

import os
import time
import unittest

from harness import (FakePartners, Leadgate, LeadgateTestCase, binary_available,
                     create_pg_database, drop_pg_database, leadgate_bin, random_mobile)

CACHE_SECONDS = 2
TRACK = "/api_v1/track_application"


@unittest.skipUnless(os.environ.get("LEADGATE_TEST_PG_URL"),
                     "needs a PostgreSQL server (LEADGATE_TEST_PG_URL)")
@unittest.skipUnless(binary_available(), f"leadgate binary not found: {leadgate_bin()}")
class RevokeAcrossInstancesTest(LeadgateTestCase):

    def setUp(self):
        fake = FakePartners(hang_timeout=10).start()
        self.addCleanup(fake.stop)
        db_url = create_pg_database()
        self.addCleanup(drop_pg_database, db_url)
        env = {"LEADGATE_API_KEY_CACHE_SECONDS": str(CACHE_SECONDS)}
        self.a = Leadgate(fake, env=env, database_url=db_url)
        self.addCleanup(self.a.close)
        self.b = Leadgate(fake, env=env, database_url=db_url, pii_key=self.a.pii_key)
        self.addCleanup(self.b.close)
        self.a.start()
        self.b.start()

    def track(self, lg, key):
        return lg.request("POST", TRACK, {"environment": "orbit",
                                          "mobile_number": random_mobile()}, api_key=key)

    def key_line(self, key_id):
        result = self.a.run_cli("apikey", "list")
        self.assertEqual(result.returncode, 0, result.stderr)
        for line in result.stdout.splitlines():
            if line.startswith(key_id + "\t"):
                return line.split("\t")
        self.fail(f"{key_id} not in apikey list:\n{result.stdout}")

    def test_a_revoked_key_is_refused_by_every_instance_within_the_cache_time(self):
        key = self.a.create_api_key("to-revoke", ("orbit",))
        keep = self.a.create_api_key("to-keep", ("orbit",))
        for lg in (self.a, self.b):  # both instances cache the key as valid
            self.assertEqual(self.track(lg, key)[0], 404)
        key_id = next(line.split("\t")[0] for line in
                      self.a.run_cli("apikey", "list").stdout.splitlines()
                      if "\tto-revoke\t" in line)
        result = self.b.run_cli("apikey", "revoke", "--id", key_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"Revoked API key {key_id} (to-revoke)", result.stdout)
        revoked_at = time.monotonic()
        pending = {"a": self.a, "b": self.b}
        while pending and time.monotonic() - revoked_at < CACHE_SECONDS + 5:
            for name, lg in list(pending.items()):
                if self.track(lg, key)[0] == 401:
                    pending.pop(name)
            time.sleep(0.1)
        self.assertEqual(pending, {}, "an instance still accepts the revoked key")
        self.assertLess(time.monotonic() - revoked_at, CACHE_SECONDS + 2)
        for lg in (self.a, self.b):
            self.assertProblem(self.track(lg, key), 401, "UNAUTHENTICATED")
            self.assertEqual(self.track(lg, keep)[0], 404)  # other keys are untouched
        fields = self.key_line(key_id)
        self.assertEqual(fields[1:5], ["to-revoke", "orbit", "server", "revoked"], fields)
        self.assertRegex(fields[6], r"^\d{4}-\d\d-\d\dT", fields)  # it was used
        again = self.a.run_cli("apikey", "revoke", "--id", key_id)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already revoked", again.stdout)


if __name__ == "__main__":
    unittest.main()
