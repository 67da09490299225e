"""Self-tests of the TEST FAKE partners and of the harness. Needs no leadgate binary.

Run: cd tests/integration && python3 -m unittest -v test_fakes_selftest
"""

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import OMIT, FakePartners, Leadgate, free_port, http_request, valid_lead, wait_until

BASIC_HEADERS = {"X-Api-Key": "k-123", "X-User-Id": "u-9", "X-Request-ID": "req-1"}


def post_json(url, body, headers=None, timeout=10):
    """POST JSON with urllib; returns (status, parsed body or text). Never raises on 4xx/5xx."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    return _open(req, timeout)


def post_form(url, fields, headers=None, timeout=10):
    """POST a form-encoded body with urllib; returns (status, parsed body or text)."""
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    return _open(req, timeout)


def get(url, headers=None, timeout=10):
    """GET with urllib; returns (status, parsed body or text)."""
    return _open(urllib.request.Request(url, headers=headers or {}), timeout)


def _open(req, timeout):
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


class FakeTestCase(unittest.TestCase):
    """Starts a fresh fake per test."""

    def setUp(self):
        self.fake = FakePartners().start()
        self.addCleanup(self.fake.stop)
        self.url = self.fake.url

    def create_fbb(self, body=None, headers=BASIC_HEADERS):
        return post_json(self.url + "/CreateFBBByBasicUser", body or {"firstName": "Asha"},
                         headers)


class BasicApplicationTest(FakeTestCase):

    def test_create_default_success(self):
        status, body = self.create_fbb()
        self.assertEqual(status, 200)
        self.assertIs(body["success"], True)
        self.assertRegex(body["data"]["basic_application_id"], r"^B[A-Z0-9]{6}$")
        self.assertRegex(body["data"]["applicationId"], r"^[0-9a-f-]{36}$")

    def test_create_ids_unique(self):
        ids = {self.create_fbb()[1]["data"]["basic_application_id"] for _ in range(30)}
        self.assertEqual(len(ids), 30)

    def test_create_requires_credentials(self):
        status, body = self.create_fbb(headers={"X-Api-Key": "k"})
        self.assertEqual(status, 401)
        self.assertIs(body["success"], False)

    def test_scripted_500_then_default_success(self):
        self.fake.script("CreateFBBByBasicUser", [{"status": 500, "body": "boom"}])
        status, body = self.create_fbb()
        self.assertEqual((status, body), (500, "boom"))
        status, body = self.create_fbb()
        self.assertEqual(status, 200)
        self.assertIs(body["success"], True)

    def test_scripted_status_without_body_and_headers(self):
        self.fake.script("CreateFBBByBasicUser",
                         [{"status": 429, "headers": {"Retry-After": "2"}}])
        status, headers, body = http_request("127.0.0.1", self.fake.port, "POST",
                                             "/CreateFBBByBasicUser", {}, BASIC_HEADERS)
        self.assertEqual(status, 429)
        self.assertEqual(headers["retry-after"], "2")
        self.assertIs(body["success"], False)

    def test_calls_recorded(self):
        self.create_fbb({"firstName": "Asha", "environment": "orbit"})
        [call] = self.fake.calls("CreateFBBByBasicUser")
        self.assertEqual(call["method"], "POST")
        self.assertEqual(call["path"], "/CreateFBBByBasicUser")
        self.assertEqual(call["headers"]["X-Api-Key"], "k-123")  # case-insensitive
        self.assertEqual(call["headers"]["x-user-id"], "u-9")
        self.assertEqual(call["body"], {"firstName": "Asha", "environment": "orbit"})
        self.assertEqual(call["response_status"], 200)
        self.assertAlmostEqual(call["time"], time.time(), delta=5)
        self.assertEqual(self.fake.calls("gupshup"), [])

    def test_malformed(self):
        self.fake.script("CreateFBBByBasicUser", [{"malformed": True}])
        self.assertEqual(self.create_fbb(), (200, "<html>oops"))

    def test_delay_then_default(self):
        self.fake.script("CreateFBBByBasicUser", [{"delay_ms": 300}])
        started = time.monotonic()
        status, _ = self.create_fbb()
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.28)

    def test_hang_drops_connection_after_max(self):
        self.fake.script("CreateFBBByBasicUser", [{"hang": True, "max_s": 0.3}])
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            http_request("127.0.0.1", self.fake.port, "POST", "/CreateFBBByBasicUser", {},
                         BASIC_HEADERS, timeout=5)
        self.assertIsNone(self.fake.calls("CreateFBBByBasicUser")[0]["response_status"])

    def test_hang_released_by_reset(self):
        self.fake.script("CreateFBBByBasicUser", [{"hang": True}])  # up to 60 s
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        conn.request("POST", "/CreateFBBByBasicUser", body=b"{}", headers=BASIC_HEADERS)
        wait_until(lambda: self.fake.calls("CreateFBBByBasicUser"))
        self.fake.reset()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        self.assertLess(time.monotonic() - started, 5)

    def test_keep_alive_two_requests_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=5)
        self.addCleanup(conn.close)
        for _ in range(2):
            conn.request("POST", "/CreateFBBByBasicUser", body=b"{}", headers=BASIC_HEADERS)
            resp = conn.getresponse()
            data = resp.read()
            self.assertEqual(int(resp.getheader("Content-Length")), len(data))
            self.assertEqual(resp.status, 200)

    def test_prefixed_base_url(self):
        status, _ = post_json(self.url + "/lms/api/CreateFBBByBasicUser", {}, BASIC_HEADERS)
        self.assertEqual(status, 200)

    def test_self_fulfilment(self):
        status, body = post_json(self.url + "/CreateSelfFullfilmentLead",
                                 {"applicationId": "a", "basic_application_id": "B1"},
                                 BASIC_HEADERS)
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["status"], "completed")
        self.assertTrue(body["data"]["reference"].startswith("SF-"))
        status, _ = post_json(self.url + "/CreateSelfFullfilmentLead", {"applicationId": "a"},
                              BASIC_HEADERS)
        self.assertEqual(status, 400)

    def test_application_status(self):
        status, body = get(self.url + "/GetApplicationStatus?basic_application_id=B002BJF",
                           BASIC_HEADERS)
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["basic_application_id"], "B002BJF")
        self.assertEqual(body["data"]["status"], "Under Review")
        self.assertRegex(body["data"]["updated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.fake.set_status("B002BJF", "Sanctioned")
        self.assertEqual(get(self.url + "/GetApplicationStatus?basic_application_id=B002BJF",
                             BASIC_HEADERS)[1]["data"]["status"], "Sanctioned")
        self.fake.set_status("B002BJF", None)
        status, body = get(self.url + "/GetApplicationStatus?basic_application_id=B002BJF",
                           BASIC_HEADERS)
        self.assertEqual((status, body["success"]), (404, False))

    def test_strict_status_knows_issued_ids_only(self):
        self.fake.strict_status = True
        issued = self.create_fbb()[1]["data"]["basic_application_id"]
        base = self.url + "/GetApplicationStatus?basic_application_id="
        self.assertEqual(get(base + issued, BASIC_HEADERS)[0], 200)
        self.assertEqual(get(base + "BNOSUCH", BASIC_HEADERS)[0], 404)

    def test_unknown_path_recorded(self):
        status, _ = post_json(self.url + "/Nope", {})
        self.assertEqual(status, 404)
        self.assertEqual(len(self.fake.calls("unmatched")), 1)


class GupshupTest(FakeTestCase):

    TEMPLATE_FORM = {
        "channel": "whatsapp", "source": "917834811114", "src.name": "LeadgateApp",
        "destination": "919876543210",
        "template": json.dumps({"id": "lead_confirmation", "params": ["Asha", "B002BJF", "HL"]}),
    }

    def test_template_message_form_parsed(self):
        status, body = post_form(self.url + "/wa/api/v1/template/msg", self.TEMPLATE_FORM,
                                 {"apikey": "gs-key"})
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "submitted")
        self.assertRegex(body["messageId"], r"^[0-9a-f-]{36}$")
        [call] = self.fake.calls("gupshup")
        self.assertEqual(call["kind"], "template")
        self.assertEqual(call["form"]["src.name"], "LeadgateApp")
        self.assertEqual(call["form"]["destination"], "919876543210")
        self.assertEqual(call["template"], {"id": "lead_confirmation",
                                            "params": ["Asha", "B002BJF", "HL"]})
        self.assertIsNone(call["message"])
        self.assertEqual(call["headers"]["apikey"], "gs-key")
        self.assertIn("x-www-form-urlencoded", call["headers"]["content-type"])

    def test_session_message(self):
        form = {k: v for k, v in self.TEMPLATE_FORM.items() if k != "template"}
        form["message"] = json.dumps({"type": "text", "text": "Hello Asha"})
        status, body = post_form(self.url + "/wa/api/v1/msg", form, {"apikey": "gs-key"})
        self.assertEqual((status, body["status"]), (200, "submitted"))
        [call] = self.fake.calls("gupshup")
        self.assertEqual((call["kind"], call["message"]["text"]), ("message", "Hello Asha"))

    def test_requires_apikey(self):
        status, body = post_form(self.url + "/wa/api/v1/template/msg", self.TEMPLATE_FORM)
        self.assertEqual((status, body["status"]), (401, "error"))

    def test_rejects_bad_form(self):
        for change in ({"destination": "9876543210"}, {"template": "not json"},
                       {"channel": "sms"}, {"src.name": ""}):
            with self.subTest(change=change):
                status, body = post_form(self.url + "/wa/api/v1/template/msg",
                                         {**self.TEMPLATE_FORM, **change}, {"apikey": "k"})
                self.assertEqual((status, body["status"]), (400, "error"))

    def test_scripted_failure_then_success(self):
        self.fake.script("gupshup", [{"status": 503}, {"drop": True}])
        url = self.url + "/wa/api/v1/template/msg"
        self.assertEqual(post_form(url, self.TEMPLATE_FORM, {"apikey": "k"})[0], 503)
        with self.assertRaises((urllib.error.URLError, http.client.RemoteDisconnected,
                                ConnectionError)):
            post_form(url, self.TEMPLATE_FORM, {"apikey": "k"})
        self.assertEqual(post_form(url, self.TEMPLATE_FORM, {"apikey": "k"})[0], 200)
        self.assertEqual([c["response_status"] for c in self.fake.calls("gupshup")],
                         [503, None, 200])


class ControlApiTest(FakeTestCase):

    def test_script_calls_reset_over_http(self):
        status, _ = post_json(self.url + "/_control/script",
                              {"route": "CreateFBBByBasicUser",
                               "responses": [{"status": 500, "body": {"success": False}}]})
        self.assertEqual(status, 200)
        self.assertEqual(self.create_fbb()[0], 500)
        self.assertEqual(self.create_fbb()[0], 200)
        status, calls = get(self.url + "/_control/calls?route=CreateFBBByBasicUser")
        self.assertEqual([c["response_status"] for c in calls], [500, 200])
        self.assertEqual(calls[0]["headers"]["x-api-key"], "k-123")
        post_json(self.url + "/_control/reset", {})
        self.assertEqual(get(self.url + "/_control/calls")[1], [])

    def test_status_and_config_over_http(self):
        post_json(self.url + "/_control/status",
                  {"basic_application_id": "B000001", "status": "Disbursed"})
        post_json(self.url + "/_control/config", {"strict_status": True})
        base = self.url + "/GetApplicationStatus?basic_application_id="
        self.assertEqual(get(base + "B000001", BASIC_HEADERS)[1]["data"]["status"], "Disbursed")
        self.assertEqual(get(base + "B000002", BASIC_HEADERS)[0], 404)

    def test_bad_script_rejected(self):
        status, body = post_json(self.url + "/_control/script", {"route": "nope",
                                                                 "responses": []})
        self.assertEqual((status, body["ok"]), (400, False))
        with self.assertRaises(ValueError):
            self.fake.script("CreateFBB", [])

    def test_reset_clears_scripts(self):
        self.fake.script("CreateFBBByBasicUser", [{"status": 500}])
        self.fake.reset()
        self.assertEqual(self.create_fbb()[0], 200)


class CommandLineTest(unittest.TestCase):

    def test_cli_prints_url_and_serves(self):
        script = os.path.join(harness.SOURCE_DIR, "tools", "fakes", "fake_partners.py")
        proc = subprocess.Popen([sys.executable, script, "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = proc.stdout.readline().strip()
            self.assertRegex(url, r"^http://127\.0\.0\.1:\d+$")
            status, body = post_json(url + "/CreateFBBByBasicUser", {}, BASIC_HEADERS)
            self.assertEqual(status, 200)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(10), 0)
            proc.stdout.close()


class TestDataTest(unittest.TestCase):

    def test_valid_lead(self):
        lead = valid_lead()
        self.assertRegex(lead["mobile"], r"^9\d{9}$")
        self.assertRegex(lead["pan"], r"^[A-Z]{3}PV\d{4}[A-Z]$")
        self.assertEqual((lead["environment"], lead["loanType"], lead["pincode"]),
                         ("orbit", "HL", "400001"))
        self.assertIn("@", lead["email"])

    def test_unique_and_overrides(self):
        leads = [valid_lead() for _ in range(50)]
        self.assertEqual(len({lead["mobile"] for lead in leads}), 50)
        self.assertEqual(len({lead["email"] for lead in leads}), 50)
        lead = valid_lead(lastName="Shah", pan=OMIT, remarks="hi")
        self.assertNotIn("pan", lead)
        self.assertEqual((lead["lastName"], lead["remarks"]), ("Shah", "hi"))
        self.assertEqual(valid_lead(lastName="Shah")["pan"][4], "S")

    def test_free_port_and_wait_until(self):
        self.assertGreater(free_port(), 0)
        self.assertEqual(wait_until(lambda: 42, timeout=1), 42)
        with self.assertRaises(AssertionError):
            wait_until(lambda: False, timeout=0.1)


STUB_LEADGATE = textwrap.dedent('''\
    """Stub standing in for the leadgate binary, to test the harness itself."""
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    args = sys.argv[1:]
    if args[:2] == ["apikey", "create"]:
        print("created key", args[args.index("--name") + 1], "for", args[args.index("--env") + 1])
        print("lgk_" + os.environ["LEADGATE_DATABASE_URL"].rsplit("/", 2)[-2])
        sys.exit(0)
    if args != ["serve"] or os.environ.get("STUB_FAIL"):
        print("stub: refusing to start", file=sys.stderr)
        sys.exit(3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({k: v for k, v in os.environ.items()
                               if k.startswith("LEADGATE_")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass

    host, port = os.environ["LEADGATE_LISTEN"].rsplit(":", 1)
    server = HTTPServer((host, int(port)), Handler)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("stub listening on", port, flush=True)
    print("stub stderr line", file=sys.stderr, flush=True)
    server.serve_forever()
''')


class HarnessWithStubBinaryTest(unittest.TestCase):
    """Exercises Leadgate's process handling against a tiny stub server."""

    def setUp(self):
        # The stub is not leadgate: its answers are not checked against docs/openapi.json.
        previous = os.environ.get("LEADGATE_OPENAPI_CHECK")
        os.environ["LEADGATE_OPENAPI_CHECK"] = "0"
        self.addCleanup(lambda: os.environ.pop("LEADGATE_OPENAPI_CHECK", None)
                        if previous is None else os.environ.update(LEADGATE_OPENAPI_CHECK=previous))
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.stub = os.path.join(tmp.name, "leadgate")
        with open(self.stub, "w") as f:
            f.write(f"#!{sys.executable}\n" + STUB_LEADGATE)
        os.chmod(self.stub, 0o755)

    def make(self, **kwargs):
        lg = Leadgate(binary=self.stub, **kwargs)
        self.addCleanup(lg.close)
        return lg

    def test_start_env_restart_stop_kill(self):
        lg = self.make(config={"orbit": {"x": 1}}, env={"EXTRA": "1",
                                                        "LEADGATE_GUPSHUP_URL": None})
        lg.start()
        status, headers, env = lg.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(env["LEADGATE_LISTEN"], f"127.0.0.1:{lg.port}")
        self.assertEqual(env["LEADGATE_BASIC_APP_URL"], lg.fake.url)
        self.assertNotIn("LEADGATE_GUPSHUP_URL", env)
        self.assertEqual(env["LEADGATE_WEBHOOK_VERIFY_TOKEN"], "test-verify-token")
        with open(env["LEADGATE_CONFIG"]) as f:
            self.assertEqual(json.load(f), {"orbit": {"x": 1}})
        self.assertTrue(env["LEADGATE_DATABASE_URL"].startswith("sqlite:"))
        self.assertIn("stub listening", lg.log_text())
        self.assertIn("stub stderr line", lg.log_text())

        lg.restart()
        env2 = lg.request("GET", "/healthz")[2]
        self.assertEqual(env2["LEADGATE_PII_KEY"], env["LEADGATE_PII_KEY"])
        self.assertEqual(env2["LEADGATE_DATABASE_URL"], env["LEADGATE_DATABASE_URL"])
        self.assertEqual(lg.log_text().count("stub listening"), 2)
        self.assertEqual(lg.log_text(since_last_start=True).count("stub listening"), 1)

        self.assertEqual(lg.stop(), 0)
        lg.start()
        self.assertEqual(lg.kill(), -9)

    def test_start_failure_reports_log_tail(self):
        lg = self.make(env={"STUB_FAIL": "1"})
        with self.assertRaises(harness.LeadgateError) as ctx:
            lg.start()
        self.assertIn("exited with code 3", str(ctx.exception))
        self.assertIn("refusing to start", str(ctx.exception))

    def test_create_api_key_and_run_cli(self):
        lg = self.make()
        key = lg.create_api_key("ci", ["orbit"])
        self.assertTrue(re.match(r"^lgk_leadgate-it-", key), key)
        result = lg.run_cli("apikey", "create", "--name", "x", "--env", "orbit,homfinity")
        self.assertEqual(result.returncode, 0)
        self.assertIn("for orbit,homfinity", result.stdout)

    def test_close_removes_tmpdir(self):
        lg = Leadgate(binary=self.stub)
        lg.start()
        lg.close()
        self.assertFalse(lg.running)
        self.assertFalse(lg.tmpdir.exists())


if __name__ == "__main__":
    unittest.main()
