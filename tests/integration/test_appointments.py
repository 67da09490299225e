"""Appointments (issue 6, docs/api.md "Appointments"): the RM roster (`leadgate rm add/list`),
POST /api_v1/book_appointment, GET /api_v1/appointment_slots, POST /api_v1/cancel_appointment and
GET /api_v1/appointments/{id}.ics through the real binary and the fake partners, on either store
(LEADGATE_TEST_STORE).

Covered: the success body, the customer's and the RM's WhatsApp templates at the fake Gupshup,
strict date/time formats and calendar rules (422 naming the field), 404 for unknown / other
environment's leads, 409 INVALID_STATE / SLOT_UNAVAILABLE (next_free_slots, available_rms) /
APPOINTMENT_EXISTS / APPOINTMENT_NOT_ACTIVE / APPOINTMENT_STARTED, automatic assignment (least
booked free RM), 20 concurrent bookings of one slot with 3 RMs (exactly 3 win; the database shows
no RM booked twice for a slot), the free-slot listing, cancellation (slot free again, templates),
the .ics file (RFC 5545: CRLF, folding, UTC times), Idempotency-Key, and the per-lead limit of
bookings and cancellations in a rolling 24 h (429 RATE_LIMITED with Retry-After).

Every date is computed at run time in IST: bookable days are Monday-Saturday from tomorrow to
today + 30. Each test books on its own day so the tests of one service do not interfere.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/debug/leadgate \
         python3 -m unittest -v test_appointments
"""
from __future__ import annotations

import datetime
import json
import re
import threading
import time
import unittest
import uuid
from urllib.parse import quote

from harness import (
    PARTNER_CREDENTIALS, FakePartners, Leadgate, LeadgateTestCase, accepted, bookable_dates,
    clock_12h, ddmmyyyy, http_request_raw, ist_now, ist_slot_utc, ist_today, template_calls_for,
    valid_lead, wait_until,
)

BOOK = "/api_v1/book_appointment"
CANCEL = "/api_v1/cancel_appointment"
SLOTS = "/api_v1/appointment_slots"
LEAD_STATUS = "/api_v1/lead_status"
CREATE_FBB = "CreateFBBByBasicUser"
UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

TEMPLATES = {
    "appointment_confirmation": "it_orbit_appointment_confirmation",
    "rm_appointment": "it_orbit_rm_appointment",
    "appointment_cancelled": "it_orbit_appointment_cancelled",
    "rm_appointment_cancelled": "it_orbit_rm_appointment_cancelled",
}
SUPPORT_PHONE = "1800-200-3000"

RMS = [
    # A long location: its LOCATION line in the .ics must be folded.
    {"name": "John Smith", "phone": "9876500001",
     "location": "Andheri Branch, Ground Floor, Crystal Plaza, New Link Road, Andheri West, "
                 "Mumbai 400053"},
    {"name": "Priya Rao", "phone": "9876500002", "location": "Bandra Branch, Mumbai"},
    {"name": "Ravi Kumar", "phone": "9876500003", "location": "Powai Branch, Mumbai"},
]
RM_BY_NAME = {rm["name"]: rm for rm in RMS}
ALL_RM_NAMES = {rm["name"] for rm in RMS}
GRID = [(h, m) for h in range(10, 19) for m in (0, 30)]  # 10:00 AM ... 6:30 PM
BUSINESS_HOURS_TEXT = "Monday-Saturday 10:00 AM - 7:00 PM IST"

# A Monday-Saturday holiday inside the booking window; the tests' days skip it.
HOLIDAY = bookable_dates()[12]
DAYS = bookable_dates(exclude={HOLIDAY})

BASE_ENV = {
    "LEADGATE_ORBIT_TEMPLATES": json.dumps(TEMPLATES),
    "LEADGATE_ORBIT_SUPPORT_PHONE": SUPPORT_PHONE,
    "LEADGATE_ORBIT_HOLIDAYS": json.dumps([HOLIDAY.isoformat()]),
    "LEADGATE_BASIC_APP_ATTEMPTS": "1",
    "LEADGATE_STATUS_TIMEOUT_MS": "1000",
}


def next_sunday() -> datetime.date:
    today = ist_today()
    return today + datetime.timedelta(days=(6 - today.weekday()) or 7)


def past_open_day() -> datetime.date:
    day = ist_today() - datetime.timedelta(days=1)
    while day.weekday() == 6:
        day -= datetime.timedelta(days=1)
    return day


def beyond_window_day() -> datetime.date:
    day = ist_today() + datetime.timedelta(days=31)
    while day.weekday() == 6:
        day += datetime.timedelta(days=1)
    return day


