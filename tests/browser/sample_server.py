#!/usr/bin/env python3
"""A stand-in for leadgate's dashboard routes, for working on web/dashboard without the backend.

Serves the page the way docs/dashboard.md describes (same paths, same Content-Security-Policy,
cookie session, login form with the <!--LOGIN_ERROR--> marker) with /dashboard/data answered from
tests/browser/sample-data.json (sample-data-<environment>.json when present).

    python3 tests/browser/sample_server.py --port 8765          # key: sample-ops-key
    open http://127.0.0.1:8765/dashboard

    node tests/browser/dashboard_check.mjs http://127.0.0.1:8765 sample-ops-key \
        tests/browser/sample-expectations.json /tmp/shots

Assets come from web/dashboard/ and data/www/ (uPlot: bash scripts/fetch-docs-ui.sh).
--fail-data makes /dashboard/data answer 500 (to see the error banner).
"""
from __future__ import annotations

import argparse
import html
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web" / "dashboard"
WWW = ROOT / "data" / "www"
SAMPLES = Path(__file__).resolve().parent
# as leadgate sends it (src/api/dashboard.cpp)
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json"}
ASSETS = {"dashboard.js": WEB, "dashboard.css": WEB, "uPlot.iife.min.js": WWW,
          "uPlot.min.css": WWW}


class Handler(BaseHTTPRequestHandler):
    server_version = "sample-dashboard"
    sessions: set[str] = set()
    ops_key = "sample-ops-key"
    fail_data = False

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body: bytes | str = b"", content_type="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def session_ok(self) -> bool:
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "lg_ops" and value in self.sessions:
                return True
        auth = self.headers.get("Authorization", "")
        return auth == f"Bearer {self.ops_key}"

    def problem(self, status, title):
        self.send(status, json.dumps({"type": "about:blank", "title": title, "status": status,
                                      "success": False, "code": title.upper().replace(" ", "_")}),
                  "application/problem+json")

    def login_page(self, status=200, error=None):
        page = (WEB / "login.html").read_text()
        if error:
            page = page.replace("<!--LOGIN_ERROR-->",
                                f"<p class=\"login-error\" role=\"alert\">{html.escape(error)}</p>")
        self.send(status, page, TYPES[".html"])

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path in ("/dashboard", "/dashboard/"):
            if not self.session_ok():
                return self.send(303, "", headers={"Location": "/dashboard/login"})
            return self.send(200, (WEB / "index.html").read_bytes(), TYPES[".html"])
        if path == "/dashboard/login":
            return self.login_page()
        if path.startswith("/dashboard/assets/"):
            name = path.rsplit("/", 1)[1]
            folder = ASSETS.get(name)
            if folder and (folder / name).is_file():
                return self.send(200, (folder / name).read_bytes(),
                                 TYPES.get(Path(name).suffix, "application/octet-stream"))
            return self.send(404, "not found")
        if path == "/dashboard/data":
            if not self.session_ok():
                return self.problem(401, "Unauthorized")
            if self.fail_data:
                return self.problem(500, "Internal error")
            query = parse_qs(url.query)
            env = query.get("environment", ["all"])[0]
            rng = query.get("range", ["hour"])[0]
            file = SAMPLES / f"sample-data-{env}.json"
            data = json.loads((file if file.is_file() else SAMPLES / "sample-data.json").read_text())
            data["environment"] = env
            data["range"] = rng
            return self.send(200, json.dumps(data), "application/json")
        return self.send(404, "not found")

    def do_POST(self):
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if path == "/dashboard/login":
            if form.get("api_key", [""])[0] == self.ops_key:
                token = secrets.token_hex(16)
                self.sessions.add(token)
                return self.send(303, "", headers={
                    "Location": "/dashboard",
                    "Set-Cookie": f"lg_ops={token}; HttpOnly; SameSite=Strict; Path=/dashboard"})
            return self.login_page(401, "That key is not valid for the dashboard.")
        if path == "/dashboard/logout":
            return self.send(303, "", headers={
                "Location": "/dashboard/login",
                "Set-Cookie": "lg_ops=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/dashboard"})
        return self.send(404, "not found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail-data", action="store_true")
    args = parser.parse_args()
    Handler.fail_data = args.fail_data
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"sample dashboard on http://127.0.0.1:{server.server_address[1]}/dashboard "
          f"(key {Handler.ops_key})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
