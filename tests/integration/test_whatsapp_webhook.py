"""WhatsApp webhook and status assistant (issue 7, docs/api.md "WhatsApp webhook: GET/POST
/api_v1/whatsapp/webhook"; interfaces.md §4; sample callbacks in /work/shared/samples/whatsapp)
through the real binary and the fake partners, on either store (LEADGATE_TEST_STORE).

Covered:
- the GET verification handshake (dotted and underscore spellings, wrong token / mode -> 403);
- intake authentication: Gupshup token in the path or the X-Webhook-Token header (missing / wrong
  -> 401), Meta X-Hub-Signature-256 (wrong / missing -> 401 and nothing stored), malformed
  bodies and JSON arrays -> 400, other Gupshup callback types acknowledged;
- the assistant's answers as Gupshup session messages to 91 + sender: status of a known
  customer (id, first name, status), the error text for an unknown number or someone else's id,
  fallback, help (with the configured support phone), unsupported (media; a caption is not a
  command), an application id inside a sentence (the older of two applications), "status" right
  after it (the same application), a Meta-format message;
- redelivery: the same item twice -> 200 both times, stored 1 then 0, one answer;
- delivery receipts out of order (read, delivered, sent -> delivery_status stays read; every
  receipt kept; whatsapp_delivered / whatsapp_read in track_application's timeline);
- opt-out: STOP (and a Gupshup opted-out user event) suppresses the lead confirmation (outbox
  status `suppressed`, nothing reaches Gupshup) until START / opted-in; the customer's phone
  number is not stored in plaintext;
- the abuse guard (LEADGATE_ASSISTANT_MAX_REPLIES) with opt-out confirmations still sent;
- an event whose processing was cut short by SIGKILL is answered exactly once after a restart;
- the webhook metrics (duplicates, rejections by reason).

One service per class; every test uses its own customers (random mobiles). The fake is reset
before each test.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_whatsapp_webhook
(and with LEADGATE_TEST_STORE=postgres LEADGATE_TEST_PG_URL=... for the PostgreSQL store)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import string
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from harness import (
    PARTNER_CREDENTIALS, WEBHOOK_VERIFY_TOKEN, FakePartners, Leadgate, LeadgateTestCase,
    accepted, http_request_raw, metric_samples, random_mobile, session_calls_for,
    template_calls_for, valid_lead, wait_until,
)

WEBHOOK = "/api_v1/whatsapp/webhook"
LEAD_STATUS = "/api_v1/lead_status"
TRACK = "/api_v1/track_application"
CREATE_FBB = "CreateFBBByBasicUser"
APP_STATUS = "GetApplicationStatus"

GUPSHUP_TOKEN = "gs-webhook-token-" + uuid.uuid4().hex  # >= 16 characters
META_SECRET = "meta-app-secret-" + uuid.uuid4().hex
ORBIT_APP = "OrbitLoans"
ORBIT_NUMBER = PARTNER_CREDENTIALS["orbit"]["GUPSHUP_SOURCE"]  # Meta display_phone_number
SUPPORT_PHONE = "1800-200-3000"
SUPPORT_EMAIL = "care@orbit.example.in"

SERVICE_ENV = {
    "LEADGATE_GUPSHUP_WEBHOOK_TOKEN": GUPSHUP_TOKEN,
    "LEADGATE_META_APP_SECRET": META_SECRET,
    "LEADGATE_ORBIT_GUPSHUP_APP_NAME": ORBIT_APP,
    "LEADGATE_ORBIT_SUPPORT_PHONE": SUPPORT_PHONE,
    "LEADGATE_ORBIT_SUPPORT_EMAIL": SUPPORT_EMAIL,
    "LEADGATE_STATUS_TIMEOUT_MS": "1500",
    "LEADGATE_STATUS_ATTEMPTS": "1",
    "LEADGATE_BASIC_APP_ATTEMPTS": "1",
    "LEADGATE_INBOX_POLL_MS": "100",
}

# The default reply texts (src/domain/assistant_replies.cpp) filled for orbit.
ERROR_TEXT = ("Sorry, we could not find a loan application for this WhatsApp number. If you "
              "applied with another number, reply with your application ID (for example "
              f"B002BJF), or call us on {SUPPORT_PHONE}.")
FALLBACK_TEXT = ("Sorry, I did not understand that. Reply 'status' to check your loan application "
                 "or 'help' to reach Orbit support.")
UNSUPPORTED_TEXT = ("Sorry, I can only read text messages. Reply 'status' to check your loan "
                    "application or 'help' to reach Orbit support.")
OPT_OUT_TEXT = ("You will no longer receive WhatsApp updates from Orbit. Reply START to subscribe "
                "again.")
OPT_IN_TEXT = ("Welcome back! You will receive WhatsApp updates from Orbit again. Reply STOP to "
               "unsubscribe.")

_used_bids: set[str] = set()


def new_bid() -> str:
    """A basic_application_id as the LOS issues them ("B" + 6), always with a digit (the
    assistant only reads "B" + 6 letters/digits with at least one digit as an id)."""
    while True:
        chars = [random.choice(string.digits)] + random.choices(
            string.ascii_uppercase + string.digits, k=5)
        random.shuffle(chars)
        bid = "B" + "".join(chars)
        if bid not in _used_bids:
            _used_bids.add(bid)
            return bid


# --------------------------------------------------------------------------- callback bodies


def now_ms() -> int:
    return int(time.time() * 1000)


def gupshup_message(mobile: str, text: str | None = "What is my loan status?",
                    msg_type: str = "text", msg_id: str | None = None, app: str = ORBIT_APP,
                    payload: dict | None = None) -> dict:
    """A Gupshup v2 inbound message callback from 91 + mobile."""
    if payload is None:
        payload = {"text": text}
    return {
        "app": app,
        "timestamp": now_ms(),
        "version": 2,
        "type": "message",
        "payload": {
            "id": msg_id or "ABEG" + uuid.uuid4().hex,
            "source": "91" + mobile,
            "type": msg_type,
            "payload": payload,
            "sender": {"phone": "91" + mobile, "name": "Customer", "country_code": "91",
                       "dial_code": mobile},
        },
    }


def gupshup_message_event(message_id: str, status: str, mobile: str, ts_s: int,
                          app: str = ORBIT_APP) -> dict:
    """A Gupshup v2 message-event (delivery receipt) for the message Gupshup accepted as
    message_id (gsId; payload.id carries WhatsApp's own id for sent/delivered/read)."""
    return {
        "app": app,
        "timestamp": ts_s * 1000 + 500,
        "version": 2,
        "type": "message-event",
        "payload": {
            "id": "gBEG" + uuid.uuid4().hex,
            "gsId": message_id,
            "type": status,
            "destination": "91" + mobile,
            "payload": {"ts": ts_s},
        },
    }


def gupshup_user_event(mobile: str, kind: str, app: str = ORBIT_APP) -> dict:
    return {"app": app, "timestamp": now_ms(), "version": 2, "type": "user-event",
            "payload": {"phone": "91" + mobile, "type": kind}}


def meta_message(mobile: str, text: str, msg_id: str | None = None,
                 business_number: str = ORBIT_NUMBER) -> dict:
    """A Meta Cloud API notification with one inbound text message from 91 + mobile."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": business_number,
                                 "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": "Customer"}, "wa_id": "91" + mobile}],
                    "messages": [{
                        "from": "91" + mobile,
                        "id": msg_id or "wamid." + uuid.uuid4().hex,
                        "timestamp": str(int(time.time())),
                        "type": "text",
                        "text": {"body": text},
                    }],
                },
            }],
        }],
    }


def meta_signature(raw: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- base class


class WebhookTestCase(LeadgateTestCase):
    """One fake + service per class (SERVICE_ENV plus the class's EXTRA_ENV)."""

    EXTRA_ENV: dict = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env={**SERVICE_ENV, **cls.EXTRA_ENV})
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("webhook-tests", ("orbit", "homfinity"))

    def setUp(self):
        self.fake.reset()

    # ---- posting callbacks

    def post_gupshup(self, body, token: str | None = GUPSHUP_TOKEN, header: bool = False,
                     expect: int | None = 200):
        """POST a Gupshup callback (token in the path, or in X-Webhook-Token with header=True)."""
        headers = {}
        path = WEBHOOK
        if token is not None:
            if header:
                headers["X-Webhook-Token"] = token
            else:
                path = f"{WEBHOOK}/{token}"
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        response = self.lg.request("POST", path, headers={"Content-Type": "application/json",
                                                          **headers}, raw_body=raw)
        if expect is not None:
            self.assertEqual(response[0], expect, response)
            if expect == 200:
                self.assertIs(response[2].get("success"), True, response)
        return response

    def post_meta(self, body, signature: str | None = "auto", expect: int | None = 200):
        """POST a Meta notification; signature "auto" signs the exact bytes sent."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            headers["X-Hub-Signature-256"] = meta_signature(raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = self.lg.request("POST", WEBHOOK, headers=headers, raw_body=raw)
        if expect is not None:
            self.assertEqual(response[0], expect, response)
        return response

    def say(self, mobile: str, text: str, **kwargs) -> dict:
        """The customer sends a text over Gupshup; returns the callback body (stored 1)."""
        body = gupshup_message(mobile, text, **kwargs)
        _, _, resp = self.post_gupshup(body)
        self.assertEqual(resp.get("stored"), 1, resp)
        return body

    # ---- what came out

    def replies(self, mobile: str) -> list[str]:
        """Texts of the session messages the fake Gupshup accepted for 91 + mobile."""
        out = []
        for c in accepted(session_calls_for(self.fake, mobile)):
            message = c.get("message") or {}
            self.assertEqual(message.get("type"), "text", c)
            out.append(message.get("text"))
        return out

    def wait_replies(self, mobile: str, count: int, timeout: float = 15.0) -> list[str]:
        wait_until(lambda: len(self.replies(mobile)) >= count, timeout,
                   message=f"expected {count} WhatsApp repl(ies) to {mobile}, got "
                           f"{self.replies(mobile)}\n" + self.lg.log_tail(30))
        return self.replies(mobile)

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the inbox and the outbox have nothing left to do."""
        def idle():
            # A reply is queued in the transaction that marks its inbox event done, and an outbox
            # row stays pending until the provider answered: nothing pending = everything sent.
            busy = self.lg.db_query(
                "SELECT (SELECT count(*) FROM whatsapp_inbox WHERE state = 'pending') + "
                "(SELECT count(*) FROM outbox WHERE status = 'pending')")[0][0]
            return busy == 0
        wait_until(idle, timeout, interval=0.1,
                   message="inbox/outbox still busy\n" + self.lg.log_tail(30))

    def exactly_replies(self, mobile: str, count: int) -> list[str]:
        """Wait for count replies, let everything settle, and assert there are no more."""
        self.wait_replies(mobile, count)
        self.settle()
        texts = self.replies(mobile)
        self.assertEqual(len(texts), count, texts)
        return texts

    def inbox_state(self, provider: str, event_id: str):
        rows = self.lg.db_query(
            "SELECT state FROM whatsapp_inbox WHERE provider = ? AND event_id = ?",
            (provider, event_id))
        return rows[0][0] if rows else None

    def wait_inbox_done(self, provider: str, event_id: str, timeout: float = 15.0) -> None:
        wait_until(lambda: self.inbox_state(provider, event_id) == "done", timeout,
                   message=f"inbox event {event_id} not done: "
                           f"{self.inbox_state(provider, event_id)}\n" + self.lg.log_tail(30))

    # ---- leads

    def create(self, mobile: str | None = None, loan_type: str = "HL", first_name: str = "Kavya",
               status: str = "Under Review", same_as: dict | None = None, **overrides):
        """create_lead (200) with a LOS id containing a digit; returns (lead, response body)."""
        bid = new_bid()
        self.fake.script(CREATE_FBB, [{"status": 200, "body": {
            "success": True, "data": {"basic_application_id": bid,
                                      "applicationId": str(uuid.uuid4())}}}])
        fields = {"firstName": first_name, "loanType": loan_type}
        if same_as is not None:
            fields.update(mobile=same_as["mobile"], pan=same_as["pan"], email=same_as["email"],
                          lastName=same_as["lastName"])
        if mobile is not None:
            fields["mobile"] = mobile
        if loan_type == "PL":
            fields.update(loanAmountReq=500000, loanTenure=60)
        fields.update(overrides)
        lead = valid_lead(**fields)
        code, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(code, 200, body)
        self.assertEqual(body.get("basic_application_id"), bid, body)
        if status is not None:
            self.fake.set_status(bid, status)
        return lead, body

    def outbox_rows(self, reference_id: str, kind: str = "whatsapp_template"):
        return self.lg.db_query(
            "SELECT id, status, provider_message_id, delivery_status FROM outbox "
            "WHERE lead_ref = ? AND kind = ? ORDER BY id", (reference_id, kind))

    def confirmation_sent(self, lead, created) -> tuple[int, str]:
        """Wait for the lead confirmation to reach the fake; returns (outbox id, messageId)."""
        calls = wait_until(lambda: accepted(template_calls_for(self.fake, lead["mobile"])), 15,
                           message="lead confirmation not sent")
        self.assertEqual(len(calls), 1, calls)
        message_id = calls[0]["message_id"]
        rows = wait_until(lambda: [r for r in self.outbox_rows(created["reference_id"])
                                   if r[2] == message_id], 10,
                          message="outbox row without the provider message id")
        return rows[0][0], message_id

    def delivery_status(self, outbox_id: int) -> str:
        return self.lg.db_query("SELECT delivery_status FROM outbox WHERE id = ?",
                                (outbox_id,))[0][0]

    def metrics(self) -> dict[str, float]:
        return metric_samples(self.lg.metrics_text())


# --------------------------------------------------------------------------- handshake + auth


class WebhookFrontDoorTest(WebhookTestCase):
    """GET handshake, intake authentication and body checks."""

    def get(self, params: dict):
        return http_request_raw(self.lg.host, self.lg.port, "GET",
                                WEBHOOK + "?" + urlencode(params))

    def test_handshake_dotted_and_underscore(self):
        for prefix in ("hub.", "hub_"):
            challenge = "ch-" + uuid.uuid4().hex[:12] + "_1158201444"
            status, headers, data = self.get({prefix + "mode": "subscribe",
                                              prefix + "verify_token": WEBHOOK_VERIFY_TOKEN,
                                              prefix + "challenge": challenge})
            self.assertEqual(status, 200, (prefix, data))
            self.assertEqual(data, challenge.encode(), prefix)
            self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)

    def test_handshake_wrong_token_or_mode_is_403(self):
        good = {"hub.mode": "subscribe", "hub.verify_token": WEBHOOK_VERIFY_TOKEN,
                "hub.challenge": "12345"}
        for label, params in (
                ("wrong token", dict(good, **{"hub.verify_token": WEBHOOK_VERIFY_TOKEN + "x"})),
                ("empty token", dict(good, **{"hub.verify_token": ""})),
                ("no token", {k: v for k, v in good.items() if k != "hub.verify_token"}),
                ("wrong mode", dict(good, **{"hub.mode": "unsubscribe"})),
                ("no mode", {k: v for k, v in good.items() if k != "hub.mode"}),
                ("underscore wrong token", {"hub_mode": "subscribe", "hub_verify_token": "nope",
                                            "hub_challenge": "1"})):
            with self.subTest(label):
                response = self.lg.request("GET", WEBHOOK + "?" + urlencode(params))
                body = self.assertProblem(response, 403, "VERIFICATION_FAILED")
                # (the random request_id may hold any five digits)
                echoed = {k: v for k, v in body.items() if k != "request_id"}
                self.assertNotIn("12345", json.dumps(echoed))

    def test_gupshup_token_missing_or_wrong_is_401_and_not_stored(self):
        mobile = random_mobile()
        body = gupshup_message(mobile, "status")
        msg_id = body["payload"]["id"]
        self.assertProblem(self.post_gupshup(body, token=None, expect=None), 401,
                           "UNAUTHENTICATED")
        for wrong in (GUPSHUP_TOKEN[:-1] + ("x" if GUPSHUP_TOKEN[-1] != "x" else "y"),
                      GUPSHUP_TOKEN + "0", "short"):
            with self.subTest(wrong=wrong):
                self.assertProblem(self.post_gupshup(body, token=wrong, expect=None), 401,
                                   "UNAUTHENTICATED")
                self.assertProblem(self.post_gupshup(body, token=wrong, header=True, expect=None),
                                   401, "UNAUTHENTICATED")
        self.assertIsNone(self.inbox_state("gupshup", "gupshup:message:" + msg_id))
        # The right token in the header works.
        _, _, resp = self.post_gupshup(body, header=True)
        self.assertEqual(resp, {"success": True, "stored": 1})
        self.assertIsNotNone(self.inbox_state("gupshup", "gupshup:message:" + msg_id))
        self.wait_replies(mobile, 1)

    def test_meta_wrong_or_missing_signature_is_401_and_nothing_stored(self):
        mobile = random_mobile()
        body = meta_message(mobile, "status")
        msg_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        raw = json.dumps(body).encode()
        for label, sig in (
                ("unsigned", None),
                ("wrong secret", meta_signature(raw, META_SECRET + "x")),
                ("other body", meta_signature(raw + b" ")),
                ("no prefix", meta_signature(raw)[len("sha256="):]),
                ("sha1 prefix", "sha1=" + meta_signature(raw)[len("sha256="):]),
                ("empty", "")):
            with self.subTest(label):
                self.assertProblem(self.post_meta(raw, signature=sig, expect=None), 401,
                                   "UNAUTHENTICATED")
        rows = self.lg.db_query("SELECT count(*) FROM whatsapp_inbox WHERE event_id = ?",
                                ("meta:message:" + msg_id,))
        self.assertEqual(rows[0][0], 0)
        self.assertEqual(self.replies(mobile), [])
        # The Gupshup token does not stand in for a Meta signature.
        self.assertProblem(self.post_gupshup(raw, expect=None), 401, "UNAUTHENTICATED")
        self.assertEqual(self.lg.db_query(
            "SELECT count(*) FROM whatsapp_inbox WHERE event_id = ?",
            ("meta:message:" + msg_id,))[0][0], 0)

    def test_path_token_not_in_metrics_or_logs(self):
        mobile = random_mobile()
        self.say(mobile, "hello there")
        self.post_gupshup(gupshup_message(mobile), token=GUPSHUP_TOKEN[:-2] + "zz", expect=401)
        self.wait_replies(mobile, 1)
        text = self.lg.metrics_text()
        self.assertNotIn(GUPSHUP_TOKEN[:-2], text)
        self.assertRegex(text, r'(?m)^leadgate_http_request_duration_seconds_count\{route="/api_v1/'
                               r'whatsapp/webhook"[,}]')
        self.assertNotIn(GUPSHUP_TOKEN[:-2], self.lg.log_text(), "webhook token in the logs")

    def test_malformed_bodies_are_400(self):
        for label, raw in (("not json", "{not json"), ("empty", ""),
                           ("json array", "[]"),
                           ("array of callbacks", json.dumps([gupshup_message(random_mobile())])),
                           ("string", '"hello"'), ("number", "42"),
                           ("unknown shape", json.dumps({"hello": "world"})),
                           ("meta object of another kind", json.dumps({"object": "page",
                                                                        "entry": []})),
                           ("gupshup unknown type", json.dumps({"app": ORBIT_APP, "version": 2,
                                                                 "type": "nonsense",
                                                                 "payload": {}})),
                           ("gupshup message without id", json.dumps(
                               {"app": ORBIT_APP, "version": 2, "type": "message",
                                "timestamp": now_ms(),
                                "payload": {"source": "919876543210", "type": "text",
                                            "payload": {"text": "hi"}}}))):
            with self.subTest(label):
                response = self.post_gupshup(raw, expect=None)
                self.assertProblem(response, 400, "MALFORMED_WEBHOOK")

    def test_other_gupshup_types_are_acknowledged(self):
        body = {"app": ORBIT_APP, "timestamp": now_ms(), "version": 2, "type": "billing-event",
                "payload": {"deductions": {"type": "service", "model": "CBP"}}}
        _, _, resp = self.post_gupshup(body)
        self.assertEqual(resp.get("stored"), 0, resp)