def ics_utc(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics_unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_ics(raw: bytes):
    """(physical lines as bytes, [(NAME, params, value)] of the unfolded content lines)."""
    physical = raw.split(b"\r\n")
    text = raw.decode("utf-8")
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    props = []
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        head, _, value = line.partition(":")
        name, _, params = head.partition(";")
        props.append((name.upper(), params, value))
    return physical, props


class AppointmentTestCase(LeadgateTestCase):
    """A class-level fake + service with the RMS roster in orbit."""

    SERVICE_ENV = BASE_ENV
    ROSTER = RMS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartners(hang_timeout=10).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.lg = Leadgate(cls.fake, env=cls.SERVICE_ENV)
        cls.addClassCleanup(cls.lg.close)
        cls.lg.start()
        cls.key = cls.lg.create_api_key("appointment-tests", ("orbit", "homfinity"))
        cls.homfinity_key = cls.lg.create_api_key("appointment-homfinity", "homfinity")
        cls.rm_failures = []
        for rm in cls.ROSTER:
            result = cls.lg.run_cli("rm", "add", "--env", "orbit", "--name", rm["name"],
                                    "--phone", rm["phone"], "--location", rm["location"])
            if result.returncode != 0:
                cls.rm_failures.append((rm["name"], result.returncode, result.stdout,
                                        result.stderr))

    def setUp(self):
        self.assertEqual(self.rm_failures, [], "leadgate rm add failed")

    # ---- helpers

    def create(self, **overrides):
        lead = valid_lead(**overrides)
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 200, body)
        return lead, body

    def book(self, reference_id, day, time_text, rm_name=None, env="orbit", key=None,
             headers=None, **extra):
        body = {"environment": env, "reference_id": reference_id,
                "date": day if isinstance(day, str) else ddmmyyyy(day), "time": time_text}
        if rm_name is not None:
            body["rm_name"] = rm_name
        body.update(extra)
        return self.lg.request("POST", BOOK, body, headers=headers, api_key=key or self.key)

    def book_ok(self, reference_id, day, time_text, rm_name=None, **kw):
        status, _, body = self.book(reference_id, day, time_text, rm_name, **kw)
        self.assertEqual(status, 200, body)
        return body

    def cancel(self, appointment_id, env="orbit", key=None, **extra):
        return self.lg.request("POST", CANCEL, {"environment": env,
                                                "appointment_id": appointment_id, **extra},
                               api_key=key or self.key)

    def slots(self, day, rm_name=None, env="orbit", key=None):
        date_text = day if isinstance(day, str) else ddmmyyyy(day)
        path = f"{SLOTS}?environment={env}&date={quote(date_text)}"
        if rm_name is not None:
            path += f"&rm_name={quote(rm_name)}"
        return self.lg.request("GET", path, api_key=key or self.key)

    def ics(self, appointment_id, key=None):
        return http_request_raw(self.lg.host, self.lg.port, "GET",
                                f"/api_v1/appointments/{appointment_id}.ics",
                                {"Authorization": f"Bearer {key or self.key}"})

    def assertSubset(self, expected: dict, actual):
        """actual is a dict holding every expected member with the expected value."""
        self.assertIsInstance(actual, dict, actual)
        self.assertEqual({k: actual.get(k) for k in expected}, expected, actual)

    def field_errors(self, response):
        body = self.assertProblem(response, 422, "VALIDATION_ERROR")
        self.assertIsInstance(body.get("errors"), list, body)
        return {e.get("field"): e.get("message") for e in body["errors"]}

    def templates(self, mobile, purpose):
        return [c for c in accepted(template_calls_for(self.fake, mobile))
                if (c.get("template") or {}).get("id") == TEMPLATES[purpose]]

    def wait_template(self, mobile, purpose, mentioning=None):
        """The accepted `purpose` templates to 91+mobile (those whose params include
        `mentioning`, when given), waiting for at least one."""
        def found():
            return [c for c in self.templates(mobile, purpose)
                    if mentioning is None
                    or mentioning in [str(p) for p in (c["template"].get("params") or [])]]
        return wait_until(found, 10,
                          message=f"{purpose} to {mobile} did not reach the fake Gupshup")





    def check_ics(self, raw, appointment_id, day, hour, minute, rm_name, location, basic_id,
                  cancelled):
        self.assertTrue(raw.endswith(b"\r\n"), raw[-20:])
        physical, props = parse_ics(raw)
        for line in physical:
            self.assertNotIn(b"\n", line, "bare LF: lines must end with CRLF")
            self.assertNotIn(b"\r", line, "bare CR: lines must end with CRLF")
            self.assertLessEqual(len(line), 75, line)
        pairs = [(name, value) for name, _, value in props]
        self.assertEqual(pairs[0], ("BEGIN", "VCALENDAR"), props)
        self.assertEqual(pairs[-1], ("END", "VCALENDAR"), props)
        self.assertEqual(pairs.count(("BEGIN", "VCALENDAR")), 1, props)
        self.assertEqual(pairs.count(("BEGIN", "VEVENT")), 1, props)
        self.assertEqual(pairs.count(("END", "VEVENT")), 1, props)
        begin, end = pairs.index(("BEGIN", "VEVENT")), pairs.index(("END", "VEVENT"))
        self.assertLess(begin, end, props)
        # Calendar properties: outside the VEVENT; event properties: inside it, not nested.
        values = {}
        for name, value in pairs[1:begin] + pairs[end + 1:-1]:
            values.setdefault(name, []).append(value)
        self.assertEqual(values.get("VERSION"), ["2.0"], props)
        self.assertTrue(values.get("PRODID") and values["PRODID"][0].strip(), props)
        event, depth = {}, 0
        for name, value in pairs[begin + 1:end]:
            if name == "BEGIN":
                depth += 1
            elif name == "END":
                depth -= 1
            elif depth == 0:
                self.assertNotIn(name, event, f"{name} twice in the VEVENT")
                event[name] = value
        self.assertEqual(event.get("UID"), f"{appointment_id}@leadgate", event)
        self.assertRegex(event.get("DTSTAMP", ""), r"^\d{8}T\d{6}Z$")
        start = ist_slot_utc(day, hour, minute)
        self.assertEqual(event.get("DTSTART"), ics_utc(start), event)
        self.assertEqual(event.get("DTEND"), ics_utc(start + datetime.timedelta(minutes=30)),
                         event)
        summary = ics_unescape(event.get("SUMMARY", ""))
        self.assertIn("Orbit", summary)
        self.assertIn(rm_name, summary)
        self.assertEqual(ics_unescape(event.get("LOCATION", "")), location, event)
        description = ics_unescape(event.get("DESCRIPTION", ""))
        self.assertIn(basic_id, description)
        self.assertIn(SUPPORT_PHONE, description)
        if cancelled:
            self.assertEqual(event.get("STATUS"), "CANCELLED", event)
            self.assertEqual(values.get("METHOD"), ["CANCEL"], props)
        else:
            self.assertEqual(event.get("STATUS"), "CONFIRMED", event)
            self.assertNotEqual(values.get("METHOD"), ["CANCEL"], props)


