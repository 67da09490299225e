#!/usr/bin/env python3
"""TEST FAKE: fake partner APIs for leadgate's integration tests.

    *** TEST FAKE. This is not the partners' software. Never deploy it and never point
    *** a production configuration at it.

One threaded HTTP/1.1 server that stands in for both partners of
/work/shared/spec/interfaces.md:

  Basic Application API (section 3), every call needs headers X-Api-Key and X-User-Id:
    POST /CreateFBBByBasicUser       -> {"success": true, "data": {"basic_application_id": "B…", "applicationId": uuid}}
    POST /CreateSelfFullfilmentLead  -> {"success": true, "data": {"status": "completed", "reference": "SF-…"}}
    GET  /GetApplicationStatus?basic_application_id=X
                                     -> {"success": true, "data": {…, "status": "Under Review", …}}
  Gupshup WhatsApp API (section 4), form-encoded, header `apikey` required:
    POST /wa/api/v1/template/msg     -> {"status": "submitted", "messageId": uuid}
    POST /wa/api/v1/msg              -> {"status": "submitted", "messageId": uuid}

Partner paths are matched on their last segment(s), so a base URL with a prefix
(http://host:port/lms) also works.

Test control, over HTTP (JSON) or the Python API of FakePartners:
    POST /_control/script  {"route": R, "responses": [...]}   fake.script(R, [...])
    GET  /_control/calls?route=R                              fake.calls(R)
    POST /_control/reset                                      fake.reset()
    POST /_control/status  {"basic_application_id": X, "status": S}   fake.set_status(X, S)
                           (optional "stage", "updated_at" as for set_status)
    POST /_control/config  {"strict_status": true, "hang_timeout_s": 60}

Routes R: "CreateFBBByBasicUser", "CreateSelfFullfilmentLead", "GetApplicationStatus",
"gupshup" (both Gupshup paths). Calls to any other path are recorded under "unmatched".

Scripted responses form a queue per route, consumed one per call; when it is empty the
default (success) behaviour applies. An entry is a dict:
    {"status": 500}                      error with a default JSON error body
    {"status": 502, "body": "..."}       body: str as is, anything else JSON-encoded;
                                         optional "content_type", "headers"
    {"delay_ms": 3000}                   wait, then the default behaviour (combinable)
    {"malformed": true}                  200 with the non-JSON body "<html>oops"
    {"hang": true}                       no answer: wait up to 60 s (or "max_s", or until
                                         reset/stop), then drop the connection
    {"drop": true}                       drop the connection at once, no answer
Status S for set_status: None makes that id answer 404; with strict_status any id the fake
did not issue (and was not given a status) answers 404. set_status(X, S, stage=..., updated_at=...)
also fixes the reported stage (default "Credit assessment") and updated_at (an ISO 8601 string,
default: the time of each call).

Each recorded call is a dict: route, method, path, query (dict), headers (case-insensitive
dict, lower-case keys), body (parsed JSON or None), raw_body (text), time (epoch seconds),
response_status (None when no answer was sent). Gupshup calls add: kind ("template" or
"message"), form (dict), template and message (parsed JSON or None).

In-process use:
    fake = FakePartners().start()      # 127.0.0.1, free port
    fake.url                           # "http://127.0.0.1:PORT"
    ...
    fake.stop()

Command line: python3 tools/fakes/fake_partners.py --port 9000   (prints the URL)
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import signal
import socket
import string
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CREATE_FBB = "CreateFBBByBasicUser"
SELF_FULFILMENT = "CreateSelfFullfilmentLead"
APP_STATUS = "GetApplicationStatus"
GUPSHUP = "gupshup"
UNMATCHED = "unmatched"

ROUTES = (CREATE_FBB, SELF_FULFILMENT, APP_STATUS, GUPSHUP)
BASIC_ROUTES = (CREATE_FBB, SELF_FULFILMENT, APP_STATUS)
ROUTE_METHODS = {CREATE_FBB: "POST", SELF_FULFILMENT: "POST", APP_STATUS: "GET", GUPSHUP: "POST"}

GUPSHUP_TEMPLATE_PATH = "/wa/api/v1/template/msg"
GUPSHUP_SESSION_PATH = "/wa/api/v1/msg"

DEFAULT_STATUS = "Under Review"
DEFAULT_STAGE = "Credit assessment"
MALFORMED_BODY = b"<html>oops"
DEFAULT_HANG_TIMEOUT_S = 60.0

_ID_ALPHABET = string.ascii_uppercase + string.digits


# --------------------------------------------------------------------------- small helpers


class Headers(dict):
    """A dict of HTTP headers with lower-case keys and case-insensitive lookup."""

    def __init__(self, items=()):
        super().__init__()
        for key, value in items:
            key = key.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __contains__(self, key):
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __deepcopy__(self, memo):
        return Headers(self.items())


@dataclass
class Reply:
    """What the handler sends back; drop=True closes the connection without answering."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    drop: bool = False


