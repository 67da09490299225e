"""Monitoring dashboard (issue 8, docs/dashboard.md): /dashboard/data's numbers against a scripted
burst of traffic whose numbers are known exactly, its access rules, and the page itself in a
headless Chromium (tests/browser/dashboard_check.mjs), on either store (LEADGATE_TEST_STORE).

One service for the class (LEADGATE_METRICS_FLUSH_MS=200 so the numbers land fast). The traffic
(setUpClass), per environment:
- create_lead: 3 valid + 2 invalid (422) in orbit, 2 valid + 1 invalid in homfinity;
- otp_send / otp_verify: orbit two phones (one verified at once, one after a wrong code), homfinity
  one phone sent and never verified; the codes are read from the fake Gupshup;
- lead_status: two known mobiles and one unknown (404) in orbit, one known in homfinity;
- lead_flash: the first orbit lead is completed;
- WhatsApp (orbit): receipts delivered (lead 1's confirmation), delivered + read (lead 2's),
  failed (lead 3's); inbound from lead 2's mobile: a status question (answered) and gibberish
  (fallback: not counted as answered).
Every request the test sends is written to a ledger (route, environment, status, code); the
expected numbers are computed from the ledger and from what the fake partners received.

The browser check needs /usr/bin/chromium and `npm ci --prefix tests/browser`; without them the
browser test is skipped, unless CI=true (then it fails). Screenshots go to
$LEADGATE_TEST_ARTIFACTS (default <build dir>/test-artifacts/dashboard/<store>).

Run: cd tests/integration && LEADGATE_BIN=/tmp/lgbuild/dash-dbg/leadgate \
         python3 -m unittest -v test_dashboard
(and with LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=... for the PostgreSQL store)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import unittest
import uuid
from collections import Counter
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlencode

from harness import (
    OMIT, PARTNER_CREDENTIALS, SOURCE_DIR, FakePartners, Leadgate, LeadgateTestCase, accepted,
    http_request_raw, leadgate_bin, random_mobile, session_calls_for, template_calls_for,
    valid_lead, wait_until,
)

CREATE_LEAD = "/api_v1/create_lead"
LEAD_FLASH = "/api_v1/lead_flash"
LEAD_STATUS = "/api_v1/lead_status"
OTP_SEND = "/api_v1/otp_send"
OTP_VERIFY = "/api_v1/otp_verify"
WEBHOOK = "/api_v1/whatsapp/webhook"
DATA = "/dashboard/data"

GUPSHUP_TOKEN = "gs-dashboard-token-" + uuid.uuid4().hex
APP_NAMES = {"orbit": "OrbitLoans", "homfinity": "HomfinityHomes"}
SOURCES = {env: PARTNER_CREDENTIALS[env]["GUPSHUP_SOURCE"] for env in ("orbit", "homfinity")}
ENVS = ("orbit", "homfinity")

SERVICE_ENV = {
    "LEADGATE_METRICS_FLUSH_MS": "200",
    "LEADGATE_GUPSHUP_WEBHOOK_TOKEN": GUPSHUP_TOKEN,
    "LEADGATE_ORBIT_GUPSHUP_APP_NAME": APP_NAMES["orbit"],
    "LEADGATE_HOMFINITY_GUPSHUP_APP_NAME": APP_NAMES["homfinity"],
    "LEADGATE_OTP_RESEND_COOLDOWN_SECONDS": "0",
    "LEADGATE_OTP_KEY_SENDS_PER_MINUTE": "100000",
    "LEADGATE_INBOX_POLL_MS": "100",
    "LEADGATE_STATUS_ATTEMPTS": "1",
    "LEADGATE_SELF_FULFILMENT_TIMEOUT_MS": "2000",
    "LEADGATE_SELF_FULFILMENT_DELAY_MS": "50",
}

# WhatsApp delivery numbers (sent, delivered, read, failed, delivery rate) are service-wide
# (docs/dashboard.md: a receipt names a message id, not a brand): every view shows the totals of
# both brands. Set this to False if they are ever split per environment.
SERVICE_WIDE_WHATSAPP_DELIVERY = True

BROWSER_DIR = SOURCE_DIR / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


# --------------------------------------------------------------------------- the page's formats
# (web/dashboard/dashboard.js; JavaScript's toFixed rounds the exact binary value half up)

DASH = "\u2014"


def fixed(value: float, places: int = 1) -> str:
    exact = Decimal(value)  # the exact binary value, as toFixed sees it
    quantum = Decimal(1).scaleb(-places)
    if exact >= 0:
        return str(exact.quantize(quantum, rounding=ROUND_HALF_UP))
    # toFixed picks the larger n on a tie: -1.25 -> "-1.2"
    return str(-((-exact).quantize(quantum, rounding=ROUND_HALF_DOWN)))


def f_count(v):
    return DASH if v is None else f"{round(v):,}"


def f_rate(v):
    return DASH if v is None else fixed(v * 100) + "%"


def f_ms(v):
    return DASH if v is None else fixed(v) + " ms"


def f_mb(v):
    return DASH if v is None else fixed(v / 1048576) + " MB"


def f_objective(v):
    text = fixed(v * 100, 2).rstrip("0").rstrip(".")
    return text + "%"


def f_seconds(v):
    return f"{int(v)} s" if float(v).is_integer() else f"{v} s"


def ratio(num, den):
    return None if not den else num / den


# --------------------------------------------------------------------------- gupshup callbacks


def now_ms() -> int:
    return int(time.time() * 1000)


def inbound(mobile: str, text: str, env: str = "orbit") -> dict:
    return {"app": APP_NAMES[env], "timestamp": now_ms(), "version": 2, "type": "message",
            "payload": {"id": "ABEG" + uuid.uuid4().hex, "source": "91" + mobile, "type": "text",
                        "payload": {"text": text},
                        "sender": {"phone": "91" + mobile, "name": "Customer",
                                   "country_code": "91", "dial_code": mobile}}}


def receipt(message_id: str, status: str, mobile: str, ts_s: int, env: str = "orbit") -> dict:
    payload = {"ts": ts_s}
    if status == "failed":
        payload = {"code": 1002, "reason": "Number does not exist on WhatsApp"}
    return {"app": APP_NAMES[env], "timestamp": ts_s * 1000 + 500, "version": 2,
            "type": "message-event",
            "payload": {"id": "gBEG" + uuid.uuid4().hex if status != "failed" else message_id,
                        "gsId": message_id, "type": status, "destination": "91" + mobile,
                        "payload": payload}}


# --------------------------------------------------------------------------- the test


@unittest.skipUnless(os.path.isfile(leadgate_bin()), f"leadgate binary not found: {leadgate_bin()}")
class DashboardTest(LeadgateTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env=SERVICE_ENV)
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("dashboard-tests", ENVS)
        cls.ops_key = cls.lg.create_api_key("ops", "ops")
        cls.ledger: list[dict] = []
        cls.started = time.time()
        cls.produce_traffic()

    # ---- requests, written to the ledger

    @classmethod
    def call(cls, method, route, body=None, env=None, headers=None, raw=None, key="default"):
        key = cls.key if key == "default" else key
        started = time.monotonic()
        status, resp_headers, resp = cls.lg.request(method, route, body, headers=headers,
                                                     raw_body=raw, api_key=key)
        elapsed = time.monotonic() - started
        code = resp.get("code") if status >= 400 and isinstance(resp, dict) else None
        cls.ledger.append({"route": route, "env": env, "status": status, "code": code,
                           "elapsed": elapsed})
        return status, resp_headers, resp

    @classmethod
    def expect(cls, response, status, what):
        if response[0] != status:
            raise AssertionError(f"{what}: expected {status}, got {response[0]} {response[2]}\n"
                                 + cls.lg.log_tail(30))
        return response[2]

    @classmethod
    def otp_code(cls, phone, env, count=1) -> str:
        def calls():
            return [c for c in accepted(template_calls_for(cls.fake, phone))
                    if (c.get("template") or {}).get("id") == f"{env}_otp_authentication"]
        found = wait_until(lambda: len(calls()) >= count and calls(), 10,
                           message=f"no OTP message to {phone}")
        return found[count - 1]["template"]["params"][0]

    @classmethod
    def confirmation(cls, mobile, env) -> dict:
        def calls():
            return [c for c in accepted(template_calls_for(cls.fake, mobile))
                    if (c.get("template") or {}).get("id") == f"{env}_lead_confirmation"]
        return wait_until(calls, 15, message=f"no lead confirmation to {mobile}\n"
                          + cls.lg.log_tail(30))[0]

    @classmethod
    def post_webhook(cls, body):
        response = cls.call("POST", WEBHOOK, headers={"Content-Type": "application/json",
                                                      "X-Webhook-Token": GUPSHUP_TOKEN},
                            raw=json.dumps(body), key=None)
        resp = cls.expect(response, 200, "webhook")
        if resp.get("stored") != 1:
            raise AssertionError(f"webhook item not stored: {resp}")

    @classmethod
    def produce_traffic(cls):
        c = cls
        # create_lead
        c.leads = {env: [] for env in ENVS}
        for env, valid, invalid in (("orbit", 3, 2), ("homfinity", 2, 1)):
            for _ in range(valid):
                lead = valid_lead(environment=env)
                body = c.expect(c.call("POST", CREATE_LEAD, lead, env), 200, "create_lead")
                c.leads[env].append((lead, body))
            for _ in range(invalid):
                c.expect(c.call("POST", CREATE_LEAD, valid_lead(environment=env, pan=OMIT), env),
                         422, "invalid create_lead")
        # OTP
        a, b, h = random_mobile(), random_mobile(), random_mobile()
        for phone, env in ((a, "orbit"), (b, "orbit"), (h, "homfinity")):
            c.expect(c.call("POST", OTP_SEND, {"environment": env, "phone_number": phone,
                                               "user_check": True}, env), 200, "otp_send")
        code_a, code_b = c.otp_code(a, "orbit"), c.otp_code(b, "orbit")
        c.otp_code(h, "homfinity")
        c.expect(c.call("POST", OTP_VERIFY, {"environment": "orbit", "phone_number": a,
                                             "otp": code_a}, "orbit"), 200, "otp_verify")
        wrong = f"{(int(code_b) + 1) % 1_000_000:06d}"
        c.expect(c.call("POST", OTP_VERIFY, {"environment": "orbit", "phone_number": b,
                                             "otp": wrong}, "orbit"), 400, "wrong otp_verify")
        c.expect(c.call("POST", OTP_VERIFY, {"environment": "orbit", "phone_number": b,
                                             "otp": code_b}, "orbit"), 200, "otp_verify")
        # lead_status
        orbit_leads, homfinity_leads = c.leads["orbit"], c.leads["homfinity"]
        for lead, _ in orbit_leads[:2]:
            c.expect(c.call("POST", LEAD_STATUS, {"environment": "orbit",
                                                  "mobile_number": lead["mobile"]}, "orbit"),
                     200, "lead_status")
        c.expect(c.call("POST", LEAD_STATUS, {"environment": "orbit",
                                              "mobile_number": random_mobile()}, "orbit"),
                 404, "lead_status of an unknown mobile")
        c.expect(c.call("POST", LEAD_STATUS, {"environment": "homfinity",
                                              "mobile_number": homfinity_leads[0][0]["mobile"]},
                        "homfinity"), 200, "lead_status")
        # lead_flash: the first orbit lead completes
        c.expect(c.call("POST", LEAD_FLASH, {"environment": "orbit",
                                             "applicationId": orbit_leads[0][1]["applicationId"],
                                             "professionId": 1,
                                             "professionName": "Software Engineer"}, "orbit"),
                 200, "lead_flash")
        # WhatsApp receipts for the orbit confirmations, then two inbound messages
        base = int(time.time())
        m1, m2, m3 = (lead["mobile"] for lead, _ in orbit_leads)
        first, second, third = (c.confirmation(m, "orbit") for m in (m1, m2, m3))
        c.post_webhook(receipt(first["message_id"], "delivered", m1, base + 1))
        c.post_webhook(receipt(second["message_id"], "delivered", m2, base + 1))
        c.post_webhook(receipt(second["message_id"], "read", m2, base + 2))
        c.post_webhook(receipt(third["message_id"], "failed", m3, base + 1))
        c.post_webhook(inbound(m2, "What is my loan status?"))
        c.post_webhook(inbound(m2, "zxqv plmok"))
        c.assistant_mobile = m2
        # Everything settles: both replies out, inbox done, outbox empty.
        wait_until(lambda: len(accepted(session_calls_for(c.fake, m2))) >= 2, 20,
                   message="assistant replies not sent\n" + c.lg.log_tail(30))
        wait_until(lambda: c.lg.db_query(
            "SELECT count(*) FROM whatsapp_inbox WHERE state <> 'done'")[0][0] == 0, 20,
            message="inbox not drained")
        wait_until(lambda: c.lg.db_query(
            "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0] == 0, 20,
            message="outbox not drained")
        time.sleep(0.5)

    # ---- the numbers the traffic implies

    def ledger_for(self, env):
        return [r for r in self.ledger if env == "all" or r["env"] == env]

    def slo_counts(self, slo, env) -> tuple[int, int]:
        """(requests of the SLO's routes, of which the client saw one take its threshold or more).

        The service times a request from inside, so one the client saw finish in time was good;
        one the client saw slow (a disk stall on a loaded machine) may have been either."""
        mine = [r for r in self.ledger_for(env) if r["route"] in slo["routes"]]
        return len(mine), sum(1 for r in mine if r["elapsed"] >= slo["threshold_seconds"])

    def expected(self, env: str) -> dict:
        """Flat {"what": value} of everything known exactly for a view."""
        rows = self.ledger_for(env)
        exp = {}
        by_route = {}
        for r in rows:
            e = by_route.setdefault(r["route"], {"requests": 0, "errors_4xx": 0, "errors_5xx": 0})
            e["requests"] += 1
            if 400 <= r["status"] < 500:
                e["errors_4xx"] += 1
            elif r["status"] >= 500:
                e["errors_5xx"] += 1
        for route, e in by_route.items():
            for k, v in e.items():
                exp[f"endpoint {route} {k}"] = v
            exp[f"endpoint {route} success_rate"] = ratio(
                e["requests"] - e["errors_4xx"] - e["errors_5xx"], e["requests"])
        for (route, status, code), n in Counter(
                (r["route"], r["status"], r["code"]) for r in rows if r["status"] >= 400).items():
            exp[f"error_type {route} {status} {code}"] = n
        # Only /api_v1/ routes count; requests without an environment (the webhook) only in
        # "all". The test's /dashboard/* requests and the harness's probes do not count.
        exp["summary requests"] = len(rows)
        exp["summary errors_4xx"] = sum(1 for r in rows if 400 <= r["status"] < 500)
        exp["summary errors_5xx"] = sum(1 for r in rows if r["status"] >= 500)
        bad = exp["summary errors_4xx"] + exp["summary errors_5xx"]
        exp["summary error_rate"] = ratio(bad, len(rows))
        exp["summary success_rate"] = ratio(len(rows) - bad, len(rows))

        def ok(route):
            return sum(1 for r in rows if r["route"] == route and r["status"] == 200)
        sent, verified = ok(OTP_SEND), ok(OTP_VERIFY)
        created, completed = ok(CREATE_LEAD), ok(LEAD_FLASH)
        exp.update({
            "summary otp_sent": sent, "summary otp_verified": verified,
            "summary otp_success_rate": ratio(verified, sent),
            "summary leads_created": created, "summary leads_completed": completed,
            "summary lead_conversion_rate": ratio(completed, created),
        })
        orbit = env in ("all", "orbit")
        inbound_n, answered = (2, 1) if orbit else (0, 0)
        wa_env = "all" if SERVICE_WIDE_WHATSAPP_DELIVERY else env
        wa_sent = sum(1 for c in accepted(self.fake.calls("gupshup"))
                      if wa_env == "all" or c["form"].get("source") == SOURCES[wa_env])
        delivered, read, failed = (2, 1, 1) if wa_env in ("all", "orbit") else (0, 0, 0)
        exp.update({
            "summary whatsapp_inbound": inbound_n, "summary whatsapp_answered": answered,
            "summary assistant_accuracy": ratio(answered, inbound_n),
            "summary whatsapp_sent": wa_sent, "summary whatsapp_delivered": delivered,
            "summary whatsapp_read": read, "summary whatsapp_failed": failed,
            "summary delivery_rate": ratio(delivered, wa_sent),
            # service-wide (the same in every view)
            "summary whatsapp_provider_availability": 1.0,
            "summary db_up": True,
            "summary outbox_pending": 0, "summary outbox_dead": 0, "summary inbox_failed": 0,
        })
        for call in ("CreateFBBByBasicUser", "GetApplicationStatus", "CreateSelfFullfilmentLead"):
            exp[f"partner basic_app {call} calls"] = len(self.fake.calls(call))
            exp[f"partner basic_app {call} failures"] = 0
            exp[f"partner basic_app {call} retries"] = 0
        exp["partner gupshup * calls"] = len(self.fake.calls("gupshup"))
        exp["partner gupshup * failures"] = 0
        return exp

    def actual(self, data: dict, exp: dict) -> dict:
        """The same keys as exp, read from a /dashboard/data answer (missing: "<absent>")."""
        s = data.get("summary", {})
        endpoints = {e.get("route"): e for e in data.get("endpoints", [])}
        errors = {(e.get("route"), e.get("status"), e.get("code")): e.get("count")
                  for e in data.get("error_types", [])}
        partners = {(p.get("partner"), p.get("call")): p for p in data.get("partners", [])}
        out = {}
        for key in exp:
            kind, _, rest = key.partition(" ")
            if kind == "summary":
                out[key] = s.get(rest, "<absent>")
            elif kind == "endpoint":
                route, field = rest.rsplit(" ", 1)
                out[key] = endpoints.get(route, {}).get(field, "<absent>")
            elif kind == "error_type":
                route, status, code = rest.split(" ")
                out[key] = errors.get((route, int(status), None if code == "None" else code),
                                      "<absent>")
            elif kind == "partner":
                partner, call, field = rest.split(" ")
                if call == "*":
                    out[key] = sum(p.get(field) or 0 for (pa, _), p in partners.items()
                                   if pa == partner)
                else:
                    out[key] = partners.get((partner, call), {}).get(field, "<absent>")
        return out

    @staticmethod
    def close(a, b):
        if isinstance(a, float) or isinstance(b, float):
            return isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and abs(a - b) < 0.00051  # the backend may round rates to 4 places
        return a == b

    def mismatches(self, exp, act):
        return {k: {"expected": exp[k], "dashboard": act[k]} for k in exp
                if not self.close(exp[k], act[k])}

    def data(self, env="all", range_="hour", key=None, headers=None):
        query = urlencode({"range": range_, "environment": env})
        status, hdrs, body = self.lg.request("GET", f"{DATA}?{query}", headers=headers,
                                             api_key=key if key is not None else self.ops_key)
        self.assertEqual(status, 200, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        return body

    def settled(self, env, range_="hour"):
        """Poll /dashboard/data until it shows what the traffic implies (or 20 s); returns
        (data, expected, mismatches)."""
        exp = self.expected(env)
        deadline = time.monotonic() + 20
        while True:
            data = self.data(env, range_)
            bad = self.mismatches(exp, self.actual(data, exp))
            if not bad or time.monotonic() > deadline:
                return data, exp, bad
            time.sleep(0.3)

    # ---- tests

    def test_1_numbers_match_the_traffic(self):
        for env in ("all", "orbit", "homfinity"):
            with self.subTest(environment=env):
                data, exp, bad = self.settled(env)
                self.assertEqual(bad, {}, f"/dashboard/data?environment={env} disagrees with "
                                          f"the traffic:\n{json.dumps(bad, indent=1)}")
                s = data["summary"]
                self.assertEqual(data["environment"], env)
                self.assertEqual(data["range"], "hour")
                self.assertEqual(data["step_seconds"], 60)
                self.assertEqual(len(data["times"]), 60, data["times"])
                self.assertTrue(data["instances"], data)
                # Internal consistency.
                self.assertEqual(s["requests"], sum(e["requests"] for e in data["endpoints"]))
                self.assertEqual(s["errors_4xx"], sum(e["errors_4xx"] for e in data["endpoints"]))
                self.assertEqual(s["errors_5xx"], sum(e["errors_5xx"] for e in data["endpoints"]))
                self.assertAlmostEqual(s["error_rate"] + s["success_rate"], 1.0, places=3)
                self.assertAlmostEqual(s["requests_per_minute"], s["requests"] / 60, delta=0.051)
                for name, series in data["series"].items():
                    self.assertEqual(len(series), 60, name)
                self.assertAlmostEqual(sum(v or 0 for v in data["series"]["requests"]),
                                       s["requests"], delta=0.01 + 0.001 * s["requests"])
                self.assertEqual(sum(v or 0 for v in data["series"]["otp_sent"]), s["otp_sent"])
                self.assertEqual(sum(v or 0 for v in data["series"]["leads_created"]),
                                 s["leads_created"])
                # Latencies exist where there was traffic; the process and database report.
                for k in ("p50_ms", "p95_ms", "p99_ms"):
                    self.assertIsInstance(s[k], (int, float), k)
                self.assertLessEqual(s["p50_ms"], s["p95_ms"])
                self.assertLessEqual(s["p95_ms"], s["p99_ms"])
                self.assertGreater(s["db_operations"], 0)
                self.assertIsInstance(s["db_p95_ms"], (int, float))
                self.assertGreater(s["rss_bytes"], 1 << 20)
                self.assertGreater(s["database_size_bytes"], 0)
                self.assertIsInstance(s["cpu_percent"], (int, float))
                if s["leads_completed"]:
                    elapsed = time.time() - self.started
                    self.assertIsNotNone(s["avg_lead_processing_seconds"])
                    self.assertGreaterEqual(s["avg_lead_processing_seconds"], 0)
                    self.assertLess(s["avg_lead_processing_seconds"], elapsed + 1)
                else:
                    self.assertIsNone(s["avg_lead_processing_seconds"])
                # SLOs: every request of the burst was fast (as the client saw it) and not a 5xx.
                self.assertTrue(data["slos"])
                for slo in data["slos"]:
                    total, slow = self.slo_counts(slo, env)
                    with self.subTest(slo=slo["name"]):
                        self.assertEqual(slo["total"], total, slo)
                        self.assertGreaterEqual(slo["good"], total - slow, slo)
                        self.assertLessEqual(slo["good"], total, slo)
                        if slow:
                            print(f"\n[dashboard test] {slow} request(s) of {slo['name']} took "
                                  "their threshold or more at the client", flush=True)
                            continue
                        if total:
                            self.assertEqual(slo["attainment"], 1.0, slo)
                        else:  # a rate without denominator is null (the backend says 1.0)
                            self.assertIn(slo["attainment"], (None, 1.0), slo)
                        self.assertEqual(slo["error_budget_remaining"], 1.0, slo)
                        self.assertIs(slo["met"], True, slo)
                names = {slo["name"] for slo in data["slos"]}
                self.assertIn("OTP send/verify", names)

    def test_1_other_ranges_show_the_same_burst(self):
        for range_, buckets, step in (("day", 96, 900), ("week", 168, 3600)):
            with self.subTest(range=range_):
                data, _, bad = self.settled("orbit", range_)
                self.assertEqual(bad, {}, json.dumps(bad, indent=1))
                self.assertEqual((data["range"], data["step_seconds"], len(data["times"])),
                                 (range_, step, buckets))

    def test_2_access(self):
        # No credentials: 401 problem+json.
        status, headers, body = self.lg.request("GET", DATA)
        self.assertEqual(status, 401, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        headers)
        # A key without the ops scope: 403 problem+json.
        orbit_key = self.lg.create_api_key("orbit-only", ("orbit",))
        status, headers, body = self.lg.request("GET", DATA, api_key=orbit_key)
        self.assertEqual(status, 403, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        headers)
        # X-API-Key works as well as Bearer.
        status, _, body = self.lg.request("GET", DATA, headers={"X-API-Key": self.ops_key})
        self.assertEqual(status, 200, body)
        # The page: no session -> 303 to the login form.
        status, headers, _ = http_request_raw(self.lg.host, self.lg.port, "GET", "/dashboard")
        self.assertEqual(status, 303)
        self.assertTrue(headers.get("location", "").endswith("/dashboard/login"), headers)
        status, headers, page = http_request_raw(self.lg.host, self.lg.port, "GET",
                                                 "/dashboard/login")
        self.assertEqual(status, 200)
        self.assertIn(b'name="api_key"', page)
        self.assertIn("default-src 'self'", headers.get("content-security-policy", ""))
        # Logging in with the ops key gives the session cookie.
        status, headers, _ = self.lg.request(
            "POST", "/dashboard/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
            raw_body=urlencode({"api_key": self.ops_key}))
        self.assertEqual(status, 303, headers)
        cookie = headers.get("set-cookie", "")
        self.assertTrue(cookie.startswith("lg_ops=lgs_"), cookie)
        self.assertNotIn(self.ops_key, cookie)
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/dashboard"):
            self.assertIn(attribute.lower(), cookie.lower(), cookie)
        session = cookie.split(";", 1)[0]
        status, headers, page = http_request_raw(self.lg.host, self.lg.port, "GET", "/dashboard",
                                                 headers={"Cookie": session})
        self.assertEqual(status, 200)
        self.assertIn(b"/dashboard/assets/dashboard.js", page)
        self.assertIn("default-src 'self'", headers.get("content-security-policy", ""))
        for asset in ("dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"):
            status, _, content = http_request_raw(self.lg.host, self.lg.port, "GET",
                                                  f"/dashboard/assets/{asset}")
            self.assertEqual(status, 200, asset)
            self.assertTrue(content, asset)
        # Logout ends the session on the server: the same cookie, replayed, opens nothing.
        status, headers, _ = http_request_raw(self.lg.host, self.lg.port, "POST",
                                              "/dashboard/logout", headers={"Cookie": session})
        self.assertEqual(status, 303)
        self.assertIn("max-age=0", headers.get("set-cookie", "").lower())
        status, headers, _ = http_request_raw(self.lg.host, self.lg.port, "GET", "/dashboard",
                                              headers={"Cookie": session})
        self.assertEqual(status, 303, "the page after logout")
        self.assertTrue(headers.get("location", "").endswith("/dashboard/login"), headers)
        status, _, _ = http_request_raw(self.lg.host, self.lg.port, "GET", DATA,
                                        headers={"Cookie": session})
        self.assertEqual(status, 401, "the data after logout")
        # An orbit-only key cannot log in.
        status, _, page = self.lg.request(
            "POST", "/dashboard/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
            raw_body=urlencode({"api_key": orbit_key}))
        self.assertNotEqual(status, 303)
        self.assertNotIn("<!--LOGIN_ERROR-->", page if isinstance(page, str) else "")

    def test_3_page_in_a_browser(self):
        missing = []
        if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
            missing.append(f"{CHROMIUM} (apt-get install chromium)")
        if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
            missing.append("tests/browser/node_modules (npm ci --prefix tests/browser)")
        if not shutil.which("node"):
            missing.append("node")
        if missing:
            if os.environ.get("CI") == "true":
                self.fail("the dashboard browser check cannot run under CI: missing "
                          + ", ".join(missing))
            self.skipTest("browser check needs " + ", ".join(missing))
        views = []
        for env, range_, shot in (("all", "hour", "dashboard-all.png"),
                                  ("orbit", "hour", "dashboard-orbit.png"),
                                  ("homfinity", "day", "dashboard-homfinity-day.png")):
            data, exp, bad = self.settled(env, range_)
            self.assertEqual(bad, {}, json.dumps(bad, indent=1))
            views.append(self.browser_view(env, range_, shot, data, exp))
        out = self.artifacts_dir()
        expectations = out / "expectations.json"
        expectations.write_text(json.dumps({"views": views}, indent=1, ensure_ascii=False))
        print(f"\ndashboard screenshots: {out}", flush=True)
        result = subprocess.run(
            ["node", str(BROWSER_DIR / "dashboard_check.mjs"), self.lg.url, self.ops_key,
             str(expectations), str(out)],
            capture_output=True, text=True, timeout=240, cwd=BROWSER_DIR)
        (out / "dashboard_check.log").write_text(result.stdout + result.stderr)
        print(result.stdout[-3000:], flush=True)
        self.assertEqual(result.returncode, 0, f"dashboard_check failed:\n{result.stdout[-4000:]}"
                                               f"\n{result.stderr[-4000:]}")

    # ---- browser helpers

    @staticmethod
    def artifacts_dir() -> Path:
        base = os.environ.get("LEADGATE_TEST_ARTIFACTS")
        path = Path(base) if base else Path(leadgate_bin()).resolve().parent / "test-artifacts" \
            / "dashboard" / os.environ.get("LEADGATE_TEST_STORE", "sqlite")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def browser_view(self, env, range_, shot, data, exp) -> dict:
        """What the page must show for one view, in the page's formats."""
        formats = {"otp_success_rate": f_rate, "lead_conversion_rate": f_rate,
                   "assistant_accuracy": f_rate, "delivery_rate": f_rate,
                   "whatsapp_provider_availability": f_rate, "error_rate": f_rate,
                   "success_rate": f_rate, "db_up": lambda v: "up" if v else "down"}
        metrics = {}
        for key, value in exp.items():
            kind, _, name = key.partition(" ")
            if kind != "summary":
                continue
            metrics[name] = formats.get(name, f_count)(value)
        endpoints = {}
        for e in data["endpoints"]:
            route = e["route"]
            if f"endpoint {route} requests" not in exp:
                continue
            endpoints[route] = {k: (f_rate if k == "success_rate" else f_count)(
                exp[f"endpoint {route} {k}"]) for k in ("requests", "errors_4xx", "errors_5xx",
                                                        "success_rate")}
        error_types = {}
        for key, n in exp.items():
            if key.startswith("error_type "):
                route, status, code = key.split(" ")[1:]
                error_types[f"{route}|{status}|{code}"] = {"count": f_count(n)}
        partners = {}
        for key, n in exp.items():
            if key.startswith("partner basic_app ") and key.endswith(" calls"):
                call = key.split(" ")[2]
                partners[f"basic_app|{call}"] = {"calls": f_count(n), "failures": "0",
                                                 "retries": "0"}
        slos = {}
        for slo in data["slos"]:
            total, slow = self.slo_counts(slo, env)
            if slow:  # the API check bounded these; the page must show what the API served
                good, attainment = slo["good"], slo["attainment"]
                budget, met = slo["error_budget_remaining"], slo["met"]
            else:  # no traffic: null per the contract's rule, 1.0 accepted
                good, attainment = total, 1.0 if total else slo["attainment"]
                budget, met = 1.0, True
            slos[slo["name"]] = {"total": f_count(total), "good": f_count(good),
                                 "attainment": f_rate(attainment),
                                 "error_budget_remaining": f_rate(budget),
                                 "met": {True: "met", False: "breached"}.get(met, DASH),
                                 "objective": f_objective(slo["objective"]),
                                 "threshold_seconds": f_seconds(slo["threshold_seconds"])}
        return {"environment": env, "range": range_, "screenshot": shot, "metrics": metrics,
                "tables": {"endpoints": {"rows": endpoints},
                           "error_types": {"rows": error_types},
                           "partners": {"rows": partners},
                           "slos": {"exact": True, "rows": slos}}}


if __name__ == "__main__":
    unittest.main()