# --------------------------------------------------------------------------- booking


class BookAppointmentTest(AppointmentTestCase):

    def test_book_success_messages_and_calendar_file(self):
        day = DAYS[0]
        lead, created = self.create(firstName="Kavya", lastName="Menon")
        john = RM_BY_NAME["John Smith"]
        # rm_name is matched case-insensitively.
        booked = self.book_ok(created["reference_id"], day, "6:00 PM", rm_name="john smith")
        self.assertIs(booked.get("success"), True, booked)
        self.assertEqual(booked.get("message"), "Appointment booked successfully", booked)
        self.assertEqual(booked.get("basic_app_id"), created["basic_application_id"], booked)
        self.assertRegex(str(booked.get("appointment_id")), UUID_RE)
        appointment_id = booked["appointment_id"]
        self.assertSubset({"date": ddmmyyyy(day), "time": "6:00 PM", "rm_name": "John Smith",
                           "location": john["location"], "duration_minutes": 30,
                           "timezone": "Asia/Kolkata"}, booked.get("appointment_details"))
        self.assertEqual(booked.get("calendar_url"), f"/api_v1/appointments/{appointment_id}.ics")

        # The customer's confirmation and the RM's notice reach the fake Gupshup.
        creds = PARTNER_CREDENTIALS["orbit"]
        customer = self.wait_template(lead["mobile"], "appointment_confirmation")[0]
        self.assertEqual(customer["form"].get("destination"), "91" + lead["mobile"])
        self.assertEqual(customer["form"].get("source"), creds["GUPSHUP_SOURCE"])
        self.assertEqual(customer["template"].get("params"),
                         ["Kavya", ddmmyyyy(day), "6:00 PM", "John Smith", john["location"]])
        rm_call = self.wait_template(john["phone"], "rm_appointment",
                                     created["basic_application_id"])[0]
        self.assertEqual(rm_call["form"].get("destination"), "91" + john["phone"])
        params = rm_call["template"].get("params")
        self.assertIsInstance(params, list, rm_call["template"])
        self.assertEqual(len(params), 6, params)
        self.assertEqual(params[0], "John Smith", params)
        self.assertEqual(params[1], "Kavya Menon", params)
        self.assertTrue(str(params[2]).endswith(lead["mobile"]), params)
        self.assertEqual(params[3:], [created["basic_application_id"], ddmmyyyy(day), "6:00 PM"],
                         params)

        # lead_status shows it.
        status, _, resp = self.lg.request("POST", LEAD_STATUS, {
            "environment": "orbit", "mobile_number": lead["mobile"]}, api_key=self.key)
        self.assertEqual(status, 200, resp)
        self.assertSubset({"appointment_id": appointment_id, "date": ddmmyyyy(day),
                           "time": "6:00 PM", "rm_name": "John Smith",
                           "location": john["location"]},
                          resp["data"]["additional_details"].get("appointment"))

        # The database row: booked, the RM, the slot in UTC milliseconds.
        rows = self.lg.db_query("SELECT a.environment, a.lead_ref, a.status, a.slot_start, "
                                "r.name FROM appointments a JOIN rms r ON r.id = a.rm_id "
                                "WHERE a.id = ?", (appointment_id,))
        self.assertEqual(rows, [("orbit", created["reference_id"], "booked",
                                 int(ist_slot_utc(day, 18).timestamp() * 1000), "John Smith")])

        # The .ics file.
        status, headers, raw = self.ics(appointment_id)
        self.assertEqual(status, 200, raw[:500])
        self.assertTrue(headers.get("content-type", "").startswith("text/calendar"), headers)
        self.check_ics(raw, appointment_id, day, 18, 0, "John Smith", john["location"],
                       created["basic_application_id"], cancelled=False)
        self.assertTrue(any(line[:1] in (b" ", b"\t") for line in raw.split(b"\r\n")),
                        "the long LOCATION line is folded")

        # 404: unknown id; a key not scoped for the appointment's environment.
        status, _, _ = self.ics(str(uuid.uuid4()))
        self.assertEqual(status, 404)
        status, _, _ = self.ics(appointment_id, key=self.homfinity_key)
        self.assertEqual(status, 404)

    def test_formats_and_calendar_rules_are_422_naming_the_field(self):
        _, created = self.create()
        ref = created["reference_id"]
        day = DAYS[9]
        good = {"environment": "orbit", "reference_id": ref, "date": ddmmyyyy(day),
                "time": "10:00 AM"}
        cases = [
            ("date", {"date": day.isoformat()}),
            ("date", {"date": day.strftime("%d/%m/%Y")}),
            ("date", {"date": f"31-02-{day.year + 1}"}),
            ("date", {"date": 20261230}),
            ("date", {"date": ddmmyyyy(next_sunday())}),
            ("date", {"date": ddmmyyyy(HOLIDAY)}),
            ("date", {"date": ddmmyyyy(past_open_day())}),
            ("date", {"date": ddmmyyyy(beyond_window_day())}),
            ("time", {"time": "18:00"}),
            ("time", {"time": "6:00PM"}),
            ("time", {"time": "6:00 pm"}),
            ("time", {"time": "6:15 PM"}),
            ("time", {"time": "8:00 AM"}),
            ("time", {"time": "7:00 PM"}),
            ("reference_id", {"reference_id": "not-a-uuid"}),
            ("rm_name", {"rm_name": "Nobody Known"}),
            ("date", {"date": None}),
            ("time", {"time": None}),
            ("reference_id", {"reference_id": None}),
        ]
        for field, change in cases:
            with self.subTest(field=field, change=change):
                body = dict(good)
                for name, value in change.items():
                    if value is None:
                        body.pop(name)
                    else:
                        body[name] = value
                response = self.lg.request("POST", BOOK, body, api_key=self.key)
                fields = self.field_errors(response)
                self.assertIn(field, fields, response[2])
        # The last bookable day is today + 30 (when it is open and not the holiday).
        last = ist_today() + datetime.timedelta(days=30)
        if last.weekday() != 6 and last != HOLIDAY:
            slots = self.slots(last)
            self.assertEqual(slots[0], 200, slots)
            self.assertEqual(len(slots[2]["slots"]), len(GRID), slots[2])
        # A slot that has already started today.
        now = ist_now()
        today = now.date()
        if today.weekday() != 6 and now.hour * 60 + now.minute > 10 * 60 + 1:
            response = self.book(ref, today, "10:00 AM")
            fields = self.field_errors(response)
            self.assertTrue({"date", "time"} & set(fields), response[2])

    def test_unknown_and_foreign_leads_are_404(self):
        day = DAYS[9]
        self.assertProblem(self.book(str(uuid.uuid4()), day, "11:00 AM"), 404, "NOT_FOUND")
        _, homfinity = self.create(environment="homfinity")
        self.assertProblem(self.book(homfinity["reference_id"], day, "11:00 AM"), 404,
                           "NOT_FOUND")
        _, orbit = self.create()
        self.assertProblem(self.book(orbit["reference_id"], day, "11:00 AM", env="homfinity"),
                           404, "NOT_FOUND")

    def test_lead_without_basic_application_id_is_invalid_state(self):
        self.fake.script(CREATE_FBB, [{"status": 400, "body": {
            "success": False, "message": "Rejected by the lender"}}])
        lead = valid_lead()
        status, _, body = self.post_lead(self.lg, lead, self.key)
        self.assertEqual(status, 400, body)
        reference_id = body.get("reference_id")
        self.assertRegex(str(reference_id), UUID_RE)
        self.assertProblem(self.book(reference_id, DAYS[9], "11:30 AM"), 409, "INVALID_STATE")

    def test_named_rm_busy_is_slot_unavailable(self):
        day = DAYS[1]
        _, first = self.create()
        self.book_ok(first["reference_id"], day, "11:00 AM", rm_name="John Smith")
        _, second = self.create()
        body = self.assertProblem(self.book(second["reference_id"], day, "11:00 AM",
                                            rm_name="John Smith"), 409, "SLOT_UNAVAILABLE")
        free = body.get("next_free_slots")
        self.assertIsInstance(free, list, body)
        self.assertTrue(1 <= len(free) <= 5, free)
        self.assertSubset({"date": ddmmyyyy(day), "time": "11:30 AM", "rm_name": "John Smith"},
                          free[0])
        self.assertTrue(all(s.get("rm_name") == "John Smith" for s in free), free)
        rms = body.get("available_rms")
        self.assertIsInstance(rms, list, body)
        self.assertEqual({r.get("name") for r in rms}, {"Priya Rao", "Ravi Kumar"}, rms)
        for r in rms:
            self.assertEqual(r.get("location"), RM_BY_NAME[r["name"]]["location"], r)
        # The loser has no appointment: it can take one of the offered slots.
        taken = self.book_ok(second["reference_id"], day, free[0]["time"], rm_name="John Smith")
        self.assertEqual(taken["appointment_details"]["rm_name"], "John Smith")

    def test_without_rm_name_the_least_booked_free_rm_is_assigned(self):
        day = DAYS[2]
        for time_text, rm in (("10:00 AM", "John Smith"), ("10:00 AM", "Priya Rao"),
                              ("10:30 AM", "John Smith")):
            _, created = self.create()
            self.book_ok(created["reference_id"], day, time_text, rm_name=rm)
        _, created = self.create()
        auto = self.book_ok(created["reference_id"], day, "11:00 AM")
        self.assertEqual(auto["appointment_details"]["rm_name"], "Ravi Kumar", auto)
        self.assertEqual(auto["appointment_details"]["location"],
                         RM_BY_NAME["Ravi Kumar"]["location"])
        # Now John has 2 that day, Priya 1, Ravi 1 (busy at 11:00): Priya.
        _, created = self.create()
        auto = self.book_ok(created["reference_id"], day, "11:00 AM")
        self.assertEqual(auto["appointment_details"]["rm_name"], "Priya Rao", auto)
        # At 10:00 only Ravi is free.
        _, created = self.create()
        auto = self.book_ok(created["reference_id"], day, "10:00 AM")
        self.assertEqual(auto["appointment_details"]["rm_name"], "Ravi Kumar", auto)

    def test_all_rms_busy_is_slot_unavailable_with_next_free_slots(self):
        day = DAYS[3]
        names = set()
        for _ in RMS:
            _, created = self.create()
            names.add(self.book_ok(created["reference_id"], day, "12:00 PM")
                      ["appointment_details"]["rm_name"])
        self.assertEqual(names, ALL_RM_NAMES)
        _, created = self.create()
        body = self.assertProblem(self.book(created["reference_id"], day, "12:00 PM"), 409,
                                  "SLOT_UNAVAILABLE")
        free = body.get("next_free_slots")
        self.assertIsInstance(free, list, body)
        self.assertTrue(1 <= len(free) <= 5, free)
        self.assertEqual((free[0].get("date"), free[0].get("time")),
                         (ddmmyyyy(day), "12:30 PM"), free)
        requested = ist_slot_utc(day, 12)
        for slot in free:
            self.assertIn(slot.get("rm_name"), ALL_RM_NAMES, slot)
            at = datetime.datetime.strptime(f"{slot['date']} {slot['time']}",
                                            "%d-%m-%Y %I:%M %p")
            self.assertGreater(ist_slot_utc(at.date(), at.hour, at.minute), requested, slot)
        self.assertEqual(body.get("available_rms"), [], body)

    def test_one_booked_appointment_per_lead(self):
        day = DAYS[4]
        _, created = self.create()
        first = self.book_ok(created["reference_id"], day, "2:00 PM", rm_name="Priya Rao")
        body = self.assertProblem(self.book(created["reference_id"], day, "3:00 PM"), 409,
                                  "APPOINTMENT_EXISTS")
        appointment = body.get("appointment")
        self.assertIsInstance(appointment, dict, body)
        self.assertEqual(appointment.get("appointment_id"), first["appointment_id"], body)

    def test_idempotency_key_replays_the_booking(self):
        day = DAYS[7]
        _, created = self.create()
        headers = {"Idempotency-Key": "book-" + uuid.uuid4().hex}
        first = self.book(created["reference_id"], day, "1:00 PM", headers=headers)
        again = self.book(created["reference_id"], day, "1:00 PM", headers=headers)
        self.assertEqual(first[0], 200, first)
        self.assertEqual(again[0], 200, again)
        self.assertEqual(again[1].get("idempotent-replayed"), "true", again[1])
        self.assertEqual(first[2], again[2])
        rows = self.lg.db_query("SELECT COUNT(*) FROM appointments WHERE lead_ref = ?",
                                (created["reference_id"],))
        self.assertEqual(rows, [(1,)])


