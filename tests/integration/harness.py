"""Helpers for leadgate's black-box integration tests (unittest, Python stdlib only).

Typical use:

    import unittest
    from harness import FakePartners, Leadgate, valid_lead, wait_until

    class CreateLeadTest(unittest.TestCase):
        def setUp(self):
            self.fake = FakePartners().start()
            self.addCleanup(self.fake.stop)
            self.lg = Leadgate(self.fake)
            self.addCleanup(self.lg.close)
            self.lg.start()
            self.key = self.lg.create_api_key("tests")

        def test_create(self):
            status, headers, body = self.lg.request(
                "POST", "/api_v1/create_lead", valid_lead(), api_key=self.key)
            self.assertEqual(status, 200, body)

Or derive from LeadgateTestCase: self.start_service(env=...) returns (fake, lg, key), cleaned
up after the test; self.post_lead(lg, body, key) and self.assertProblem(response, status,
code) cover the common steps; los_calls_for / template_calls_for / accepted pick a
customer's partner calls out of the fake's record; lg.db_query / lg.db_bytes read the
instance's SQLite database.

The binary comes from LEADGATE_BIN (default /work/main/build/debug/leadgate). Set
LEADGATE_KEEP_TMP=1 to keep each instance's temporary directory (database, logs).
"""

from __future__ import annotations

import base64
import uuid
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import sqlite3
import tempfile
import threading
import time
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("LEADGATE_SOURCE_DIR") or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(SOURCE_DIR / "tools" / "fakes"))

from fake_partners import FakePartners  # noqa: E402  (re-exported for tests)

DEFAULT_BIN = "/work/main/build/debug/leadgate"
WEBHOOK_VERIFY_TOKEN = "test-verify-token"

# Per-environment partner credentials the service must have when partner URLs are set
# (interfaces.md §3/§4). Tests compare the headers the fake received against these.
PARTNER_CREDENTIALS = {
    env: {
        "BASIC_APP_API_KEY": f"test-{env}-basic-app-key",
        "BASIC_APP_USER_ID": f"test-{env}-user",
        "GUPSHUP_API_KEY": f"test-{env}-gupshup-key",
        "GUPSHUP_SOURCE": "917834811114" if env == "orbit" else "917834811115",
    }
    for env in ("orbit", "homfinity")
}

# Knobs that keep the tests fast; a test overrides any of them through Leadgate(env=...).
FAST_TEST_SETTINGS = {
    "LEADGATE_BASIC_APP_TIMEOUT_MS": "5000",
    "LEADGATE_BASIC_APP_BACKOFF_MS": "50",
    "LEADGATE_GUPSHUP_TIMEOUT_MS": "2000",
    "LEADGATE_OUTBOX_POLL_MS": "50",
    "LEADGATE_OUTBOX_BACKOFF_MS": "50",
    # Every status read asks the LOS, so tests can count GetApplicationStatus calls; the status
    # cache (stale-while-revalidate) has its own tests with a TTL (test_tracking StatusTtlTest).
    "LEADGATE_STATUS_TTL_SECONDS": "0",
}
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0

__all__ = [
    "FAST_TEST_SETTINGS", "PARTNER_CREDENTIALS", "WEBHOOK_VERIFY_TOKEN", "FakePartners", "Leadgate", "LeadgateError", "OMIT", "binary_available", "free_port",
    "http_request", "leadgate_bin", "random_mobile", "random_pan", "valid_lead", "wait_until",
    "LeadgateTestCase", "los_calls_for", "template_calls_for", "accepted", "CREATE_LEAD",
]

CREATE_LEAD = "/api_v1/create_lead"


class LeadgateError(AssertionError):
    """The leadgate process misbehaved (failed to start, to stop, a CLI call failed…).

    An AssertionError, so unittest reports it as a test failure rather than an error.
    """


# --------------------------------------------------------------------------- small utilities


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll predicate until it returns something truthy; return that value.

    Raises AssertionError (with message) after timeout seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)


