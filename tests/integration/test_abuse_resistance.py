"""Abuse resistance (issue 20): made-up HTTP methods and paths cannot grow the service, and a key
has a per-minute budget.

Beast accepts any token as a method. leadgate answers methods outside GET, HEAD, POST, PUT,
PATCH, DELETE and OPTIONS with 501 problem+json before routing, and labels its metrics from closed
sets only, so thousands of random requests leave /metrics and the process's memory as they were.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_abuse_resistance
"""
from __future__ import annotations

import json
import os
import random
import socket
import string
import threading
import time
import unittest

from harness import (
    LeadgateTestCase, accepted, los_calls_for, template_calls_for, valid_lead, wait_until,
)


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

        # The request-labelled families (the gauges refreshed by background jobs, such as
        # process_*, appear on their own schedule and say nothing about requests).
        def series(text: str) -> set[str]:
            return {line.split(" ")[0] for line in text.splitlines()
                    if line.startswith("leadgate_http_")}
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


def raw_exchange(lg, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes on a fresh connection; return everything the service answers until it
    closes the connection."""
    with socket.create_connection((lg.host, lg.port), timeout=timeout) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


class BoundedResourcesTest(LeadgateTestCase):
    """Issue 20 section 5: limits that hold before any authentication."""

    def test_an_overlong_chunk_extension_is_400_and_closes(self):
        _, lg, key = self.start_service()
        extension = b";x=" + b"a" * 100_000
        head = (b"POST /api_v1/lead_status HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                b"\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer " + key.encode() +
                b"\r\n\r\n")
        answer = raw_exchange(lg, head + b"2" + extension + b"\r\n{}\r\n0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:200])
        self.assertIn(b"Connection: close", answer)
        # The service is unharmed.
        self.assertEqual(lg.request("GET", "/healthz")[0], 200)

    def test_ambiguous_body_framing_is_400_and_closes(self):
        # Found by fuzz/fuzz_http_request.cpp: these were read as bodiless (the body then taken
        # for the next request) or the connection was closed without an answer.
        _, lg, _ = self.start_service()
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        for framing in (b"Transfer-Encoding: gzip\r\n",
                        b"Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n",
                        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                        b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
                        b"Content-Length: 1\r\nContent-Length: 2\r\n"):
            answer = raw_exchange(lg, b"POST /api_v1/lead_status HTTP/1.1\r\nHost: t\r\n" +
                                  framing + b"\r\n" + smuggled)
            self.assertTrue(answer.startswith(b"HTTP/1.1 400"), (framing, answer[:200]))
            self.assertIn(b"Connection: close", answer)
            self.assertEqual(answer.count(b"HTTP/1.1 "), 1, (framing, answer[:400]))

    def test_only_the_webhook_takes_bodies_over_64_kib(self):
        _, lg, key = self.start_service()
        big = b'{"pad": "' + b"x" * (200 * 1024) + b'"}'
        status, _, problem = lg.request("POST", "/api_v1/lead_status", raw_body=big,
                                        headers={"Content-Type": "application/json"}, api_key=key)
        self.assertEqual((status, problem["code"]), (413, "PAYLOAD_TOO_LARGE"), problem)
        # The webhook reads it (and then refuses it for its missing token, not its size).
        status, _, problem = lg.request("POST", "/api_v1/whatsapp/webhook", raw_body=big,
                                        headers={"Content-Type": "application/json"})
        self.assertNotEqual(status, 413, problem)
        over = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
        status, _, problem = lg.request("POST", "/api_v1/whatsapp/webhook", raw_body=over,
                                        headers={"Content-Type": "application/json"})
        self.assertEqual((status, problem["code"]), (413, "PAYLOAD_TOO_LARGE"), problem)

    def test_paths_with_an_empty_segment_match_no_route(self):
        _, lg, key = self.start_service()
        body = {"environment": "orbit", "mobile_number": "9876543210"}
        for path in ("/api_v1//lead_status", "//api_v1/lead_status", "//healthz",
                     "/api_v1/lead_status/", "/healthz/"):
            status, _, problem = lg.request("POST" if "lead" in path else "GET", path, body,
                                            api_key=key)
            self.assertEqual(status, 404, (path, problem))
        self.assertEqual(lg.request("GET", "/healthz")[0], 200)

    def test_connections_beyond_the_cap_get_503_and_are_closed(self):
        _, lg, _ = self.start_service(env={"LEADGATE_MAX_CONNECTIONS": "4"})
        held = [socket.create_connection((lg.host, lg.port), timeout=5) for _ in range(4)]
        try:
            time.sleep(0.3)  # accepted and counted
            started = time.monotonic()
            answer = raw_exchange(lg, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertTrue(answer.startswith(b"HTTP/1.1 503"), answer[:200])
            self.assertIn(b"TOO_MANY_CONNECTIONS", answer)
            self.assertIn(b"Retry-After: 1", answer)
            self.assertLess(time.monotonic() - started, 3.0, "the refused connection hung")
        finally:
            for sock in held:
                sock.close()
        # Once they are gone the service serves again.
        deadline = time.monotonic() + 5
        while lg.request("GET", "/healthz")[0] != 200:
            self.assertLess(time.monotonic(), deadline, "no longer serving after the cap")
            time.sleep(0.1)
        # The log is written by its own thread (core/log_sink.h): wait for the line, do not race it.
        lg.wait_for_log("connection_limit_reached", timeout=5)


class LosRecoveryTest(LeadgateTestCase):
    """Issue 20 section 8: a lead left pending_los by a crash is completed by the recovery job."""

    def test_kill_during_the_los_call_then_the_lead_completes_with_one_confirmation(self):
        fake, lg, key = self.start_service(env={
            "LEADGATE_LOS_RECOVERY_AFTER_SECONDS": "1",
            "LEADGATE_LOS_RECOVERY_POLL_MS": "200",
            "LEADGATE_BASIC_APP_TIMEOUT_MS": "1000",
            "LEADGATE_BASIC_APP_ATTEMPTS": "1",
        })
        fake.script("CreateFBBByBasicUser", [{"hang": True, "max_s": 30}])
        lead = valid_lead()
        answers = []
        client = threading.Thread(
            target=lambda: answers.append(self.post_lead_quietly(lg, lead, key)))
        client.start()
        first = wait_until(lambda: los_calls_for(fake, lead["mobile"]), 10,
                           message="the LOS never received the create call")
        reference = first[0]["body"]["referenceId"]
        self.assertEqual(lg.kill(), -9)
        client.join(15)
        self.assertNotIn(200, answers, "the killed request cannot have been answered")
        rows = lg.db_query("SELECT status FROM leads WHERE reference_id = ?", (reference,))
        self.assertEqual(rows, [("pending_los",)])

        lg.start()  # no customer action from here on
        wait_until(lambda: lg.db_query("SELECT status FROM leads WHERE reference_id = ?",
                                       (reference,)) == [("created",)], 30, interval=0.2,
                   message="the recovery job did not complete the lead\n" + lg.log_tail(30))
        calls = los_calls_for(fake, lead["mobile"])
        self.assertEqual([c["body"]["referenceId"] for c in calls], [reference, reference])
        wait_until(lambda: accepted(template_calls_for(fake, lead["mobile"])), 15,
                   message="no confirmation after the recovery")
        time.sleep(1.5)  # later polls find nothing more to do
        self.assertEqual(len(accepted(template_calls_for(fake, lead["mobile"]))), 1)
        self.assertEqual(len(los_calls_for(fake, lead["mobile"])), 2)
        self.assertIn("los_recovery_started", lg.log_text())

    def post_lead_quietly(self, lg, lead, key):
        try:
            return lg.request("POST", "/api_v1/create_lead", lead, api_key=key, timeout=20)[0]
        except Exception:  # noqa: BLE001 - the connection dies with the killed service
            return None



class PlaintextAtRestTest(LeadgateTestCase):
    """Issue 20 §6: what create_lead, lead_flash and lead_status store, including the responses
    kept for their Idempotency-Keys, holds no plaintext PII, and neither do the logs."""

    def test_no_pii_in_the_database_or_the_logs(self):
        fake, lg, key = self.start_service()
        lead = valid_lead(firstName="Ottoline", lastName="Quarrington",
                          email="ottoline.quarrington.8817@example.org", dateOfBirth="1979-11-23",
                          annualIncome=2718281, remarks="gate code 4471 after dusk")
        status, _, created = lg.request("POST", "/api_v1/create_lead", lead, api_key=key,
                                        headers={"Idempotency-Key": "pii-create-1"})
        self.assertEqual(status, 200, created)
        flash = {"environment": "orbit", "applicationId": created["applicationId"],
                 "professionId": 1, "professionName": "Software Engineer",
                 "coBorrowerIncome": 3141592}
        status, _, body = lg.request("POST", "/api_v1/lead_flash", flash, api_key=key,
                                     headers={"Idempotency-Key": "pii-flash-1"})
        self.assertEqual(status, 200, body)
        query = {"environment": "orbit", "mobile_number": lead["mobile"]}
        status, _, body = lg.request("POST", "/api_v1/lead_status", query, api_key=key,
                                     headers={"Idempotency-Key": "pii-status-1"})
        self.assertEqual(status, 200, body)
        self.assertIn(lead["mobile"], str(body), "the answer itself names the customer")
        # The stored answer is replayed whole: sealing it lost nothing.
        status, headers, replayed = lg.request("POST", "/api_v1/lead_status", query, api_key=key,
                                               headers={"Idempotency-Key": "pii-status-1"})
        self.assertEqual(status, 200, replayed)
        self.assertEqual(headers.get("idempotent-replayed"), "true", headers)
        self.assertEqual(replayed, body)
        wait_until(lambda: accepted(template_calls_for(fake, lead["mobile"])), timeout=10)

        secrets = {
            "mobile": lead["mobile"],
            "PAN": lead["pan"],
            "e-mail": lead["email"],
            "date of birth": "1979-11-23",
            "date of birth (DD-MM-YYYY)": "23-11-1979",
            "annual income": "2718281",
            "co-borrower income": "3141592",
            "remarks": "gate code 4471",
        }
        for when in ("while running", "after shutdown"):
            data = lg.db_bytes()
            self.assertGreater(len(data), 0)
            for what, value in secrets.items():
                self.assertFalse(value.encode() in data, f"{what} stored in plaintext ({when})")
            if when == "while running":
                lg.stop()
        logs = lg.stdout_text() + lg.stderr_text()
        self.assertIn("create_lead", logs)
        for what, value in secrets.items():
            self.assertNotIn(value, logs, f"{what} in the logs")


    def test_values_an_older_version_left_in_plaintext_are_sealed_at_start(self):
        fake, lg, key = self.start_service()
        lead = valid_lead(annualIncome=1618033, remarks="ring the bell twice")
        status, _, created = lg.request("POST", "/api_v1/create_lead", lead, api_key=key,
                                        headers={"Idempotency-Key": "legacy-1"})
        self.assertEqual(status, 200, created)
        query = {"environment": "orbit", "mobile_number": lead["mobile"]}
        status, _, answer = lg.request("POST", "/api_v1/lead_status", query, api_key=key,
                                       headers={"Idempotency-Key": "legacy-2"})
        self.assertEqual(status, 200, answer)
        lg.stop()
        # What a version before schema 13 wrote: plaintext score, income, remarks and answer.
        lg.db_execute("UPDATE leads SET credit_score = '750', annual_income = '1618033', "
                      "remarks = 'ring the bell twice' WHERE reference_id = ?",
                      (created["reference_id"],))
        lg.db_execute("UPDATE idempotency_keys SET body = ? WHERE key = 'legacy-2'",
                      (json.dumps(answer),))
        self.assertIn(b"ring the bell twice", lg.db_bytes())
        lg.start()
        lg.wait_for_log(r'"event":"plaintext_sealed".*"leads":1.*"idempotency_records":1')
        data = lg.db_bytes()
        for value in (b"ring the bell twice", b"1618033", lead["mobile"].encode()):
            self.assertFalse(value in data, f"{value!r} is still in the database")
        # Read back whole: the replayed answer and the lead's fields.
        status, headers, replayed = lg.request("POST", "/api_v1/lead_status", query, api_key=key,
                                               headers={"Idempotency-Key": "legacy-2"})
        self.assertEqual(status, 200, replayed)
        self.assertEqual(headers.get("idempotent-replayed"), "true", headers)
        self.assertEqual(replayed, answer)
        status, _, again = lg.request("POST", "/api_v1/create_lead",
                                      dict(lead, remarks="ring once"), api_key=key)
        self.assertEqual(status, 200, again)
        audit = lg.db_query("SELECT field, old_value, new_value FROM audit_log WHERE "
                            "entity_ref = ? AND field = 'remarks' ORDER BY id",
                            (created["reference_id"],))
        self.assertEqual(len(audit), 2, audit)  # created, then changed from the sealed value
        lg.stop()
        lg.start()
        self.assertNotIn("plaintext_sealed", lg.log_text(since_last_start=True))


if __name__ == "__main__":
    unittest.main()