# --------------------------------------------------------------------------- free slots


class AppointmentSlotsTest(AppointmentTestCase):

    def test_free_slots_of_a_day(self):
        day = DAYS[5]
        _, created = self.create()
        self.book_ok(created["reference_id"], day, "10:00 AM", rm_name="John Smith")
        status, _, body = self.slots(day)
        self.assertEqual(status, 200, body)
        self.assertIs(body.get("success"), True, body)
        self.assertEqual(body.get("environment"), "orbit", body)
        self.assertEqual(body.get("date"), ddmmyyyy(day), body)
        self.assertEqual(body.get("business_hours"), BUSINESS_HOURS_TEXT, body)
        self.assertEqual(body.get("slot_minutes"), 30, body)
        slots = body.get("slots")
        self.assertEqual([s.get("time") for s in slots], [clock_12h(h, m) for h, m in GRID])
        for slot in slots:
            names = {r.get("name") for r in slot.get("available_rms", [])}
            expected = ALL_RM_NAMES - {"John Smith"} if slot["time"] == "10:00 AM" \
                else ALL_RM_NAMES
            self.assertEqual(names, expected, slot)
            for r in slot["available_rms"]:
                self.assertEqual(r.get("location"), RM_BY_NAME[r["name"]]["location"], r)

        status, _, body = self.slots(day, rm_name="John Smith")
        self.assertEqual(status, 200, body)
        self.assertEqual([s.get("time") for s in body["slots"]],
                         [clock_12h(h, m) for h, m in GRID[1:]])
        for slot in body["slots"]:
            self.assertEqual([r.get("name") for r in slot["available_rms"]], ["John Smith"], slot)

    def test_days_without_slots_have_a_note(self):
        for name, day in (("sunday", next_sunday()), ("holiday", HOLIDAY),
                          ("past", past_open_day()), ("beyond", beyond_window_day())):
            with self.subTest(name):
                status, _, body = self.slots(day)
                self.assertEqual(status, 200, body)
                self.assertEqual(body.get("slots"), [], body)
                self.assertIsInstance(body.get("note"), str, body)
                self.assertTrue(body["note"].strip(), body)

    def test_malformed_date_or_unknown_rm_is_422(self):
        for bad in ("2026-12-30", "30/12/2026", "1-1-2027", ""):
            with self.subTest(date=bad):
                self.assertIn("date", self.field_errors(self.slots(bad)))
        self.assertIn("rm_name", self.field_errors(self.slots(DAYS[5], rm_name="Nobody Known")))

    def test_an_api_key_is_required(self):
        status, _, body = self.lg.request("GET", f"{SLOTS}?environment=orbit&date="
                                          f"{ddmmyyyy(DAYS[5])}")
        self.assertEqual(status, 401, body)


