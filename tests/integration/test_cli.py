"""The leadgate command line and process behaviour: apikey create, migrate, configuration
validation, the development key, graceful shutdown.

Spec: interfaces.md §1 (sub-commands; unknown or malformed values stop the process at start
with a message naming the setting), issue 2 (dev key printed once; SIGTERM: stop accepting,
finish in-flight requests, exit 0).

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_cli
"""

import http.client
import signal
import threading
import time
import unittest

from harness import FakePartners, Leadgate, LeadgateTestCase, valid_lead, wait_until

CREATE_FBB = "CreateFBBByBasicUser"
DEV_KEY_BANNER = "Development API key"


class CliTestCase(LeadgateTestCase):

    def new_instance(self, env=None) -> Leadgate:
        """A Leadgate (not started) with its own fake."""
        fake = FakePartners(hang_timeout=10).start()
        self.addCleanup(fake.stop)
        lg = Leadgate(fake, env=env)
        self.addCleanup(lg.close)
        return lg


class ApiKeyCreateTest(CliTestCase):

    def test_key_is_alone_on_the_last_line_and_scoped(self):
        lg = self.new_instance()
        lg.start()
        result = lg.run_cli("apikey", "create", "--name", "x", "--env", "orbit")
        self.assertEqual(result.returncode, 0, result.stderr)
        last = result.stdout.rstrip("\n").splitlines()[-1]
        self.assertEqual(last, last.strip())
        self.assertRegex(last, r"^\S{20,}$", result.stdout)
        status, _, body = self.post_lead(lg, valid_lead(environment="orbit"), last)
        self.assertEqual(status, 200, body)
        self.assertProblem(self.post_lead(lg, valid_lead(environment="homfinity"), last), 403)

    def test_key_is_not_stored_in_plaintext(self):
        lg = self.new_instance()
        result = lg.run_cli("apikey", "create", "--name", "x", "--env", "orbit,homfinity")
        self.assertEqual(result.returncode, 0, result.stderr)
        key = result.stdout.rstrip("\n").splitlines()[-1]
        self.assertNotIn(key.encode(), lg.db_bytes())

    def test_keys_created_before_serve_work(self):
        lg = self.new_instance()
        key = lg.create_api_key("before-serve", ("homfinity",))
        lg.start()
        status, _, body = self.post_lead(lg, valid_lead(environment="homfinity"), key)
        self.assertEqual(status, 200, body)

    def test_bad_env_fails(self):
        lg = self.new_instance()
        for envs in ("staging", "orbit,nope", ""):
            result = lg.run_cli("apikey", "create", "--name", "x", "--env", envs)
            self.assertNotEqual(result.returncode, 0, (envs, result.stdout))

    def test_missing_name_fails(self):
        lg = self.new_instance()
        result = lg.run_cli("apikey", "create", "--env", "orbit")
        self.assertNotEqual(result.returncode, 0, result.stdout)