def leadgate_bin() -> str:
    """Path of the leadgate binary under test."""
    return os.environ.get("LEADGATE_BIN") or DEFAULT_BIN


def binary_available() -> bool:
    """True when the leadgate binary exists and is executable (for skipUnless)."""
    path = leadgate_bin()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _decode_body(data: bytes, content_type: str):
    """Parsed JSON when the content type says JSON and it parses; otherwise text."""
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def http_request(host: str, port: int, method: str, path: str, json_body=None,
                 headers: dict | None = None, raw_body=None, timeout: float = 30.0):
    """One HTTP request on a fresh connection.

    json_body is JSON-encoded (Content-Type application/json unless headers set one);
    raw_body (bytes or str) is sent as is. Returns (status, headers, body) where headers
    is a dict with lower-case names and body is parsed JSON when the response is JSON,
    else text.
    """
    headers = dict(headers or {})
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
    if json_body is not None:
        body = json.dumps(json_body).encode("utf-8")
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        resp_headers: dict[str, str] = {}
        for name, value in resp.getheaders():
            name = name.lower()
            resp_headers[name] = f"{resp_headers[name]}, {value}" if name in resp_headers else value
        decoded = _decode_body(data, resp_headers.get("content-type", ""))
        _check_against_openapi(method, path, resp.status, resp_headers, decoded)
        return resp.status, resp_headers, decoded
    finally:
        conn.close()


_SERVICE_PATHS = ("/api_v1/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                  "/dashboard")


def _check_against_openapi(method: str, path: str, status: int, headers: dict, body) -> None:
    """Every response leadgate gives a test must match docs/openapi.json (issue 8: the document
    cannot drift). Requests to the fake partners are not checked. LEADGATE_OPENAPI_CHECK=0 turns
    it off (for investigating a failure)."""
    if os.environ.get("LEADGATE_OPENAPI_CHECK", "1") == "0":
        return
    if not path.startswith(_SERVICE_PATHS):
        return
    if status in (502, 504) and "x-request-id" not in headers:
        return  # a proxy's own answer (nginx in the scale-out test), not leadgate's
    from openapi_check import validate_response  # pylint: disable=import-outside-toplevel
    problems = validate_response(method, path, status, headers.get("content-type"), body,
                                 headers=headers)
    if problems:
        raise LeadgateError(f"response does not match docs/openapi.json: {method} {path} -> "
                            f"{status}\n  " + "\n  ".join(problems[:10]) +
                            f"\n  body: {str(body)[:500]}")


# --------------------------------------------------------------------------- test data

OMIT = object()
"""Pass as an override to valid_lead() to leave that field out: valid_lead(pan=OMIT)."""

_used_mobiles: set[str] = set()
_used_lock = threading.Lock()


def random_mobile() -> str:
    """A 10-digit mobile starting with 9, unique within this process."""
    with _used_lock:
        while True:
            mobile = "9" + "".join(random.choices(string.digits, k=9))
            if mobile not in _used_mobiles:
                _used_mobiles.add(mobile)
                return mobile


def random_pan(surname_initial: str | None = None) -> str:
    """A well-formed individual PAN: 3 letters, 'P', surname initial, 4 digits, 1 letter."""
    initial = surname_initial.upper() if surname_initial and surname_initial.isalpha() \
        else random.choice(string.ascii_uppercase)
    return ("".join(random.choices(string.ascii_uppercase, k=3)) + "P" + initial
            + "".join(random.choices(string.digits, k=4)) + random.choice(string.ascii_uppercase))


def valid_lead(**overrides) -> dict:
    """A valid create_lead body with a unique mobile, email and PAN.

    Keyword arguments replace fields (or add new ones); OMIT removes a field.
    The PAN's 5th letter follows the (possibly overridden) lastName's initial.
    """
    mobile = random_mobile()
    last_name = overrides.get("lastName", "Verma")
    initial = last_name[0] if isinstance(last_name, str) and last_name else None
    lead = {
        "environment": "orbit",
        "firstName": "Asha",
        "lastName": "Verma",
        "mobile": mobile,
        "email": f"asha.verma.{mobile}@example.com",
        "pan": random_pan(initial),
        "loanType": "HL",
        "loanAmountReq": 2500000,
        "loanTenure": 240,
        "creditScore": 750,
        "pincode": "400001",
        "dateOfBirth": "1990-05-15",
        "gender": "Female",
        "annualIncome": 1800000,
    }
    for name, value in overrides.items():
        if value is OMIT:
            lead.pop(name, None)
        else:
            lead[name] = value
    return lead


# --------------------------------------------------------------------------- the process


# Which store the instances use: "sqlite" (default) or "postgres". ctest registers every
# integration test twice, once per store; postgres needs LEADGATE_TEST_PG_URL (a server started by
# tests/pg/start_pg.sh, whose role may create databases). Each instance gets its own database.
TEST_STORE = os.environ.get("LEADGATE_TEST_STORE", "sqlite")


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-At", "-F", "\x1f",
                             "-c", sql], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise LeadgateError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def pg_admin_url() -> str:
    url = os.environ.get("LEADGATE_TEST_PG_URL", "")
    if not url:
        raise LeadgateError("LEADGATE_TEST_STORE=postgres needs LEADGATE_TEST_PG_URL "
                            "(start a server with tests/pg/start_pg.sh)")
    return url