# --------------------------------------------------------------------------- cancelling


class CancelAppointmentTest(AppointmentTestCase):

    def test_cancel_frees_the_slot_and_notifies(self):
        day = DAYS[6]
        priya = RM_BY_NAME["Priya Rao"]
        lead, created = self.create(firstName="Rahul", lastName="Nair")
        booked = self.book_ok(created["reference_id"], day, "4:00 PM", rm_name="Priya Rao")
        appointment_id = booked["appointment_id"]
        self.assertIn("reason", self.field_errors(self.cancel(appointment_id, reason="x" * 201)))
        status, _, body = self.cancel(appointment_id, reason="Customer travelling")
        self.assertEqual(status, 200, body)
        self.assertIs(body.get("success"), True, body)
        self.assertEqual(body.get("message"), "Appointment cancelled successfully", body)
        self.assertEqual(body.get("appointment_id"), appointment_id, body)
        self.assertEqual(body.get("basic_app_id"), created["basic_application_id"], body)
        self.assertEqual(body.get("status"), "cancelled", body)
        details = body.get("appointment_details")
        self.assertIsInstance(details, dict, body)
        self.assertEqual((details.get("date"), details.get("time"), details.get("rm_name")),
                         (ddmmyyyy(day), "4:00 PM", "Priya Rao"), details)
        rows = self.lg.db_query("SELECT status FROM appointments WHERE id = ?", (appointment_id,))
        self.assertEqual(rows, [("cancelled",)])

        # Templates: the customer and the RM.
        customer = self.wait_template(lead["mobile"], "appointment_cancelled")[0]
        self.assertEqual(customer["form"].get("destination"), "91" + lead["mobile"])
        self.assertEqual(customer["template"].get("params"), ["Rahul", ddmmyyyy(day), "4:00 PM"])
        rm_call = self.wait_template(priya["phone"], "rm_appointment_cancelled",
                                     created["basic_application_id"])[0]
        self.assertEqual(rm_call["form"].get("destination"), "91" + priya["phone"])
        self.assertEqual(rm_call["template"].get("params"),
                         ["Priya Rao", "Rahul Nair", created["basic_application_id"],
                          ddmmyyyy(day), "4:00 PM"])

        # The .ics now says cancelled.
        status, headers, raw = self.ics(appointment_id)
        self.assertEqual(status, 200, raw[:300])
        self.assertTrue(headers.get("content-type", "").startswith("text/calendar"), headers)
        self.check_ics(raw, appointment_id, day, 16, 0, "Priya Rao",
                                      priya["location"], created["basic_application_id"],
                                      cancelled=True)

        # Cancelling again; unknown; another environment's.
        self.assertProblem(self.cancel(appointment_id), 409, "APPOINTMENT_NOT_ACTIVE")
        self.assertProblem(self.cancel(str(uuid.uuid4())), 404, "NOT_FOUND")
        _, other = self.create()
        other_booking = self.book_ok(other["reference_id"], day, "5:00 PM", rm_name="Priya Rao")
        self.assertProblem(self.cancel(other_booking["appointment_id"], env="homfinity"), 404,
                           "NOT_FOUND")

        # The slot is free again at once, for someone else; the first lead may book again.
        status, _, body = self.slots(day, rm_name="Priya Rao")
        self.assertEqual(status, 200, body)
        self.assertIn("4:00 PM", [s.get("time") for s in body["slots"]])
        _, third = self.create()
        again = self.book_ok(third["reference_id"], day, "4:00 PM", rm_name="Priya Rao")
        self.assertEqual(again["appointment_details"]["rm_name"], "Priya Rao")
        rebooked = self.book_ok(created["reference_id"], day, "4:30 PM", rm_name="Priya Rao")
        self.assertNotEqual(rebooked["appointment_id"], appointment_id)

    def test_cancel_after_the_slot_began_is_appointment_started(self):
        day = DAYS[8]
        _, created = self.create()
        booked = self.book_ok(created["reference_id"], day, "5:30 PM", rm_name="Ravi Kumar")
        started = int((time.time() - 60) * 1000)
        changed = self.lg.db_execute("UPDATE appointments SET slot_start = ? WHERE id = ?",
                                     (started, booked["appointment_id"]))
        self.assertEqual(changed, 1)
        self.assertProblem(self.cancel(booked["appointment_id"]), 409, "APPOINTMENT_STARTED")