# --------------------------------------------------------------------------- the assistant


class AssistantRepliesTest(WebhookTestCase):
    """Inbound messages answered with Gupshup session messages."""

    def test_status_question_from_known_customer(self):
        lead, created = self.create(first_name="Kavya")
        bid, mobile = created["basic_application_id"], lead["mobile"]
        self.say(mobile, "What is my loan status?")
        [text] = self.exactly_replies(mobile, 1)
        self.assertIn(bid, text)
        self.assertIn("Kavya", text)
        self.assertIn("under review", text)
        self.assertIn("home loan", text)
        # The reply went to the customer's number from the orbit business number.
        [call] = accepted(session_calls_for(self.fake, mobile))
        self.assertEqual(call["form"].get("source"), ORBIT_NUMBER, call["form"])
        self.assertEqual(call["form"].get("src.name"), ORBIT_APP, call["form"])
        # The status was asked live.
        self.assertTrue([c for c in self.fake.calls(APP_STATUS)
                         if c["query"].get("basic_application_id") == bid])

    def test_status_question_from_unknown_number_gets_error_text(self):
        mobile = random_mobile()
        self.say(mobile, "What is my loan status?")
        self.assertEqual(self.exactly_replies(mobile, 1), [ERROR_TEXT])

    def test_gibberish_gets_fallback(self):
        mobile = random_mobile()
        self.say(mobile, "zxqv plmok")
        self.assertEqual(self.exactly_replies(mobile, 1), [FALLBACK_TEXT])

    def test_help_names_support_phone(self):
        lead, _ = self.create()
        self.say(lead["mobile"], "help")
        [text] = self.exactly_replies(lead["mobile"], 1)
        self.assertIn(SUPPORT_PHONE, text)
        self.assertIn(SUPPORT_EMAIL, text)
        self.assertIn("Orbit", text)

    def test_image_gets_unsupported_text_and_caption_is_not_a_command(self):
        lead, _ = self.create()
        mobile = lead["mobile"]
        body = gupshup_message(mobile, msg_type="image", payload={
            "url": "https://filemanager.gupshup.io/wa/image.jpg", "caption": "status",
            "contentType": "image/jpeg", "urlExpiry": 1764086400000})
        _, _, resp = self.post_gupshup(body)
        self.assertEqual(resp.get("stored"), 1, resp)
        self.assertEqual(self.exactly_replies(mobile, 1), [UNSUPPORTED_TEXT])

    def test_application_id_in_sentence_then_bare_status(self):
        hl, hl_created = self.create(loan_type="HL", first_name="Ritika")
        time.sleep(0.05)
        pl, pl_created = self.create(loan_type="PL", same_as=hl, first_name="Ritika",
                                     status="Documents Pending")
        hl_bid, pl_bid = hl_created["basic_application_id"], pl_created["basic_application_id"]
        mobile = hl["mobile"]
        # Sanity: the PL is the newest (what "status" alone would answer without context).
        code, _, data = self.lg.request("POST", LEAD_STATUS, {"environment": "orbit",
                                                              "mobile_number": mobile},
                                        api_key=self.key)
        self.assertEqual(code, 200, data)
        self.assertEqual(data["data"]["basic_application_id"], pl_bid, data)
        self.fake.reset()
        self.fake.set_status(hl_bid, "Under Review")
        self.fake.set_status(pl_bid, "Documents Pending")

        self.say(mobile, f"hi, what happened to my application {hl_bid.lower()} please?")
        [first] = self.wait_replies(mobile, 1)
        self.assertIn(hl_bid, first)
        self.assertNotIn(pl_bid, first)
        self.assertIn("Ritika", first)
        self.assertIn("under review", first)
        self.say(mobile, "status")
        texts = self.exactly_replies(mobile, 2)
        self.assertIn(hl_bid, texts[1], texts)
        self.assertNotIn(pl_bid, texts[1], texts)
        self.assertIn("under review", texts[1], texts)

    def test_bare_status_answers_newest_application(self):
        hl, _ = self.create(loan_type="HL")
        time.sleep(0.05)
        _, pl_created = self.create(loan_type="PL", same_as=hl, status="Documents Pending")
        self.say(hl["mobile"], "status")
        [text] = self.exactly_replies(hl["mobile"], 1)
        self.assertIn(pl_created["basic_application_id"], text)

    def test_someone_elses_application_id_gets_error_text(self):
        _, other_created = self.create(first_name="Zubin")
        lead, _ = self.create(first_name="Kavya")
        self.say(lead["mobile"], f"status of {other_created['basic_application_id']}")
        [text] = self.exactly_replies(lead["mobile"], 1)
        self.assertEqual(text, ERROR_TEXT)
        self.assertNotIn("Zubin", text)

    def test_message_for_unknown_app_is_kept_not_answered(self):
        lead, _ = self.create()
        body = self.say(lead["mobile"], "status", app="SomeoneElsesApp")
        self.settle()
        time.sleep(0.3)
        self.assertEqual(self.replies(lead["mobile"]), [])
        self.assertEqual(self.inbox_state("gupshup", "gupshup:message:" + body["payload"]["id"]),
                         "done")
        # A sender that is not an Indian mobile: kept, not answered.
        foreign = gupshup_message("x", "status")
        foreign["payload"]["source"] = foreign["payload"]["sender"]["phone"] = "14155550123"
        _, _, resp = self.post_gupshup(foreign)
        self.assertEqual(resp.get("stored"), 1, resp)
        self.settle()
        time.sleep(0.3)
        self.assertEqual([c for c in self.fake.calls("gupshup") if c.get("kind") == "message"], [])

    def test_redelivered_message_is_answered_once(self):
        lead, _ = self.create()
        mobile = lead["mobile"]
        body = gupshup_message(mobile, "What is my loan status?")
        _, _, first = self.post_gupshup(body)
        _, _, second = self.post_gupshup(body)
        self.assertEqual(first, {"success": True, "stored": 1})
        self.assertEqual(second, {"success": True, "stored": 0})
        self.exactly_replies(mobile, 1)
        # Again after it was processed.
        _, _, third = self.post_gupshup(body, header=True)
        self.assertEqual(third, {"success": True, "stored": 0})
        self.settle()
        time.sleep(0.3)
        self.assertEqual(len(self.replies(mobile)), 1)
        self.assertEqual(self.lg.db_query(
            "SELECT count(*) FROM whatsapp_inbox WHERE event_id = ?",
            ("gupshup:message:" + body["payload"]["id"],))[0][0], 1)

    def test_concurrent_callbacks_and_redeliveries_are_each_stored_once(self):
        """Callbacks arriving together are stored by one group commit: every callback still
        learns which of its own items were new, a message delivered three times at once is
        stored and answered once, and nothing is lost."""
        bodies = [gupshup_message(random_mobile(), "zxqv") for _ in range(24)]
        posts = [b for b in bodies for _ in range(3)]
        random.shuffle(posts)
        with ThreadPoolExecutor(max_workers=24) as pool:
            results = list(pool.map(lambda b: (b["payload"]["id"], self.post_gupshup(b)), posts))
        stored: dict[str, list[int]] = {}
        for message_id, (status, _, body) in results:
            self.assertEqual(status, 200, body)
            stored.setdefault(message_id, []).append(body["stored"])
        for message_id, counts in stored.items():
            self.assertEqual(sorted(counts), [0, 0, 1], message_id)
        ids = ["gupshup:message:" + b["payload"]["id"] for b in bodies]
        rows = self.lg.db_query(
            "SELECT count(*) FROM whatsapp_inbox WHERE event_id IN (%s)" % ",".join("?" * len(ids)),
            tuple(ids))
        self.assertEqual(rows[0][0], len(bodies))
        for b in bodies:
            self.exactly_replies(b["payload"]["source"][2:], 1)

    def test_meta_signed_message_is_answered(self):
        lead, created = self.create(first_name="Farhan")
        mobile = lead["mobile"]
        body = meta_message(mobile, "status " + created["basic_application_id"])
        _, _, resp = self.post_meta(body)
        self.assertEqual(resp, {"success": True, "stored": 1})
        [text] = self.exactly_replies(mobile, 1)
        self.assertIn(created["basic_application_id"], text)
        self.assertIn("Farhan", text)
        # Redelivered by Meta: acknowledged, not stored again.
        _, _, again = self.post_meta(body)
        self.assertEqual(again, {"success": True, "stored": 0})

    def test_status_when_partner_down_uses_stored_status(self):
        lead, created = self.create(first_name="Meher")
        self.fake.script(APP_STATUS, [{"status": 500}, {"status": 500}])
        self.say(lead["mobile"], "where is my loan?")
        [text] = self.exactly_replies(lead["mobile"], 1)
        self.assertIn(created["basic_application_id"], text)
        self.assertIn("Meher", text)
        # Never asked before: the status derived from the lead (docs: "Application Created").
        self.assertIn("application created", text.lower())

    def test_conversation_in_timeline_without_text(self):
        lead, created = self.create(first_name="Tanvi")
        mobile, bid = lead["mobile"], created["basic_application_id"]
        question = "What is my loan status? ref quokka-" + uuid.uuid4().hex[:6]
        self.say(mobile, question)
        [reply] = self.exactly_replies(mobile, 1)
        code, _, body = self.lg.request("POST", TRACK, {"environment": "orbit",
                                                        "mobile_number": mobile},
                                        api_key=self.key)
        self.assertEqual(code, 200, body)
        timeline = body["data"]["application_timeline"]
        received = [e for e in timeline if e["event"] == "whatsapp_received"]
        self.assertEqual(len(received), 1, timeline)
        self.assertEqual(received[0].get("source"), "whatsapp", received)
        self.assertEqual(received[0]["details"].get("classification"), "status", received)
        self.assertEqual(received[0]["details"].get("application_id"), bid, received)
        listing = json.dumps([(e["event"], e["source"], e.get("details")) for e in timeline])
        # The status reply is an outbox message of this application: shown once, as sent, with
        # its purpose (not as a second, whatsapp_reply, event).
        sent = [e for e in timeline if e["event"] == "whatsapp_sent"
                and e["details"].get("purpose") == "assistant_reply"]
        self.assertEqual(len(sent), 1, listing)
        self.assertEqual([e for e in timeline if e["event"] == "whatsapp_reply"], [], listing)
        # A reply about no application in particular (fallback) is a whatsapp_reply event.
        self.say(mobile, "zxqv quokka")
        self.exactly_replies(mobile, 2)
        code, _, body = self.lg.request("POST", TRACK, {"environment": "orbit",
                                                        "mobile_number": mobile},
                                        api_key=self.key)
        timeline = body["data"]["application_timeline"]
        listing = json.dumps([(e["event"], e["source"], e.get("details")) for e in timeline])
        replies = [e for e in timeline if e["event"] == "whatsapp_reply"]
        self.assertEqual(len(replies), 1, listing)
        self.assertEqual(replies[0]["details"].get("reply"), "fallback", listing)
        self.assertEqual(replies[0].get("source"), "whatsapp", listing)
        received = [e["details"].get("classification") for e in timeline
                    if e["event"] == "whatsapp_received"]
        self.assertEqual(received, ["status", "fallback"], listing)
        dumped = json.dumps(timeline)
        self.assertNotIn("quokka", dumped)
        self.assertNotIn(reply[:30], dumped)
        self.assertNotIn("did not understand", dumped)

    def test_meta_batch_with_several_items(self):
        lead_a, created_a = self.create(first_name="Aarav")
        lead_b, created_b = self.create(first_name="Bhavna")
        outbox_a, message_a = self.confirmation_sent(lead_a, created_a)
        body = meta_message(lead_a["mobile"], "status")
        value = body["entry"][0]["changes"][0]["value"]
        value["messages"].append(meta_message(lead_b["mobile"], "help")["entry"][0]["changes"][0]
                                 ["value"]["messages"][0])
        value["statuses"] = [{"id": message_a, "status": "delivered",
                              "timestamp": str(int(time.time())),
                              "recipient_id": "91" + lead_a["mobile"]}]
        # A second entry with one more message for customer B.
        second = meta_message(lead_b["mobile"], "status")["entry"][0]
        body["entry"].append(second)
        _, _, resp = self.post_meta(body)
        self.assertEqual(resp, {"success": True, "stored": 4})
        [a_text] = self.wait_replies(lead_a["mobile"], 1)
        self.assertIn(created_a["basic_application_id"], a_text)
        b_texts = self.exactly_replies(lead_b["mobile"], 2)
        self.assertTrue(any(SUPPORT_PHONE in t for t in b_texts), b_texts)
        self.assertTrue(any(created_b["basic_application_id"] in t for t in b_texts), b_texts)
        wait_until(lambda: self.delivery_status(outbox_a) == "delivered", 10,
                   message="Meta delivered status not applied")
        _, _, again = self.post_meta(body)
        self.assertEqual(again, {"success": True, "stored": 0})

    def test_metrics_count_duplicates_and_signature_rejections(self):
        mobile = random_mobile()
        body = gupshup_message(mobile, "zxqv")
        self.post_gupshup(body)
        self.post_gupshup(body)
        raw = json.dumps(meta_message(mobile, "status")).encode()
        self.post_meta(raw, signature=meta_signature(raw, "not-the-secret"), expect=401)
        self.post_gupshup(body, token="wrong-token-0123456789", expect=401)
        samples = self.metrics()
        dup = {k: v for k, v in samples.items()
               if k.startswith("leadgate_webhook_duplicates_total")}
        self.assertGreaterEqual(dup.get('leadgate_webhook_duplicates_total{provider="gupshup"}',
                                        0), 1, dup)
        rejected = {k: v for k, v in samples.items()
                    if k.startswith("leadgate_webhook_rejected_total")}
        self.assertGreaterEqual(rejected.get('leadgate_webhook_rejected_total{reason="signature"}',
                                             0), 1, rejected)
        self.assertGreaterEqual(rejected.get('leadgate_webhook_rejected_total{reason="token"}',
                                             0), 1, rejected)
        events = [k for k in samples if k.startswith("leadgate_webhook_events_total")]
        self.assertTrue(events, sorted(samples)[:50])
        self.exactly_replies(mobile, 1)
        samples = self.metrics()
        self.assertTrue([k for k in samples if k.startswith("leadgate_whatsapp_replies_total")
                         and 'kind="fallback"' in k], sorted(samples))
        self.assertTrue([k for k in samples if k.startswith("leadgate_whatsapp_inbound_total")],
                        sorted(samples))


