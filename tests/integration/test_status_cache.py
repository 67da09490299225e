"""The partner-status cache (issue 19, docs/api.md "Tracking"): LEADGATE_STATUS_TTL_SECONDS and
stale-while-revalidate (RFC 5861) on lead_status, track_application and the WhatsApp assistant,
through the real binary and the fake LOS, on either store (LEADGATE_TEST_STORE).

Covered: a status never fetched waits for the LOS ("live"); within the TTL no LOS call and the
stored status ("cached"), even when the LOS has changed it; after the TTL the stored status at
once, while the LOS hangs, and one background refresh whose answer the next read shows; many
concurrent stale reads make one LOS call; a read within the TTL writes nothing; track_application
follows the same rules.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \\
         python3 -m unittest -v test_status_cache
"""
from __future__ import annotations

import threading
import time
import unittest

from harness import FakePartners, Leadgate, LeadgateTestCase, valid_lead, wait_until

LEAD_STATUS = "/api_v1/lead_status"
TRACK = "/api_v1/track_application"
APP_STATUS = "GetApplicationStatus"
TTL_S = 2


def status_calls(fake: FakePartners, basic_application_id: str) -> list[dict]:
    return [c for c in fake.calls(APP_STATUS)
            if c["query"].get("basic_application_id") == basic_application_id]


class StatusTtlTest(LeadgateTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env={"LEADGATE_STATUS_TTL_SECONDS": str(TTL_S),
                                         "LEADGATE_STATUS_TIMEOUT_MS": "4000",
                                         "LEADGATE_STATUS_ATTEMPTS": "1"})
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("status-cache-tests", ("orbit",))

    def setUp(self):
        self.fake.reset()

    def create(self):
        lead = valid_lead()
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        return lead["mobile"], body["basic_application_id"]

    def read(self, path, mobile):
        status, _, body = self.lg.request("POST", path,
                                          {"environment": "orbit", "mobile_number": mobile},
                                          api_key=self.key)
        self.assertEqual(status, 200, body)
        data = body["data"]
        return data["current_status"] if path == TRACK else data

    def test_never_fetched_waits_then_fresh_reads_make_no_call(self):
        mobile, basic_id = self.create()
        self.fake.set_status(basic_id, "Under Review")
        first = self.read(LEAD_STATUS, mobile)
        self.assertEqual((first["status"], first["status_source"]), ("Under Review", "live"))
        self.assertEqual(len(status_calls(self.fake, basic_id)), 1)

        # The LOS changes its answer; within the TTL nobody asks it.
        self.fake.set_status(basic_id, "Sanctioned")
        for path in (LEAD_STATUS, TRACK, LEAD_STATUS):
            view = self.read(path, mobile)
            self.assertEqual((view["status"], view["status_source"]), ("Under Review", "cached"),
                             path)
            self.assertEqual(view["status_refreshed_at"], first["status_refreshed_at"], path)
        self.assertEqual(len(status_calls(self.fake, basic_id)), 1)

    def test_a_read_within_the_ttl_writes_nothing(self):
        mobile, basic_id = self.create()
        self.read(LEAD_STATUS, mobile)
        before = self.lg.db_query("SELECT status_refreshed_at, updated_at FROM leads "
                                  "WHERE basic_application_id = ?", (basic_id,))
        for _ in range(5):
            self.read(LEAD_STATUS, mobile)
            self.read(TRACK, mobile)
        after = self.lg.db_query("SELECT status_refreshed_at, updated_at FROM leads "
                                 "WHERE basic_application_id = ?", (basic_id,))
        self.assertEqual(before, after)

    def test_stale_status_is_answered_at_once_and_refreshed_in_the_background(self):
        mobile, basic_id = self.create()
        self.fake.set_status(basic_id, "Under Review")
        self.read(LEAD_STATUS, mobile)
        time.sleep(TTL_S + 0.2)
        self.fake.set_status(basic_id, "Sanctioned")
        # The LOS now takes 2 s to answer: a stale read must not wait for it.
        self.fake.script(APP_STATUS, [{"delay_ms": 2000}])
        started = time.monotonic()
        stale = self.read(LEAD_STATUS, mobile)
        elapsed = time.monotonic() - started
        self.assertEqual((stale["status"], stale["status_source"]), ("Under Review", "cached"))
        self.assertLess(elapsed, 1.5, f"a stale read waited {elapsed:.2f}s for the LOS")
        wait_until(lambda: self.read(LEAD_STATUS, mobile)["status"] == "Sanctioned", 10,
                   interval=0.2, message="the background refresh never stored the new status")
        self.assertEqual(len(status_calls(self.fake, basic_id)), 2)
        view = self.read(TRACK, mobile)
        self.assertEqual((view["status"], view["status_source"]), ("Sanctioned", "cached"))
        self.assertEqual(len(status_calls(self.fake, basic_id)), 2)

    def test_an_unchanged_refresh_writes_nothing_and_counts_as_fresh(self):
        mobile, basic_id = self.create()
        self.fake.set_status(basic_id, "Under Review")
        first = self.read(LEAD_STATUS, mobile)  # the first fetch is written
        before = self.lg.db_query("SELECT status_refreshed_at, updated_at FROM leads "
                                  "WHERE basic_application_id = ?", (basic_id,))
        time.sleep(TTL_S + 0.2)
        self.read(LEAD_STATUS, mobile)  # stale: refreshed in the background, unchanged
        wait_until(lambda: len(status_calls(self.fake, basic_id)) == 2, 5, interval=0.1,
                   message="no background refresh")
        time.sleep(0.3)  # the refresh ends
        after = self.lg.db_query("SELECT status_refreshed_at, updated_at FROM leads "
                                 "WHERE basic_application_id = ?", (basic_id,))
        self.assertEqual(before, after, "an unchanged status was written")
        # This instance counts the confirmation as fresh: no call within the TTL, and the answer
        # says when it was confirmed.
        view = self.read(TRACK, mobile)
        self.assertEqual((view["status"], view["status_source"]), ("Under Review", "cached"))
        self.assertGreater(view["status_refreshed_at"], first["status_refreshed_at"])
        self.read(LEAD_STATUS, mobile)
        self.assertEqual(len(status_calls(self.fake, basic_id)), 2)

    def test_concurrent_stale_reads_make_one_los_call(self):
        mobile, basic_id = self.create()
        self.read(TRACK, mobile)
        time.sleep(TTL_S + 0.2)
        self.fake.script(APP_STATUS, [{"delay_ms": 1000}])
        errors = []

        def reader(path):
            try:
                self.read(path, mobile)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=reader, args=(LEAD_STATUS if i % 2 else TRACK,))
                   for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        time.sleep(1.5)  # the one background refresh ends
        self.assertEqual(len(status_calls(self.fake, basic_id)), 2)


if __name__ == "__main__":
    unittest.main()