def json_reply(status: int, obj) -> Reply:
    """A JSON reply."""
    return Reply(status, json.dumps(obj).encode("utf-8"))


DROP = Reply(drop=True)


def utc_now_iso() -> str:
    """The current UTC time in ISO 8601, e.g. 2025-01-31T12:00:00Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_json(raw: bytes):
    """Parsed JSON of a body, or None when it is empty or not JSON."""
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def parse_form(raw: bytes) -> dict:
    """A form-encoded body as {name: first value}."""
    text = raw.decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def route_for_path(path: str) -> str:
    """The route name a partner path belongs to (UNMATCHED when none)."""
    path = path.rstrip("/")
    if path.endswith(GUPSHUP_TEMPLATE_PATH) or path.endswith(GUPSHUP_SESSION_PATH):
        return GUPSHUP
    last = path.rsplit("/", 1)[-1]
    return last if last in BASIC_ROUTES else UNMATCHED


def basic_error(status: int, message: str) -> Reply:
    """An error in the Basic Application API's shape."""
    return json_reply(status, {"success": False, "message": message})


def gupshup_error(status: int, message: str) -> Reply:
    """An error in Gupshup's shape."""
    return json_reply(status, {"status": "error", "message": message})


def validate_script(route, responses) -> None:
    """Raise ValueError unless route and responses form a valid script."""
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
    if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
        raise ValueError("responses must be a list of objects")


# --------------------------------------------------------------------------- the fake