# --------------------------------------------------------------------------- receipts, opt-out


class ReceiptsAndOptOutTest(WebhookTestCase):

    def test_receipts_out_of_order_end_at_read(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        outbox_id, message_id = self.confirmation_sent(lead, created)
        base = int(time.time())
        for status, ts in (("read", base + 30), ("delivered", base + 20), ("sent", base + 10)):
            with self.subTest(status):
                event = gupshup_message_event(message_id, status, mobile, ts)
                _, _, resp = self.post_gupshup(event)
                self.assertEqual(resp.get("stored"), 1, resp)
                self.wait_inbox_done("gupshup", f"gupshup:status:{message_id}:{status}")
                self.assertEqual(self.delivery_status(outbox_id), "read")
        # A redelivered receipt is acknowledged and not stored.
        _, _, resp = self.post_gupshup(gupshup_message_event(message_id, "delivered", mobile,
                                                             base + 20))
        self.assertEqual(resp.get("stored"), 0, resp)
        # Every receipt is kept.
        self.assertEqual(self.lg.db_query(
            "SELECT count(*) FROM delivery_receipts WHERE provider_message_id = ?",
            (message_id,))[0][0], 3)
        code, _, body = self.lg.request("POST", TRACK, {"environment": "orbit",
                                                        "mobile_number": mobile},
                                        api_key=self.key)
        self.assertEqual(code, 200, body)
        timeline = body["data"]["application_timeline"]
        events = [e["event"] for e in timeline]
        self.assertIn("whatsapp_delivered", events, timeline)
        self.assertIn("whatsapp_read", events, timeline)
        self.assertLess(events.index("whatsapp_delivered"), events.index("whatsapp_read"),
                        timeline)
        for e in timeline:
            if e["event"] in ("whatsapp_delivered", "whatsapp_read"):
                self.assertEqual(e.get("source"), "whatsapp", e)
                self.assertEqual(e["details"].get("purpose"), "lead_confirmation", e)
                self.assertEqual(e["details"].get("message_id"), outbox_id, e)

    def test_receipt_for_unknown_message_is_kept_once_after_its_retries(self):
        """A receipt may overtake the record of its send, so an unmatched one is looked at again
        (twice, 2 s apart) before it is kept without an outbox row: kept once, not per look."""
        message_id = "gs-unknown-" + uuid.uuid4().hex
        _, _, resp = self.post_gupshup(gupshup_message_event(message_id, "delivered",
                                                             random_mobile(), int(time.time())))
        self.assertEqual(resp.get("stored"), 1, resp)
        event_id = f"gupshup:status:{message_id}:delivered"
        self.wait_inbox_done("gupshup", event_id)
        rows = self.lg.db_query(
            "SELECT attempts, last_error FROM whatsapp_inbox WHERE provider = 'gupshup' AND "
            "event_id = ?", (event_id,))
        self.assertEqual(rows, [(3, "")], rows)
        self.assertEqual(self.lg.db_query(
            "SELECT count(*), min(outbox_id) FROM delivery_receipts WHERE provider_message_id = ?",
            (message_id,)), [(1, 0)])

    def test_failed_receipt(self):
        lead, created = self.create()
        mobile = lead["mobile"]
        outbox_id, message_id = self.confirmation_sent(lead, created)
        body = {"app": ORBIT_APP, "timestamp": now_ms(), "version": 2, "type": "message-event",
                "payload": {"id": message_id, "type": "failed", "destination": "91" + mobile,
                            "payload": {"code": 1002,
                                        "reason": "Number does not exist on WhatsApp"}}}
        self.post_gupshup(body)
        self.wait_inbox_done("gupshup", f"gupshup:status:{message_id}:failed")
        self.assertEqual(self.delivery_status(outbox_id), "failed")
        code, _, track = self.lg.request("POST", TRACK, {"environment": "orbit",
                                                         "mobile_number": mobile},
                                         api_key=self.key)
        self.assertEqual(code, 200, track)
        failed = [e for e in track["data"]["application_timeline"]
                  if e["event"] == "whatsapp_delivery_failed"]
        self.assertEqual(len(failed), 1, track["data"]["application_timeline"])
        self.assertEqual(str(failed[0]["details"].get("error_code")), "1002", failed)

    def wait_suppressed(self, created) -> int:
        rows = wait_until(lambda: [r for r in self.outbox_rows(created["reference_id"])
                                   if r[1] != "pending"], 15,
                          message="lead confirmation still pending\n" + self.lg.log_tail(30))
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1], "suppressed", rows)
        return rows[0][0]

    def notify(self, mobile: str):
        code, _, body = self.lg.request("POST", LEAD_STATUS, {"environment": "orbit",
                                                              "mobile_number": mobile,
                                                              "notify": True},
                                        api_key=self.key)
        self.assertEqual(code, 200, body)
        self.assertEqual(body["data"]["additional_details"].get("notification"), "queued", body)

    def status_updates(self, mobile: str) -> list[dict]:
        return [c for c in accepted(template_calls_for(self.fake, mobile))
                if (c.get("template") or {}).get("id") == "orbit_status_update"]

    def test_stop_suppresses_lead_confirmation_until_start(self):
        mobile = random_mobile()
        self.say(mobile, "STOP")
        self.assertEqual(self.exactly_replies(mobile, 1), [OPT_OUT_TEXT])
        lead, created = self.create(mobile=mobile)
        self.wait_suppressed(created)
        time.sleep(1.0)
        self.assertEqual(template_calls_for(self.fake, mobile), [])
        # Answers to the customer's own messages are still sent.
        self.say(mobile, "status")
        texts = self.exactly_replies(mobile, 2)
        self.assertIn(created["basic_application_id"], texts[1])
        # A status notification is suppressed too.
        self.notify(mobile)
        self.settle()
        self.assertEqual(template_calls_for(self.fake, mobile), [])
        statuses = [r[1] for r in self.lg.db_query(
            "SELECT kind, status FROM outbox WHERE lead_ref = ? ORDER BY id",
            (created["reference_id"],)) if r[0] == "whatsapp_template"]
        self.assertEqual(statuses, ["suppressed", "suppressed"])
        # START: notifications flow again.
        self.say(mobile, "START")
        self.assertEqual(self.exactly_replies(mobile, 3)[2], OPT_IN_TEXT)
        # One status message per lead per LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS: let it pass.
        self.lg.db_execute("UPDATE leads SET last_status_notified_at = 0 WHERE reference_id = ?",
                           (created["reference_id"],))
        self.notify(mobile)
        wait_until(lambda: self.status_updates(mobile), 15,
                   message="status update not sent after START")
        self.settle()
        self.assertEqual(len(template_calls_for(self.fake, mobile)), 1)

    def test_gupshup_user_event_opt_out_and_in(self):
        mobile = random_mobile()
        _, _, resp = self.post_gupshup(gupshup_user_event(mobile, "opted-out"))
        self.assertEqual(resp.get("stored"), 1, resp)
        self.settle()
        lead, created = self.create(mobile=mobile)
        self.wait_suppressed(created)
        self.assertEqual(template_calls_for(self.fake, mobile), [])
        self.assertEqual(self.replies(mobile), [])  # a user event is not answered
        time.sleep(0.01)
        _, _, resp = self.post_gupshup(gupshup_user_event(mobile, "opted-in"))
        self.assertEqual(resp.get("stored"), 1, resp)
        self.settle()
        self.notify(mobile)
        wait_until(lambda: self.status_updates(mobile), 15,
                   message="status update not sent after opted-in")

    def test_opt_out_is_per_environment_and_sentence_with_stop_is_not_opt_out(self):
        mobile = random_mobile()
        # "don't stop my application" is not an opt-out.
        self.say(mobile, "don't stop my application")
        [text] = self.exactly_replies(mobile, 1)
        self.assertNotEqual(text, OPT_OUT_TEXT)
        lead, created = self.create(mobile=mobile)
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), 15,
                   message="lead confirmation not sent")
        # STOP to orbit does not silence homfinity.
        self.say(mobile, "STOP")
        self.wait_replies(mobile, 2)
        self.fake.reset()
        _, h_created = self.create(mobile=mobile, environment="homfinity")
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), 15,
                   message="homfinity lead confirmation not sent after an orbit STOP")

    def test_otp_still_sent_to_opted_out_number(self):
        mobile = random_mobile()
        self.say(mobile, "STOP")
        self.exactly_replies(mobile, 1)
        code, _, body = self.lg.request("POST", "/api_v1/otp_send",
                                        {"environment": "orbit", "phone_number": mobile,
                                         "user_check": True}, api_key=self.key)
        self.assertEqual(code, 200, body)
        otp = [c for c in accepted(template_calls_for(self.fake, mobile))
               if (c.get("template") or {}).get("id") == "orbit_otp_authentication"]
        self.assertEqual(len(otp), 1, template_calls_for(self.fake, mobile))

    def test_phone_number_not_stored_in_plaintext(self):
        mobile = random_mobile()
        lead, created = self.create(mobile=mobile)
        self.say(mobile, "status")
        self.say(mobile, "zebra quokka pangolin")  # fallback; the text is sealed
        self.post_gupshup(gupshup_user_event(mobile, "opted-out"))
        self.post_gupshup(gupshup_user_event(mobile, "opted-in"))
        self.post_meta(meta_message(mobile, "help"))
        self.wait_replies(mobile, 3)
        self.settle()
        data = self.lg.db_bytes()
        for text in (b"quokka", b"did not understand", b"Orbit support: call"):
            self.assertNotIn(text, data, "conversation text stored in plaintext")
        needle = mobile.encode()
        snippets = []
        start = data.find(needle)
        while start >= 0 and len(snippets) < 5:
            snippets.append(data[max(0, start - 40):start + 40])
            start = data.find(needle, start + 1)
        self.assertEqual(snippets, [], "customer's mobile stored in plaintext")


