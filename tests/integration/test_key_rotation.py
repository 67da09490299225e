"""Master-key rotation (issue 21 §5): every sealed value names its key; LEADGATE_PII_PREVIOUS_KEYS
still open; `leadgate pii rotate` re-wraps the data keys and the blind-index key and re-seals
what sits under the old master key, can run while the service runs and run again, and the
service then starts on the new key alone with every lead readable and found by mobile.

Run: cd tests/integration && LEADGATE_BIN=/work/main/build/asan/leadgate \
         python3 -m unittest -v test_key_rotation
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import unittest

from harness import (
    LeadgateTestCase, LeadgateError, accepted, template_calls_for, valid_lead, wait_until,
)
from test_whatsapp_webhook import GUPSHUP_TOKEN, SERVICE_ENV, WEBHOOK, gupshup_message

EXPORT = "/api_v1/privacy/export"
# Every column sealed directly under the master key.
MASTER_SEALED = [("person_keys", "wrapped_key"), ("leads", "email_enc"),
                 ("consent_ledger", "phone_enc"), ("consents", "phone_enc"),
                 ("whatsapp_inbox", "payload_enc"), ("whatsapp_conversation", "text_enc"),
                 ("outbox", "payload_enc"), ("keyring", "wrapped_key")]


def key_id(key_b64: str) -> str:
    return hmac.new(base64.b64decode(key_b64), b"leadgate:key-id",
                    hashlib.sha256).hexdigest()[:8]


class KeyRotationTest(LeadgateTestCase):

    def test_after_a_rotation_the_service_runs_on_the_new_key_alone(self):
        fake, lg, key = self.start_service(env=SERVICE_ENV)
        lead = valid_lead(remarks="Call after 6 pm")
        mobile = lead["mobile"]
        status, _, created = lg.request("POST", "/api_v1/create_lead", lead, api_key=key)
        self.assertEqual(status, 200, created)
        wait_until(lambda: accepted(template_calls_for(fake, mobile)), timeout=10)
        body = json.dumps(gupshup_message(mobile, "status please"))
        status, _, resp = lg.request("POST", f"{WEBHOOK}/{GUPSHUP_TOKEN}", raw_body=body,
                                     headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, resp)
        status, _, resp = lg.request("POST", "/api_v1/otp_send",
                                     {"environment": "orbit", "phone_number": mobile,
                                      "user_check": False},
                                     api_key=key)  # a consent link: its mobile sealed
        self.assertEqual(status, 200, resp)

        def export():
            status, _, got = lg.request("POST", EXPORT,
                                        {"environment": "orbit", "mobile_number": mobile},
                                        api_key=key)
            self.assertEqual(status, 200, got)
            data = got["data"]
            # What was sealed: the lead's fields, texts, the ledger and the consent link.
            return ([lead["fields"] for lead in data["leads"]],
                    [m["text"] for m in data["messages_received"]],
                    [(c["purpose"], c["source"]) for c in data["consents"]],
                    len(data["consent_requests"]))
        wait_until(lambda: export()[1], timeout=15)
        before = export()
        old, new = lg.pii_key, base64.b64encode(os.urandom(32)).decode()
        [(sealed,)] = lg.db_query("SELECT phone_enc FROM consents")
        self.assertTrue(sealed.startswith(f"v1:m{key_id(old)}:"), sealed)

        # The new key alone opens nothing yet.
        result = lg.run_cli("pii", "rotate", env={"LEADGATE_PII_KEY": new})
        self.assertNotEqual(result.returncode, 0, result.stdout)

        # With the old key as a previous key, the service keeps running while it rotates.
        lg.pii_key = new
        lg.extra_env["LEADGATE_PII_PREVIOUS_KEYS"] = old
        lg.restart()
        self.assertEqual(export(), before)
        result = lg.run_cli("pii", "rotate")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"Rotated to master key {key_id(new)}", result.stdout)
        self.assertNotIn(" 0 re-sealed", result.stdout)
        again = lg.run_cli("pii", "rotate")  # interrupted or not, running it again is safe
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn(" 0 re-sealed", again.stdout)
        for table, column in MASTER_SEALED:
            rows = lg.db_query(f"SELECT {column} FROM {table} WHERE {column} LIKE 'v1:%'")
            for (value,) in rows:
                if value.startswith("v1:p"):
                    continue  # under a person's data key, which is now wrapped by the new key
                self.assertTrue(value.startswith(f"v1:m{key_id(new)}:"),
                                f"{table}.{column} still under the old key: {value[:20]}")

        # The new key alone: every lead readable and found by mobile.
        del lg.extra_env["LEADGATE_PII_PREVIOUS_KEYS"]
        lg.restart()
        self.assertEqual(export(), before)
        status, _, got = lg.request("POST", "/api_v1/lead_status",
                                    {"environment": "orbit", "mobile_number": mobile},
                                    api_key=key)
        self.assertEqual(status, 200, got)
        result = lg.run_cli("privacy", "export", "--env", "orbit", "--phone", mobile)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["leads"][0]["fields"]["remarks"],
                         "Call after 6 pm")
        # The old key alone no longer opens the database.
        lg.stop()
        lg.pii_key = old
        with self.assertRaises(LeadgateError):
            lg.start()
        lg.pii_key = new


if __name__ == "__main__":
    unittest.main()