class FakePartners:
    """TEST FAKE of the Basic Application API and Gupshup; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 hang_timeout: float = DEFAULT_HANG_TIMEOUT_S, verbose: bool = False):
        self.host = host
        self.requested_port = port
        self.hang_timeout = hang_timeout
        self._initial_hang_timeout = hang_timeout
        self.verbose = verbose
        self.strict_status = False
        self._lock = threading.Lock()
        self._release = threading.Event()  # set to wake hanging/delayed handlers
        self._scripts: dict[str, list[dict]] = {r: [] for r in ROUTES}
        self._calls: list[dict] = []
        self._statuses: dict[str, str | None] = {}
        self._stages: dict[str, str] = {}
        self._updated_ats: dict[str, str] = {}
        self._issued_ids: set[str] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> "FakePartners":
        """Bind and serve in a background thread; returns self."""
        self._httpd = _Server((self.host, self.requested_port), self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="fake-partners", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging handlers and close open connections."""
        if self._httpd is None:
            return
        self._wake_sleepers()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> "FakePartners":
        return self if self._httpd else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234 (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    basic_app_url = url  # base URL for LEADGATE_BASIC_APP_URL
    gupshup_url = url  # base URL for LEADGATE_GUPSHUP_URL

    # ---- test control

    def script(self, route: str, responses: list[dict]) -> None:
        """Queue scripted responses for a route (appended to any already queued)."""
        validate_script(route, responses)
        with self._lock:
            self._scripts[route].extend(copy.deepcopy(responses))

    def calls(self, route: str | None = None) -> list[dict]:
        """Copies of the recorded calls, oldest first, for one route or all."""
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if route is None or c["route"] == route]

    def wait_for_calls(self, route: str | None, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Wait until at least count calls are recorded for route; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(route)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} call(s) to {route}, got {len(found)} "
                                     f"within {timeout}s")
            time.sleep(0.02)

    def set_status(self, basic_application_id: str, status: str | None,
                   stage: str | None = None, updated_at: str | None = None) -> None:
        """Status GetApplicationStatus reports for an id; None makes it answer 404.

        stage (default "Credit assessment") and updated_at (ISO 8601 text; default the time of
        each call) fix those fields of the answer; each call replaces the previous choice.
        """
        with self._lock:
            self._statuses[basic_application_id] = status
            self._stages.pop(basic_application_id, None)
            self._updated_ats.pop(basic_application_id, None)
            if stage is not None:
                self._stages[basic_application_id] = stage
            if updated_at is not None:
                self._updated_ats[basic_application_id] = updated_at

    def reset(self) -> None:
        """Forget scripts, calls, statuses and config; wake hanging handlers."""
        with self._lock:
            self._scripts = {r: [] for r in ROUTES}
            self._calls.clear()
            self._statuses.clear()
            self._stages.clear()
            self._updated_ats.clear()
            self._issued_ids.clear()
            self.strict_status = False
            self.hang_timeout = self._initial_hang_timeout
        self._wake_sleepers()

    # ---- internals used by the handler

    def _wake_sleepers(self) -> None:
        """Wake every handler sleeping in a delay or hang."""
        with self._lock:
            old, self._release = self._release, threading.Event()
        old.set()

    def _sleep(self, seconds: float) -> None:
        """Sleep up to seconds; returns early on reset() or stop()."""
        with self._lock:
            event = self._release
        event.wait(max(0.0, seconds))

    def _record(self, method: str, url, headers: Headers, raw: bytes) -> dict:
        """Build and store the record of one partner call."""
        route = route_for_path(url.path)
        call = {
            "route": route,
            "method": method,
            "path": url.path,
            "query": {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            "headers": headers,
            "body": parse_json(raw),
            "raw_body": raw.decode("utf-8", errors="replace"),
            "time": time.time(),
            "response_status": None,
        }
        if route == GUPSHUP:
            call.update(self._gupshup_fields(url.path, raw))
        with self._lock:
            self._calls.append(call)
        return call

    @staticmethod
    def _gupshup_fields(path: str, raw: bytes) -> dict:
        """Gupshup-specific parts of a call record."""
        form = parse_form(raw)
        kind = "template" if path.rstrip("/").endswith(GUPSHUP_TEMPLATE_PATH) else "message"
        return {
            "kind": kind,
            "form": form,
            "template": parse_json(form.get("template", "").encode("utf-8")),
            "message": parse_json(form.get("message", "").encode("utf-8")),
        }

    def _next_scripted(self, route: str) -> dict | None:
        """Pop the next scripted response for a route, if any."""
        with self._lock:
            queue = self._scripts.get(route)
            return queue.pop(0) if queue else None

    def handle_partner(self, method: str, url, headers: Headers, raw: bytes) -> Reply:
        """Answer one partner call: record it, then scripted or default behaviour."""
        call = self._record(method, url, headers, raw)
        reply = self._answer(call)
        with self._lock:
            call["response_status"] = None if reply.drop else reply.status
        return reply

    def _answer(self, call: dict) -> Reply:
        """The reply for a recorded call."""
        route = call["route"]
        if route == UNMATCHED:
            return basic_error(404, f"TEST FAKE: no such endpoint {call['path']}")
        if call["method"] != ROUTE_METHODS[route]:
            return basic_error(405, f"{call['method']} not allowed on {call['path']}")
        entry = self._next_scripted(route)
        if entry is None:
            return self._default(call)
        return self._scripted(entry, call)

    def _scripted(self, entry: dict, call: dict) -> Reply:
        """Reply for one scripted entry (see the module docstring)."""
        if entry.get("delay_ms"):
            self._sleep(entry["delay_ms"] / 1000.0)
        if entry.get("hang"):
            self._sleep(float(entry.get("max_s", self.hang_timeout)))
            return DROP
        if entry.get("drop"):
            return DROP
        status = int(entry.get("status", 200))
        extra_headers = dict(entry.get("headers", {}))
        if entry.get("malformed"):
            return Reply(status, MALFORMED_BODY, "text/html", extra_headers)
        if "body" in entry:
            return self._scripted_body(status, entry, extra_headers)
        if status >= 400:
            reply = self._default_error(call["route"], status)
        else:
            reply = self._default(call)
            reply.status = int(entry.get("status", reply.status))
        reply.headers.update(extra_headers)
        return reply

    @staticmethod
    def _scripted_body(status: int, entry: dict, headers: dict) -> Reply:
        """A scripted reply with an explicit body."""
        body = entry["body"]
        if isinstance(body, str):
            data = body.encode("utf-8")
            guessed = "application/json" if parse_json(data) is not None else "text/plain"
        else:
            data, guessed = json.dumps(body).encode("utf-8"), "application/json"
        return Reply(status, data, entry.get("content_type", guessed), headers)

    @staticmethod
    def _default_error(route: str, status: int) -> Reply:
        """Default body of a scripted error status."""
        message = f"TEST FAKE scripted error {status}"
        return gupshup_error(status, message) if route == GUPSHUP else basic_error(status, message)

    def _default(self, call: dict) -> Reply:
        """Default (success-path) behaviour of a route."""
        handlers = {
            CREATE_FBB: self._create_fbb,
            SELF_FULFILMENT: self._self_fulfilment,
            APP_STATUS: self._application_status,
            GUPSHUP: self._gupshup,
        }
        return handlers[call["route"]](call)

    # ---- default behaviour per route

    @staticmethod
    def _basic_auth_error(call: dict) -> Reply | None:
        """401 unless both Basic Application credentials headers are present."""
        headers = call["headers"]
        if not headers.get("x-api-key") or not headers.get("x-user-id"):
            return basic_error(401, "Missing or invalid X-Api-Key / X-User-Id")
        return None

    def _new_basic_application_id(self) -> str:
        """A fresh unique id: "B" + 6 upper-case alphanumerics."""
        with self._lock:
            while True:
                candidate = "B" + "".join(random.choices(_ID_ALPHABET, k=6))
                if candidate not in self._issued_ids:
                    self._issued_ids.add(candidate)
                    return candidate

    def _create_fbb(self, call: dict) -> Reply:
        """POST CreateFBBByBasicUser."""
        error = self._basic_auth_error(call)
        if error:
            return error
        if not isinstance(call["body"], dict):
            return basic_error(400, "Request body must be a JSON object")
        data = {"basic_application_id": self._new_basic_application_id(),
                "applicationId": str(uuid.uuid4())}
        return json_reply(200, {"success": True, "data": data})

    def _self_fulfilment(self, call: dict) -> Reply:
        """POST CreateSelfFullfilmentLead."""
        error = self._basic_auth_error(call)
        if error:
            return error
        body = call["body"]
        if not isinstance(body, dict):
            return basic_error(400, "Request body must be a JSON object")
        missing = [k for k in ("applicationId", "basic_application_id") if not body.get(k)]
        if missing:
            return basic_error(400, f"Missing field(s): {', '.join(missing)}")
        reference = "SF-" + "".join(random.choices(_ID_ALPHABET, k=10))
        return json_reply(200, {"success": True,
                                "data": {"status": "completed", "reference": reference}})

    def _application_status(self, call: dict) -> Reply:
        """GET GetApplicationStatus?basic_application_id=X."""
        error = self._basic_auth_error(call)
        if error:
            return error
        app_id = call["query"].get("basic_application_id", "")
        if not app_id:
            return basic_error(400, "basic_application_id is required")
        with self._lock:
            known = app_id in self._statuses or app_id in self._issued_ids
            status = self._statuses.get(app_id, DEFAULT_STATUS)
            stage = self._stages.get(app_id, DEFAULT_STAGE)
            updated_at = self._updated_ats.get(app_id) or utc_now_iso()
            strict = self.strict_status
        if status is None or (strict and not known):
            return basic_error(404, "Application not found")
        data = {"basic_application_id": app_id, "status": status,
                "stage": stage, "updated_at": updated_at}
        return json_reply(200, {"success": True, "data": data})

    @staticmethod
    def _gupshup_problem(call: dict) -> str | None:
        """What is wrong with a Gupshup call's form, or None."""
        form, kind = call["form"], call["kind"]
        for name in ("channel", "source", "src.name", "destination", kind):
            if not form.get(name):
                return f"Missing parameter: {name}"
        if form["channel"] != "whatsapp":
            return "channel must be whatsapp"
        dest = form["destination"]
        if not (len(dest) == 12 and dest.isdigit() and dest.startswith("91")):
            return "Invalid destination"
        payload = call[kind]
        if not isinstance(payload, dict):
            return f"{kind} must be a JSON object"
        if kind == "template" and (not payload.get("id")
                                   or not isinstance(payload.get("params", []), list)):
            return "template needs an id and a params list"
        if kind == "message" and not payload.get("type"):
            return "message needs a type"
        return None

    def _gupshup(self, call: dict) -> Reply:
        """POST /wa/api/v1/template/msg and /wa/api/v1/msg."""
        if not call["headers"].get("apikey"):
            return gupshup_error(401, "Authentication Failed")
        problem = self._gupshup_problem(call)
        if problem:
            return gupshup_error(400, problem)
        call["message_id"] = str(uuid.uuid4())  # lets tests match what leadgate recorded
        return json_reply(200, {"status": "submitted", "messageId": call["message_id"]})

    # ---- control API over HTTP

    def handle_control(self, method: str, url, raw: bytes) -> Reply:
        """Answer a /_control/* request."""
        action = url.path.rstrip("/").rsplit("/", 1)[-1]
        body = parse_json(raw) or {}
        try:
            if method == "GET" and action == "calls":
                route = parse_qs(url.query).get("route", [None])[0]
                return json_reply(200, self.calls(route))
            if method == "POST" and action == "script":
                self.script(body.get("route"), body.get("responses"))
                return json_reply(200, {"ok": True})
            if method == "POST" and action == "reset":
                self.reset()
                return json_reply(200, {"ok": True})
            if method == "POST" and action == "status":
                self.set_status(str(body["basic_application_id"]), body.get("status"),
                                body.get("stage"), body.get("updated_at"))
                return json_reply(200, {"ok": True})
            if method == "POST" and action == "config":
                self._configure(body)
                return json_reply(200, {"ok": True})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return json_reply(400, {"ok": False, "error": str(exc)})
        return json_reply(404, {"ok": False, "error": f"no control action {method} {url.path}"})

    def _configure(self, body: dict) -> None:
        """Apply /_control/config settings."""
        if "strict_status" in body:
            self.strict_status = bool(body["strict_status"])
        if "hang_timeout_s" in body:
            self.hang_timeout = float(body["hang_timeout_s"])


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its FakePartners and tracks open connections."""

    daemon_threads = True

    def __init__(self, address, fake: FakePartners):
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every connection still open (idle keep-alive ones included)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP/1.1 handler: reads the body, delegates to FakePartners, writes the reply."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        try:
            raw = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(json_reply(400, {"success": False, "message": str(exc)}))
            return
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path.startswith("/_control/"):
            reply = fake.handle_control(self.command, url, raw)
        else:
            reply = fake.handle_partner(self.command, url, Headers(self.headers.items()), raw)
        self._send(reply)

    def _read_body(self) -> bytes:
        """The request body (Content-Length or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.strip().isdigit():
            raise ValueError("bad Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        """A chunked request body."""
        chunks = []
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise ValueError("bad chunk size") from exc
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # CRLF after the chunk

    def _send(self, reply: Reply) -> None:
        """Write a reply, or drop the connection when reply.drop."""
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, str(value))
        try:
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away while we delayed the answer (e.g. a test killed leadgate).
            self.close_connection = True

    def log_message(self, fmt, *args):
        if self.server.fake.verbose:
            sys.stderr.write("fake-partners: " + (fmt % args) + "\n")


# --------------------------------------------------------------------------- command line


def main(argv=None) -> int:
    """Run the fake in the foreground until SIGINT/SIGTERM; prints the URL first."""
    parser = argparse.ArgumentParser(description="TEST FAKE of leadgate's partner APIs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--hang-timeout", type=float, default=DEFAULT_HANG_TIMEOUT_S)
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    fake = FakePartners(args.host, args.port, args.hang_timeout, args.verbose).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(fake.url, flush=True)
    print("fake partners (TEST FAKE) serving Basic Application API + Gupshup; Ctrl-C stops",
          file=sys.stderr, flush=True)
    while not done.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