# --------------------------------------------------------------------------- abuse guard


class AbuseGuardTest(WebhookTestCase):
    EXTRA_ENV = {"LEADGATE_ASSISTANT_MAX_REPLIES": "3"}

    def test_at_most_max_replies_per_sender_but_opt_out_confirmed(self):
        mobile = random_mobile()
        for text in ("hi", "hello", "status?", "anyone there", "helo"):
            self.say(mobile, text)
        self.exactly_replies(mobile, 3)
        rows = self.lg.db_query("SELECT classification FROM whatsapp_conversation "
                                "WHERE direction = 'in' ORDER BY id")
        classes = [r[0] for r in rows]
        self.assertEqual(len(classes), 5, classes)
        self.assertEqual(len([c for c in classes if c.startswith("throttled:")]), 2, classes)
        # The opt-out confirmation is always sent; another sender is not throttled.
        self.say(mobile, "STOP")
        self.assertEqual(self.exactly_replies(mobile, 4)[3], OPT_OUT_TEXT)
        other = random_mobile()
        self.say(other, "hi")
        self.exactly_replies(other, 1)


class SourceAddressTest(WebhookTestCase):
    """LEADGATE_GUPSHUP_WEBHOOK_IPS refuses other addresses; no LEADGATE_META_APP_SECRET refuses
    Meta-format bodies."""

    EXTRA_ENV = {"LEADGATE_GUPSHUP_WEBHOOK_IPS": "10.0.0.0/8, 192.168.7.7",
                 "LEADGATE_META_APP_SECRET": None}

    def test_gupshup_from_other_address_is_403_and_meta_without_secret_is_401(self):
        mobile = random_mobile()
        body = gupshup_message(mobile, "status")
        self.assertProblem(self.post_gupshup(body, expect=None), 403, "FORBIDDEN_SOURCE")
        self.assertIsNone(self.inbox_state("gupshup", "gupshup:message:" + body["payload"]["id"]))
        meta = meta_message(mobile, "status")
        self.assertProblem(self.post_meta(meta, expect=None), 401, "UNAUTHENTICATED")
        self.assertEqual(self.lg.db_query("SELECT count(*) FROM whatsapp_inbox")[0][0], 0)


