"""Abuse resistance (issue 20): made-up HTTP methods and paths cannot grow the service, and a key
has a per-minute budget.

Beast accepts any token as a method. leadgate answers methods outside GET, HEAD, POST, PUT,
PATCH, DELETE and OPTIONS with 501 problem+json before routing, and labels its metrics from closed
sets only, so thousands of random requests leave /metrics and the process's memory as they were.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_abuse_resistance
"""
from __future__ import annotations

import os
import random
import string
import unittest

from harness import LeadgateTestCase


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


class UnknownMethodsTest(LeadgateTestCase):

    def test_unknown_method_is_501_problem_json_before_routing(self):
        _, lg, key = self.start_service()
        for path in ("/api_v1/create_lead", "/no/such/path", "/healthz"):
            status, headers, body = lg.request("BREW", path, api_key=key)
            self.assertEqual(status, 501, (path, body))
            self.assertEqual(headers["content-type"], "application/problem+json")
            self.assertEqual(body["code"], "METHOD_NOT_IMPLEMENTED")
            self.assertEqual(body["title"], "Not Implemented")
        # Served methods keep their answers: 405 for a known path, 404 for an unknown one.
        self.assertEqual(lg.request("PUT", "/api_v1/create_lead", api_key=key)[0], 405)
        self.assertEqual(lg.request("DELETE", "/no/such/path", api_key=key)[0], 404)

    def test_random_methods_and_paths_leave_metrics_and_memory_unchanged(self):
        # Under ASan freed memory waits in a quarantine (256 MB by default) and RSS says nothing
        # about what the service keeps: this instance runs without it.
        asan = os.environ.get("ASAN_OPTIONS", "")
        _, lg, _ = self.start_service(env={
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"})
        rng = random.Random(20)
        warm = [(token(rng, 6), "/" + token(rng, 12)) for _ in range(300)]
        for method, path in warm:  # allocator and connection warm-up
            lg.request(method, path)
        lg.metrics_text()  # the scrape's own series exist from the second scrape on
        before_text = lg.metrics_text()
        before_rss = rss_kb(lg.proc.pid)
        sent = [(token(rng, 8), "/" + token(rng, 16) + "/" + token(rng, 8)) for _ in range(3000)]
        for method, path in sent:
            self.assertEqual(lg.request(method, path)[0], 501, method)
        after_text = lg.metrics_text()
        after_rss = rss_kb(lg.proc.pid)
        # No made-up method or path reached a label; the series are the same set as before.
        for method, path in sent[:200]:
            self.assertNotIn(method, after_text)
            self.assertNotIn(path, after_text)

        def series(text: str) -> set[str]:
            return {line.split(" ")[0] for line in text.splitlines()
                    if line and not line.startswith("#")}
        self.assertEqual(series(after_text) - series(before_text), set(),
                         "new series after random requests")
        self.assertIn('method="other"', after_text)
        self.assertIn('route="unsupported_method"', after_text)
        # 3,000 requests each adding a series would cost far more than this.
        self.assertLess(after_rss - before_rss, 8 * 1024, (before_rss, after_rss))



class KeyBudgetTest(LeadgateTestCase):

    def test_a_key_over_its_budget_gets_429_with_retry_after_and_others_do_not(self):
        _, lg, key = self.start_service(env={"LEADGATE_KEY_REQUESTS_PER_MINUTE": "3"})
        other = lg.create_api_key("other")
        body = {"environment": "orbit"}  # 422: a request spends the budget whatever its answer
        for _ in range(3):
            self.assertEqual(lg.request("POST", "/api_v1/lead_status", body, api_key=key)[0], 422)
        status, headers, problem = lg.request("POST", "/api_v1/lead_status", body, api_key=key)
        self.assertEqual(status, 429, problem)
        self.assertEqual(problem["code"], "RATE_LIMITED")
        # One token every 20 s at 3 a minute.
        self.assertTrue(1 <= int(headers["retry-after"]) <= 20, headers)
        self.assertEqual(lg.request("POST", "/api_v1/lead_status", body, api_key=other)[0], 422)
        # Unauthenticated requests are refused before the budget (401, not 429).
        self.assertEqual(lg.request("POST", "/api_v1/lead_status", body)[0], 401)


if __name__ == "__main__":
    unittest.main()