# --------------------------------------------------------------------------- per-lead limit


class BookingLimitTest(AppointmentTestCase):
    """Its own service: LEADGATE_BOOKINGS_PER_LEAD_PER_DAY=2 (bookings, and as many
    cancellations, per lead in a rolling 24 h; counted from the stored appointments)."""

    SERVICE_ENV = {**BASE_ENV, "LEADGATE_BOOKINGS_PER_LEAD_PER_DAY": "2"}

    def assertLimited(self, response, max_seconds=86400):
        body = self.assertProblem(response, 429, "RATE_LIMITED")
        retry_after = int(response[1].get("retry-after", "0"))
        self.assertTrue(max_seconds - 120 <= retry_after <= max_seconds, response[1])
        return body

    def test_bookings_and_cancellations_per_lead_in_a_rolling_day(self):
        day = DAYS[10]
        lead, created = self.create()
        ref = created["reference_id"]
        first = self.book_ok(ref, day, "10:00 AM", rm_name="John Smith")["appointment_id"]
        self.assertEqual(self.cancel(first)[0], 200)
        second = self.book_ok(ref, day, "10:30 AM", rm_name="John Smith")["appointment_id"]
        self.assertEqual(self.cancel(second)[0], 200)
        # Two bookings in the last 24 h: a third is refused, and sends nothing.
        self.wait_template(lead["mobile"], "appointment_cancelled", "10:30 AM")
        sent = len(self.templates(lead["mobile"], "appointment_confirmation"))
        self.assertLimited(self.book(ref, day, "11:00 AM", rm_name="John Smith"))
        time.sleep(0.3)
        self.assertEqual(len(self.templates(lead["mobile"], "appointment_confirmation")), sent)
        rows = self.lg.db_query("SELECT COUNT(*) FROM appointments WHERE lead_ref = ?", (ref,))
        self.assertEqual(rows, [(2,)])
        # Another lead is not affected.
        _, other = self.create()
        self.book_ok(other["reference_id"], day, "11:00 AM", rm_name="John Smith")

        # The first booking leaves the 24 h window (moved back in the database): one more
        # booking is allowed, but its cancellation would be the third in 24 h.
        day_ms = 24 * 3600 * 1000
        moved = self.lg.db_execute("UPDATE appointments SET created_at = created_at - ? "
                                   "WHERE id = ?", (day_ms + 1000, first))
        self.assertEqual(moved, 1)
        third = self.book_ok(ref, day, "11:30 AM", rm_name="John Smith")["appointment_id"]
        self.assertLimited(self.cancel(third))
        rows = self.lg.db_query("SELECT status FROM appointments WHERE id = ?", (third,))
        self.assertEqual(rows, [("booked",)])
        # Once the first cancellation is older than 24 h too, the cancellation goes through.
        moved = self.lg.db_execute("UPDATE appointments SET cancelled_at = cancelled_at - ? "
                                   "WHERE id = ?", (day_ms + 1000, first))
        self.assertEqual(moved, 1)
        self.assertEqual(self.cancel(third)[0], 200)
        # Retry-After counts down to when the oldest counted booking leaves the window.
        moved = self.lg.db_execute("UPDATE appointments SET created_at = created_at - ? "
                                   "WHERE id = ?", (day_ms - 600_000, second))
        self.assertEqual(moved, 1)
        self.assertLimited(self.book(ref, day, "12:00 PM", rm_name="John Smith"),
                           max_seconds=600)