def create_pg_database() -> str:
    """A fresh, empty database on the test server; returns its URL."""
    admin = pg_admin_url()
    name = "lg_" + uuid.uuid4().hex[:16]
    _psql(admin, f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    try:
        _psql(pg_admin_url(), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except LeadgateError:
        pass


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class Leadgate:
    """The real leadgate binary running `serve` in its own temporary directory.

    fake:   FakePartners the partner URLs point at; when None one is started and owned
            (stopped by close()).
    env:    extra environment variables, applied last; a value of None removes the
            variable (e.g. {"LEADGATE_GUPSHUP_URL": None} for the built-in simulator).
    config: dict written as JSON to <tmpdir>/config.json, named by LEADGATE_CONFIG.

    Database, PII key and port stay the same across restart(). Inherited LEADGATE_*
    variables are dropped so the caller's environment cannot leak in. By default the
    partner URLs point at the fake, every per-environment credential is set
    (PARTNER_CREDENTIALS), LEADGATE_PII_KEY and LEADGATE_WEBHOOK_VERIFY_TOKEN are set, and
    FAST_TEST_SETTINGS shorten timeouts and backoffs; extra_env may change any of them
    (it is read at each start, so it can be edited between restarts).
    """

    def __init__(self, fake: FakePartners | None = None, env: dict | None = None,
                 config: dict | None = None, binary: str | None = None,
                 database_url: str | None = None, pii_key: str | None = None):
        self.binary = binary or leadgate_bin()
        # A shared database (several instances) is given; otherwise each instance owns one.
        self._owns_database = database_url is None and TEST_STORE == "postgres"
        self._pg_url = database_url or (create_pg_database() if self._owns_database else None)
        self.tmpdir = Path(tempfile.mkdtemp(prefix="leadgate-it-"))
        self.host = "127.0.0.1"
        self.port = free_port()
        self.pii_key = pii_key or base64.b64encode(os.urandom(32)).decode("ascii")
        self.extra_env = dict(env or {})
        self._owns_fake = fake is None
        self.fake = fake or FakePartners().start()
        self.config_path: Path | None = None
        if config is not None:
            self.write_config(config)
        self.stdout_path = self.tmpdir / "stdout.log"
        self.stderr_path = self.tmpdir / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._log_offsets = (0, 0)
        self._log_files: list = []

    # ---- configuration

    @property
    def url(self) -> str:
        """Base URL of the service, e.g. http://127.0.0.1:41234."""
        return f"http://{self.host}:{self.port}"

    @property
    def database_url(self) -> str:
        """The LEADGATE_DATABASE_URL in use."""
        if self._pg_url:
            return self._pg_url
        return f"sqlite:{self.tmpdir / 'leadgate.db'}"

    @property
    def is_postgres(self) -> bool:
        return self._pg_url is not None

    def write_config(self, config: dict) -> Path:
        """Write (or replace) the JSON config file; takes effect at the next start."""
        self.config_path = self.tmpdir / "config.json"
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return self.config_path

    def environment(self, extra: dict | None = None) -> dict:
        """The process environment for serve and CLI runs."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGATE_")}
        env.update({
            "LEADGATE_LISTEN": f"{self.host}:{self.port}",
            "LEADGATE_DATABASE_URL": self.database_url,
            "LEADGATE_BASIC_APP_URL": self.fake.basic_app_url,
            "LEADGATE_GUPSHUP_URL": self.fake.gupshup_url,
            "LEADGATE_PII_KEY": self.pii_key,
            "LEADGATE_WEBHOOK_VERIFY_TOKEN": WEBHOOK_VERIFY_TOKEN,
        })
        for env_name, creds in PARTNER_CREDENTIALS.items():
            for key, value in creds.items():
                env[f"LEADGATE_{env_name.upper()}_{key}"] = value
        env.update(FAST_TEST_SETTINGS)
        if self.config_path is not None:
            env["LEADGATE_CONFIG"] = str(self.config_path)
        for overrides in (self.extra_env, extra or {}):
            for name, value in overrides.items():
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = str(value)
        return env

    # ---- lifecycle

    @property
    def running(self) -> bool:
        """True while the serve process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> "Leadgate":
        """Start `leadgate serve` and wait until GET /healthz answers 200."""
        if self.running:
            raise LeadgateError("leadgate is already running")
        if not os.path.exists(self.binary):
            raise LeadgateError(f"leadgate binary not found: {self.binary} (set LEADGATE_BIN)")
        self._open_logs()
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.environment(),
                                     cwd=self.tmpdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log_files[0], stderr=self._log_files[1])
        self._wait_healthy(timeout)
        return self

    def _open_logs(self) -> None:
        """Open the log files (appending across restarts) and mark where this run starts."""
        self.starts += 1
        self._log_offsets = (self._size(self.stdout_path), self._size(self.stderr_path))
        self._log_files = [open(self.stdout_path, "ab"), open(self.stderr_path, "ab")]

    def _close_logs(self) -> None:
        for f in self._log_files:
            f.close()
        self._log_files = []

    @staticmethod
    def _size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    def _wait_healthy(self, timeout: float) -> None:
        """Poll /healthz until 200; on early exit or timeout fail with the log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                self._close_logs()
                raise LeadgateError(f"leadgate exited with code {code} during start\n"
                                    + self.log_tail())
            try:
                if http_request(self.host, self.port, "GET", "/healthz", timeout=1.0)[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        self.kill()
        raise LeadgateError(f"leadgate not healthy within {timeout}s\n" + self.log_tail())

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM and wait; returns the exit code (None when never started).

        If it has not exited within timeout it is killed and LeadgateError raised.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise LeadgateError(f"leadgate did not exit within {timeout}s of SIGTERM\n"
                                    + self.log_tail()) from None
        self._close_logs()
        return self.proc.returncode

    def kill(self) -> int | None:
        """SIGKILL and wait; returns the exit code (-9 when it was running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_logs()
        return self.proc.returncode

    def restart(self, kill: bool = False, timeout: float = START_TIMEOUT_S) -> "Leadgate":
        """Stop (or kill) and start again with the same database, PII key and port."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start(timeout)

    def close(self) -> None:
        """Stop the process, an owned fake, and remove the tmpdir (unless LEADGATE_KEEP_TMP)."""
        try:
            if self.running:
                try:
                    self.stop()
                except LeadgateError:
                    pass  # already killed by stop()
        finally:
            self._close_logs()
            if self._owns_fake:
                self.fake.stop()
            if self._owns_database:
                drop_pg_database(self._pg_url)
            if not os.environ.get("LEADGATE_KEEP_TMP"):
                shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self) -> "Leadgate":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- logs

    def stdout_text(self, since_last_start: bool = False) -> str:
        """Captured standard output (all runs, or only the current one)."""
        return self._read_log(self.stdout_path, self._log_offsets[0] if since_last_start else 0)

    def stderr_text(self, since_last_start: bool = False) -> str:
        """Captured standard error (all runs, or only the current one)."""
        return self._read_log(self.stderr_path, self._log_offsets[1] if since_last_start else 0)

    def log_text(self, since_last_start: bool = False) -> str:
        """Captured stdout followed by stderr, for grepping."""
        return self.stdout_text(since_last_start) + self.stderr_text(since_last_start)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of both logs, labelled (for failure messages)."""
        parts = []
        for label, text in (("stdout", self.stdout_text()), ("stderr", self.stderr_text())):
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- leadgate {label} (last {lines} lines) ---\n{tail}")
        return "\n".join(parts)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Wait until the regex pattern appears in the logs; returns the match."""
        return wait_until(lambda: re.search(pattern, self.log_text()), timeout,
                          message=f"{pattern!r} not in leadgate logs within {timeout}s\n"
                                  + self.log_tail())

    @staticmethod
    def _read_log(path: Path, offset: int) -> str:
        if not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")

    # ---- talking to it

    def request(self, method: str, path: str, json_body=None, headers: dict | None = None,
                raw_body=None, *, api_key: str | None = None, timeout: float = 30.0):
        """One request to the service: (status, lower-cased headers dict, JSON or text).

        api_key, when given, is sent as `Authorization: Bearer <key>`.
        """
        headers = dict(headers or {})
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        return http_request(self.host, self.port, method, path, json_body, headers,
                            raw_body, timeout)

    def run_cli(self, *args: str, env: dict | None = None,
                timeout: float = 60.0) -> subprocess.CompletedProcess:
        """Run `leadgate ARGS…` with this instance's environment; output captured as text."""
        return subprocess.run([self.binary, *args], env=self.environment(env), cwd=self.tmpdir,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def create_api_key(self, name: str = "tests", envs=("orbit", "homfinity"),
                       kind: str | None = None) -> str:
        """`leadgate apikey create [--kind KIND]`; returns the key (last non-empty stdout line)."""
        env_arg = envs if isinstance(envs, str) else ",".join(envs)
        args = ["apikey", "create", "--name", name, "--env", env_arg]
        if kind is not None:
            args += ["--kind", kind]
        result = self.run_cli(*args)
        lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if result.returncode != 0 or not lines:
            raise LeadgateError(f"apikey create failed (exit {result.returncode})\n"
                                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return lines[-1]

    def metrics_text(self) -> str:
        """GET /metrics with an ops-scoped key (made once per instance); asserts a 200."""
        if not getattr(self, "_ops_key", None):
            self._ops_key = self.create_api_key("metrics-scrape", "ops")
        status, headers, text = self.request("GET", "/metrics", api_key=self._ops_key)
        if status != 200 or "text/plain" not in headers.get("content-type", ""):
            raise LeadgateError(f"GET /metrics answered {status} {headers}: {text!r}")
        return text


# --------------------------------------------------------------------------- test helpers


def los_calls_for(fake: FakePartners, mobile: str) -> list[dict]:
    """CreateFBBByBasicUser calls whose JSON body carries this mobile as one of its values
    (the partner's field names are the adapter's choice, so match on the value)."""
    out = []
    for call in fake.calls("CreateFBBByBasicUser"):
        body = call["body"]
        if isinstance(body, dict) and mobile in [str(v) for v in body.values()]:
            out.append(call)
    return out


def template_calls_for(fake: FakePartners, mobile: str) -> list[dict]:
    """Gupshup template-message calls addressed to 91 + mobile."""
    return [c for c in fake.calls("gupshup")
            if c.get("kind") == "template" and c["form"].get("destination") == "91" + mobile]


def accepted(calls: list[dict]) -> list[dict]:
    """The calls the fake answered with a 2xx (for Gupshup: accepted messages)."""
    return [c for c in calls if c["response_status"] and 200 <= c["response_status"] < 300]


def _pg_fill(sql: str, params) -> str:
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise LeadgateError("placeholder count does not match params")
    out = parts[0]
    for value, rest in zip(params, parts[1:]):
        out += _sql_literal(value) + rest
    return out


def _pg_value(text: str):
    return int(text) if text.lstrip("-").isdigit() else text


def _leadgate_db_query(lg: "Leadgate", sql: str, params=()) -> list[tuple]:
    """Read-only query on a (running or stopped) instance's database (SQLite or PostgreSQL;
    write portable SQL with ? placeholders)."""
    if lg.is_postgres:
        out = _psql(lg.database_url, _pg_fill(sql, params))
        return [tuple(_pg_value(v) for v in line.split("\x1f")) for line in out.splitlines()]
    path = lg.database_url[len("sqlite:"):]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _leadgate_db_execute(lg: "Leadgate", sql: str, params=()) -> int:
    """A write on the instance's database (test set-up only); returns rowcount."""
    if lg.is_postgres:
        out = subprocess.run(["psql", lg.database_url, "-X", "-c", _pg_fill(sql, params)],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise LeadgateError(out.stderr)
        return int(out.stdout.strip().split()[-1])  # "UPDATE n"
    path = lg.database_url[len("sqlite:"):]
    conn = sqlite3.connect(path, timeout=10)
    try:
        with conn:
            return conn.execute(sql, params).rowcount
    finally:
        conn.close()


def _leadgate_db_bytes(lg: "Leadgate") -> bytes:
    """Everything the database holds, as bytes: the SQLite file and its side files, or a
    pg_dump of the PostgreSQL database (what someone reading the storage would see)."""
    if lg.is_postgres:
        out = subprocess.run(["pg_dump", "--data-only", lg.database_url], capture_output=True,
                             timeout=60)
        if out.returncode != 0:
            raise LeadgateError(out.stderr.decode(errors="replace"))
        return out.stdout
    path = lg.database_url[len("sqlite:"):]
    data = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                data += f.read()
    return data


Leadgate.db_query = _leadgate_db_query
Leadgate.db_execute = _leadgate_db_execute
Leadgate.db_bytes = _leadgate_db_bytes


@unittest.skipUnless(binary_available(), f"leadgate binary not found: {leadgate_bin()}")
class LeadgateTestCase(unittest.TestCase):
    """Base class: start_service() gives a fresh fake + leadgate + API key, cleaned up after."""

    def start_service(self, env: dict | None = None, config: dict | None = None,
                      key_envs=("orbit", "homfinity")):
        """Start a FakePartners and a Leadgate on it; returns (fake, lg, key)."""
        fake = FakePartners(hang_timeout=10).start()
        self.addCleanup(fake.stop)
        lg = Leadgate(fake, env=env, config=config)
        self.addCleanup(lg.close)
        lg.start()
        key = lg.create_api_key("tests", key_envs) if key_envs else None
        return fake, lg, key

    def post_lead(self, lg: "Leadgate", body, key: str | None, headers: dict | None = None,
                  timeout: float = 30.0):
        """POST /api_v1/create_lead with JSON body; returns (status, headers, body)."""
        return lg.request("POST", CREATE_LEAD, body, headers=headers, api_key=key,
                          timeout=timeout)

    def assertProblem(self, response, status: int, code: str | None = None):
        """Assert an RFC 9457 problem with the interfaces.md §2 extension members."""
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        headers)
        self.assertIsInstance(body, dict, body)
        # RFC 9457: the "status" member, when present, is the HTTP status code (an extension
        # member must not reuse the name).
        self.assertEqual(body.get("status", got_status), got_status, body)
        self.assertIs(body.get("success"), False, body)
        self.assertRegex(str(body.get("code", "")), r"^[A-Z][A-Z0-9_]*$", body)
        if code is not None:
            self.assertEqual(body.get("code"), code, body)
        self.assertTrue(body.get("request_id"), body)
        self.assertEqual(body.get("request_id"), headers.get("x-request-id"), (body, headers))
        return body


# --------------------------------------------------------------------------- calendar helpers
# (appointments and tracking tests: every date is computed at run time in India Standard Time)

import datetime as _dt  # noqa: E402

IST = _dt.timezone(_dt.timedelta(hours=5, minutes=30), "IST")


def ist_now() -> _dt.datetime:
    """The current time in India Standard Time (UTC+05:30), timezone-aware."""
    return _dt.datetime.now(_dt.timezone.utc).astimezone(IST)


def ist_today() -> _dt.date:
    """Today's date in IST."""
    return ist_now().date()


def bookable_dates(min_days_ahead: int = 1, max_days_ahead: int = 30,
                   exclude=()) -> list[_dt.date]:
    """Monday-Saturday dates from today (IST) + min_days_ahead to today + max_days_ahead,
    in order, without the dates in exclude (e.g. configured holidays)."""
    today = ist_today()
    out = []
    for n in range(min_days_ahead, max_days_ahead + 1):
        day = today + _dt.timedelta(days=n)
        if day.weekday() != 6 and day not in exclude:
            out.append(day)
    return out


def ddmmyyyy(day: _dt.date) -> str:
    """A date as DD-MM-YYYY (the appointments API's format)."""
    return day.strftime("%d-%m-%Y")


def clock_12h(hour: int, minute: int = 0) -> str:
    """24-hour time as the appointments API writes it: 18, 0 -> "6:00 PM", 10, 30 -> "10:30 AM"."""
    return f"{(hour % 12) or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def ist_slot_utc(day: _dt.date, hour: int, minute: int = 0) -> _dt.datetime:
    """The IST wall-clock time hour:minute of day, as an aware UTC datetime."""
    return _dt.datetime(day.year, day.month, day.day, hour, minute,
                        tzinfo=IST).astimezone(_dt.timezone.utc)


def http_request_raw(host: str, port: int, method: str, path: str,
                     headers: dict | None = None, timeout: float = 30.0):
    """One request without a body; returns (status, lower-cased headers dict, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        resp_headers: dict[str, str] = {}
        for name, value in resp.getheaders():
            name = name.lower()
            resp_headers[name] = f"{resp_headers[name]}, {value}" if name in resp_headers else value
        _check_against_openapi(method, path, resp.status, resp_headers,
                               _decode_body(data, resp_headers.get("content-type", "")))
        return resp.status, resp_headers, data
    finally:
        conn.close()


__all__ += ["IST", "ist_now", "ist_today", "bookable_dates", "ddmmyyyy", "clock_12h",
            "ist_slot_utc", "http_request_raw"]


# --------------------------------------------------------------------------- WhatsApp helpers
# (webhook / status assistant tests)


def session_calls_for(fake: FakePartners, mobile: str) -> list[dict]:
    """Gupshup session (free-text) message calls addressed to 91 + mobile, oldest first."""
    return [c for c in fake.calls("gupshup")
            if c.get("kind") == "message" and c["form"].get("destination") == "91" + mobile]


def metric_samples(text: str) -> dict[str, float]:
    """Prometheus text exposition as {'name{labels}': value} (samples only, comments skipped)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


__all__ += ["session_calls_for", "metric_samples"]