class ApiKeyKindListRevokeTest(CliTestCase):
    """issue 20 §2, §7: --kind, apikey list (never the key nor its hash), apikey revoke."""

    def list_lines(self, lg):
        result = lg.run_cli("apikey", "list")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.rstrip("\n").splitlines()
        self.assertEqual(lines[0].split("\t"),
                         ["id", "name", "environments", "kind", "state", "created", "last_used"])
        return result.stdout, {f[1]: f for f in (line.split("\t") for line in lines[1:-1])}, \
            lines[-1]

    def test_kinds_list_and_revoke(self):
        lg = self.new_instance()
        result = lg.run_cli("apikey", "create", "--name", "mobile", "--env", "orbit",
                            "--kind", "app")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Created app API key", result.stdout)
        app_key = result.stdout.rstrip("\n").splitlines()[-1]
        backend = lg.create_api_key("backend", ("orbit", "homfinity"))
        for bad in (("--kind", "mobile"), ("--kind", "")):
            result = lg.run_cli("apikey", "create", "--name", "x", "--env", "orbit", *bad)
            self.assertEqual(result.returncode, 2, result.stdout)
            self.assertIn("--kind", result.stderr)
        result = lg.run_cli("apikey", "create", "--name", "x", "--env", "ops", "--kind", "app")
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("ops", result.stderr)

        lg.start()
        self.assertEqual(self.post_lead(lg, valid_lead(), backend)[0], 200)
        text, rows, summary = self.list_lines(lg)
        self.assertNotIn(app_key, text)
        self.assertNotIn(backend, text)
        for stored_hash, in lg.db_query("SELECT key_hash FROM api_keys"):
            self.assertNotIn(stored_hash, text)
        self.assertEqual(summary, "2 API key(s), 2 active")
        self.assertEqual(rows["mobile"][2:5], ["orbit", "app", "active"])
        self.assertEqual(rows["backend"][2:5], ["orbit,homfinity", "server", "active"])
        self.assertRegex(rows["backend"][5], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertRegex(rows["backend"][6], r"^\d{4}-\d\d-\d\dT")  # used just now
        self.assertEqual(rows["mobile"][6], "never")

        key_id = rows["backend"][0]
        result = lg.run_cli("apikey", "revoke", "--id", key_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"Revoked API key {key_id} (backend)", result.stdout)
        self.assertIn("within 30 s", result.stdout)
        _, rows, summary = self.list_lines(lg)
        self.assertEqual(rows["backend"][4], "revoked")
        self.assertEqual(summary, "2 API key(s), 1 active")
        result = lg.run_cli("apikey", "revoke", "--id", key_id)
        self.assertEqual(result.returncode, 1)
        self.assertIn("already revoked", result.stdout)
        result = lg.run_cli("apikey", "revoke", "--id", "key_nope")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no API key with id 'key_nope'", result.stderr)
        result = lg.run_cli("apikey", "revoke")
        self.assertEqual(result.returncode, 2)

    def test_default_kind_is_server(self):
        lg = self.new_instance()
        lg.create_api_key("old", ("orbit",))
        self.assertEqual(lg.db_query("SELECT kind FROM api_keys"), [("server",)])


class MigrateTest(CliTestCase):

    def test_migrate_exits_0_and_is_repeatable(self):
        lg = self.new_instance()
        for _ in range(2):
            result = lg.run_cli("migrate")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # One row per migration, each applied once: versions 1..N without gaps or repeats.
        rows = lg.db_query("SELECT version FROM schema_migrations ORDER BY version")
        versions = [int(r[0]) for r in rows]
        self.assertGreaterEqual(len(versions), 6, versions)
        self.assertEqual(versions, list(range(1, len(versions) + 1)))

    def test_unknown_subcommand_fails(self):
        lg = self.new_instance()
        result = lg.run_cli("frobnicate")
        self.assertNotEqual(result.returncode, 0)


class ConfigValidationTest(CliTestCase):

    def assertStartFails(self, env, setting):
        lg = self.new_instance()
        result = lg.run_cli("serve", env=env, timeout=15)
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        self.assertIn(setting, output)

    def test_bad_listen(self):
        self.assertStartFails({"LEADGATE_LISTEN": "nope"}, "LEADGATE_LISTEN")

    def test_bad_otp_ttl(self):
        self.assertStartFails({"LEADGATE_OTP_TTL_SECONDS": "abc"}, "LEADGATE_OTP_TTL_SECONDS")

    def test_bad_key_cache_and_token_ttl(self):
        # The key cache may not exceed 30 s: revocation must reach every instance within 30 s.
        self.assertStartFails({"LEADGATE_API_KEY_CACHE_SECONDS": "31"},
                              "LEADGATE_API_KEY_CACHE_SECONDS")
        self.assertStartFails({"LEADGATE_CUSTOMER_TOKEN_TTL_SECONDS": "abc"},
                              "LEADGATE_CUSTOMER_TOKEN_TTL_SECONDS")

    def test_bad_database_url(self):
        self.assertStartFails({"LEADGATE_DATABASE_URL": "mysql://x"}, "LEADGATE_DATABASE_URL")

    def test_bad_partner_url(self):
        self.assertStartFails({"LEADGATE_BASIC_APP_URL": "not a url"}, "LEADGATE_BASIC_APP_URL")

    def test_bad_pii_key(self):
        self.assertStartFails({"LEADGATE_PII_KEY": "c2hvcnQ="}, "LEADGATE_PII_KEY")

    def test_missing_partner_credentials(self):
        for name in ("LEADGATE_ORBIT_BASIC_APP_API_KEY", "LEADGATE_HOMFINITY_BASIC_APP_USER_ID",
                     "LEADGATE_ORBIT_GUPSHUP_API_KEY", "LEADGATE_HOMFINITY_GUPSHUP_SOURCE"):
            with self.subTest(name=name):
                self.assertStartFails({name: None}, name)

    def test_pii_key_and_verify_token_required_outside_sandbox(self):
        self.assertStartFails({"LEADGATE_PII_KEY": None}, "LEADGATE_PII_KEY")
        self.assertStartFails({"LEADGATE_WEBHOOK_VERIFY_TOKEN": None},
                              "LEADGATE_WEBHOOK_VERIFY_TOKEN")

    def test_bad_config_file(self):
        lg = self.new_instance()
        lg.write_config({"otp_ttl_seconds": "soon"})
        result = lg.run_cli("serve", timeout=15)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("OTP_TTL_SECONDS", (result.stdout + result.stderr).upper())

    def test_environment_wins_over_config_file(self):
        lg = self.new_instance(env={"LEADGATE_OTP_TTL_SECONDS": "120"})
        lg.write_config({"otp_ttl_seconds": "soon"})
        lg.start()  # the malformed file value is overridden by the valid variable


class DevKeyTest(CliTestCase):

    def test_dev_key_printed_on_first_start_only(self):
        lg = self.new_instance()
        lg.start()
        lines = lg.stdout_text().splitlines()
        banner = [i for i, line in enumerate(lines) if DEV_KEY_BANNER in line]
        if lg.is_postgres:
            # A development key is a convenience of the embedded default only: a production
            # store never gets a key nobody asked for.
            self.assertEqual(banner, [], lg.stdout_text())
            return
        self.assertEqual(len(banner), 1, lg.stdout_text())
        self.assertGreater(len(lines), banner[0] + 1, lg.stdout_text())
        dev_key = lines[banner[0] + 1].strip()
        self.assertRegex(dev_key, r"^\S{20,}$")
        status, _, body = self.post_lead(lg, valid_lead(), dev_key)
        self.assertEqual(status, 200, body)
        status, _, body = self.post_lead(lg, valid_lead(environment="homfinity"), dev_key)
        self.assertEqual(status, 200, body)

        lg.restart()
        self.assertNotIn(DEV_KEY_BANNER, lg.stdout_text(since_last_start=True))
        self.assertNotIn(dev_key, lg.log_text(since_last_start=True))
        status, _, body = self.post_lead(lg, valid_lead(), dev_key)
        self.assertEqual(status, 200, body)

    def test_no_dev_key_when_a_key_exists(self):
        lg = self.new_instance()
        lg.create_api_key("ops", ("orbit",))
        lg.start()
        self.assertNotIn(DEV_KEY_BANNER, lg.stdout_text())


class GracefulShutdownTest(CliTestCase):

    def test_sigterm_finishes_in_flight_request_and_exits_0(self):
        lg = self.new_instance()
        lg.start()
        key = lg.create_api_key()
        lg.fake.script(CREATE_FBB, [{"delay_ms": 1000}])
        result = {}

        def send():
            result["response"] = self.post_lead(lg, valid_lead(), key, timeout=15)

        thread = threading.Thread(target=send)
        thread.start()
        lg.fake.wait_for_calls(CREATE_FBB, 1, timeout=5)
        started = time.monotonic()
        code = lg.stop(timeout=10)
        thread.join(10)
        self.assertFalse(thread.is_alive())
        status, _, body = result["response"]
        self.assertEqual(status, 200, body)
        self.assertEqual(body["message"], "Lead created successfully")
        self.assertEqual(code, 0, lg.log_tail(20))
        self.assertLess(time.monotonic() - started, 8.0)

    def test_sigterm_when_idle_exits_0_quickly(self):
        lg = self.new_instance()
        lg.start()
        started = time.monotonic()
        self.assertEqual(lg.stop(timeout=10), 0, lg.log_tail(20))
        self.assertLess(time.monotonic() - started, 5.0)  # well under the 10 s grace a drain may take

    def test_repeated_start_stop_always_exits_0(self):
        # SIGTERM right after a request (here the harness's /healthz probe) must still be a
        # clean exit. A race in shutdown makes a few percent of these abort, so several
        # fresh instances are started and stopped to catch it.
        fake = FakePartners().start()
        self.addCleanup(fake.stop)
        failures = []
        for _ in range(40):
            lg = Leadgate(fake)
            try:
                lg.start()
                code = lg.stop(timeout=10)
                if code != 0:
                    failures.append((code, [line for line in lg.stderr_text().splitlines()
                                            if not line.startswith("{")]))
            finally:
                lg.close()
        self.assertEqual(failures, [])

    def test_new_connections_refused_during_drain(self):
        lg = self.new_instance()
        lg.start()
        key = lg.create_api_key()
        lg.fake.script(CREATE_FBB, [{"delay_ms": 4000}])  # the drain outlasts the checks
        result = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("r", self.post_lead(lg, valid_lead(), key)))
        thread.start()
        lg.fake.wait_for_calls(CREATE_FBB, 1, timeout=5)
        lg.proc.send_signal(signal.SIGTERM)

        def refusing():
            try:
                return lg.request("GET", "/healthz", timeout=2)[0] != 200
            except (OSError, http.client.HTTPException):
                return True  # refused: not accepting any more

        wait_until(refusing, timeout=3, message="still accepting new requests after SIGTERM")
        self.assertIsNone(lg.proc.poll(), "exited before the request in flight was answered")
        thread.join(15)
        self.assertEqual(result["r"][0], 200, result["r"])
        self.assertEqual(lg.stop(), 0)


if __name__ == "__main__":
    unittest.main()