# --------------------------------------------------------------------------- restart


class RestartTest(WebhookTestCase):
    """An event whose processing was cut short by SIGKILL is answered exactly once after a
    restart (its lease expires; the new instance takes it)."""

    # The kill has to land while the (4 s) status lookup is still awaited: the timeout is the
    # window for that; longer would also lengthen the inbox lease the restart has to wait out.
    EXTRA_ENV = {"LEADGATE_STATUS_TIMEOUT_MS": "1000", "LEADGATE_STATUS_ATTEMPTS": "1",
                 "LEADGATE_STATUS_RETRY_DELAY_MS": "0", "LEADGATE_INBOX_POLL_MS": "100"}

    def test_killed_during_processing_answered_once_after_restart(self):
        lead, created = self.create(first_name="Ishaan")
        bid, mobile = created["basic_application_id"], lead["mobile"]
        wait_until(lambda: accepted(template_calls_for(self.fake, mobile)), 15)
        self.fake.reset()
        self.fake.set_status(bid, "Under Review")
        self.fake.script(APP_STATUS, [{"delay_ms": 4000}])
        body = self.say(mobile, "What is my loan status?")
        event_id = "gupshup:message:" + body["payload"]["id"]
        # Kill while the status lookup is under way (the reply needs its answer or timeout).
        wait_until(lambda: self.fake.calls(APP_STATUS), 10, interval=0.005,
                   message="the status lookup did not start")
        self.lg.kill()
        self.assertEqual(self.replies(mobile), [])
        rows = self.lg.db_query("SELECT state, lease_until FROM whatsapp_inbox WHERE event_id = ?",
                                (event_id,))
        self.assertEqual(len(rows), 1, rows)
        state, lease_until = rows[0]
        self.assertEqual(state, "pending", "processed before the kill: test inconclusive")
        texts_queued = self.lg.db_query(
            "SELECT count(*) FROM outbox WHERE kind = 'whatsapp_text'")[0][0]
        self.assertEqual(texts_queued, 0)
        lease_left = (int(lease_until or 0) - now_ms()) / 1000.0
        print(f"\n[restart test] inbox lease left after the kill: {lease_left:.1f} s",
              flush=True)
        self.assertLess(lease_left, 120, "inbox lease too long to wait for in a test")
        self.lg.start()
        [text] = self.wait_replies(mobile, 1, timeout=max(lease_left, 0) + 15)
        self.assertIn(bid, text)
        self.assertIn("Ishaan", text)
        self.assertIn("under review", text)
        self.exactly_replies(mobile, 1)
        self.assertEqual(self.inbox_state("gupshup", event_id), "done")


if __name__ == "__main__":
    unittest.main()