# --------------------------------------------------------------------------- the roster (CLI)


class RosterCliTest(AppointmentTestCase):

    def test_rm_names_are_unique_per_environment_case_insensitively(self):
        result = self.lg.run_cli("rm", "add", "--env", "orbit", "--name", "JOHN SMITH",
                                 "--phone", "9876500099", "--location", "Elsewhere")
        self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
        # The same name in the other environment is fine.
        result = self.lg.run_cli("rm", "add", "--env", "homfinity", "--name", "John Smith",
                                 "--phone", "9876500098", "--location", "Pune Branch")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        listing = self.lg.run_cli("rm", "list", "--env", "orbit")
        self.assertEqual(listing.returncode, 0, listing.stdout + listing.stderr)
        for rm in RMS:
            self.assertIn(rm["name"], listing.stdout)
        self.assertNotIn("Pune Branch", listing.stdout)


# --------------------------------------------------------------------------- concurrency


class ConcurrentBookingTest(AppointmentTestCase):
    """Its own service: exactly the 3 RMs, nothing else booked."""

    LEADS = 20

    def test_twenty_leads_race_for_one_slot_with_three_rms(self):
        day = DAYS[0]
        leads = [self.create()[1] for _ in range(self.LEADS)]
        results = [None] * self.LEADS
        barrier = threading.Barrier(self.LEADS)

        def worker(i):
            barrier.wait(timeout=30)
            results[i] = self.book(leads[i]["reference_id"], day, "10:00 AM")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(self.LEADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertTrue(all(r is not None for r in results), "a booking request did not finish")
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200] * 3 + [409] * (self.LEADS - 3),
                         [(r[0], r[2]) for r in results if r[0] not in (200, 409)])
        winners = [r[2] for r in results if r[0] == 200]
        self.assertEqual({w["appointment_details"]["rm_name"] for w in winners}, ALL_RM_NAMES)
        for r in results:
            if r[0] == 409:
                self.assertProblem(r, 409, "SLOT_UNAVAILABLE")

        slot_ms = int(ist_slot_utc(day, 10).timestamp() * 1000)
        rows = self.lg.db_query("SELECT rm_id, lead_ref FROM appointments WHERE environment = ? "
                                "AND slot_start = ? AND status = 'booked'", ("orbit", slot_ms))
        self.assertEqual(len(rows), 3, rows)
        self.assertEqual(len({r[0] for r in rows}), 3, rows)
        doubles = self.lg.db_query("SELECT rm_id, slot_start, COUNT(*) FROM appointments "
                                   "WHERE status = 'booked' GROUP BY rm_id, slot_start "
                                   "HAVING COUNT(*) > 1")
        self.assertEqual(doubles, [])

        # The same RM named by several losers at once: exactly one gets it.
        losers = [leads[i] for i, r in enumerate(results) if r[0] == 409][:8]
        named = [None] * len(losers)
        barrier2 = threading.Barrier(len(losers))

        def named_worker(i):
            barrier2.wait(timeout=30)
            named[i] = self.book(losers[i]["reference_id"], day, "11:00 AM",
                                 rm_name="Priya Rao")

        threads = [threading.Thread(target=named_worker, args=(i,)) for i in range(len(losers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(r[0] for r in named), [200] + [409] * (len(losers) - 1),
                         [(r[0], r[2]) for r in named])
        slot_ms = int(ist_slot_utc(day, 11).timestamp() * 1000)
        rows = self.lg.db_query("SELECT COUNT(*) FROM appointments WHERE slot_start = ? "
                                "AND status = 'booked'", (slot_ms,))
        self.assertEqual(rows, [(1,)])


if __name__ == "__main__":
    unittest.main()
