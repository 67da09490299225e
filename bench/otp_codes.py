#!/usr/bin/env python3
"""Reads the fake Gupshup's body log (one form-encoded template message per line) and prints
"phone code" for every OTP template message, the newest code per phone."""
import json
import sys
from urllib.parse import parse_qs

codes = {}
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        form = parse_qs(line.strip())
        try:
            template = json.loads(form["template"][0])
            destination = form["destination"][0]
        except (KeyError, IndexError, ValueError):
            continue
        if not str(template.get("id", "")).endswith("otp_authentication"):
            continue
        params = template.get("params") or []
        if destination.startswith("91") and len(destination) == 12 and params:
            codes[destination[2:]] = str(params[0])
for phone, code in codes.items():
    print(phone, code)
