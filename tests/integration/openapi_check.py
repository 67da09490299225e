"""Checks HTTP responses against docs/openapi.json (standard library only).

    from openapi_check import validate_response
    problems = validate_response("POST", "/api_v1/create_lead", 200, "application/json", body)
    assert not problems, problems

`path` may be a concrete request path ("/api_v1/appointments/<id>.ics?x=1": the query is
ignored) or the route pattern itself ("/api_v1/appointments/{file}"). `body` is the parsed JSON
for JSON content types and the text otherwise (as tests/integration/harness.py returns it); for
non-JSON media types only the type (a string) is checked. Pass `headers=` (the response
headers, any case) to check the documented response headers too (X-Request-ID on every
response, Retry-After on 429/503, Idempotent-Replayed, …).

The JSON Schema subset understood is the one the document uses: $ref (local), type (incl. type
arrays for null), const, enum, properties, required, additionalProperties, items,
minItems/maxItems, minLength/maxLength, pattern, minimum/maximum, allOf, anyOf, oneOf, not,
if/then/else. `format` is an annotation (not checked), as JSON Schema 2020-12 specifies.

Besides the documented operations, the router's own answers are accepted: a 405
`METHOD_NOT_ALLOWED` problem for a method a known path does not have, a 404 `NOT_FOUND`
problem for a path the document does not have, and a 501 `METHOD_NOT_IMPLEMENTED` problem for a
method leadgate does not serve at all (info.description documents both; OpenAPI cannot
attach responses to undefined methods or paths).

Run `python3 tests/integration/openapi_check.py` for the self-test: every example in the
document must validate against its schema, and a few wrong bodies must not.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_MISSING = object()


@lru_cache(maxsize=None)
def load_document(path: str | None = None) -> dict:
    with open(path or DOCUMENT_PATH, encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------------------ references

def _pointer(doc: dict, ref: str) -> Any:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref is supported: {ref}")
    node: Any = doc
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _deref(doc: dict, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        node = _pointer(doc, node["$ref"])
        seen += 1
        if seen > 50:
            raise ValueError("$ref cycle")
    return node


# ------------------------------------------------------------------------------ schema checks

def _type_ok(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, float) and math.isfinite(value) and value.is_integer()
    raise ValueError(f"unknown type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    """An ECMA-262 pattern (as JSON Schema uses them) compiled for Python's re.

    The document's patterns are valid Python patterns, with two differences handled here: \\d
    and \\w are ASCII-only in ECMA-262 (re.ASCII), and an ECMA `$` matches
    only at the very end, where Python's also matches before a final newline (so a bare `$`
    outside a character class becomes `\\Z`).
    """
    out = []
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _length(text: str) -> int:
    return len(text)  # code points, as JSON Schema counts


def validate_schema(doc: dict, schema: Any, value: Any, where: str = "$") -> list[str]:
    """Problems of `value` against `schema` (empty when valid)."""
    if schema is True or schema is None:
        return []
    if schema is False:
        return [f"{where}: no value is allowed here"]
    problems: list[str] = []
    if "$ref" in schema:
        problems += validate_schema(doc, _pointer(doc, schema["$ref"]), value, where)

    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, t) for t in types):
            return problems + [f"{where}: expected {'|'.join(types)}, got {_describe(value)}"]
    if "const" in schema and not _equal(value, schema["const"]):
        problems.append(f"{where}: expected {json.dumps(schema['const'])}, got "
                        f"{json.dumps(value)[:80]}")
    if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
        problems.append(f"{where}: {json.dumps(value)[:80]} is not one of "
                        f"{json.dumps(schema['enum'])[:200]}")

    if isinstance(value, str):
        if "minLength" in schema and _length(value) < schema["minLength"]:
            problems.append(f"{where}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and _length(value) > schema["maxLength"]:
            problems.append(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            problems.append(f"{where}: {value[:80]!r} does not match {schema['pattern']}")
    if _type_ok(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is above the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            problems.append(f"{where}: {value} is not above {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            problems.append(f"{where}: {value} is not below {schema['exclusiveMaximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{where}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                problems += validate_schema(doc, schema["items"], item, f"{where}[{i}]")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}: required member {name!r} is missing")
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name in value:
                problems += validate_schema(doc, sub, value[name], f"{where}.{name}")
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            for name in value:
                if name not in properties:
                    if extra is False:
                        problems.append(f"{where}: unexpected member {name!r}")
                    else:
                        problems += validate_schema(doc, extra, value[name], f"{where}.{name}")

    for sub in schema.get("allOf", []):
        problems += validate_schema(doc, sub, value, where)
    if "anyOf" in schema:
        branches = [validate_schema(doc, sub, value, where) for sub in schema["anyOf"]]
        if all(branches):
            problems.append(_alternatives(where, "anyOf", branches))
    if "oneOf" in schema:
        branches = [validate_schema(doc, sub, value, where) for sub in schema["oneOf"]]
        matched = sum(1 for b in branches if not b)
        if matched == 0:
            problems.append(_alternatives(where, "oneOf", branches))
        elif matched > 1:
            problems.append(f"{where}: matches {matched} oneOf alternatives, expected exactly 1")
    if "not" in schema and not validate_schema(doc, schema["not"], value, where):
        problems.append(f"{where}: must not match the 'not' schema")
    if "if" in schema:
        if not validate_schema(doc, schema["if"], value, where):
            if "then" in schema:
                problems += validate_schema(doc, schema["then"], value, where)
        elif "else" in schema:
            problems += validate_schema(doc, schema["else"], value, where)
    return problems


def _describe(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _alternatives(where: str, keyword: str, branches: list[list[str]]) -> str:
    best = min(branches, key=len)
    return f"{where}: matches no {keyword} alternative (closest: {'; '.join(best[:3])})"


# ------------------------------------------------------------------------------ operations

_TEMPLATES: dict[int, tuple[dict, list[tuple[str, re.Pattern]]]] = {}


def _templates(doc: dict) -> list[tuple[str, re.Pattern]]:
    cached = _TEMPLATES.get(id(doc))
    if cached is not None and cached[0] is doc:
        return cached[1]
    out = []
    for template in doc["paths"]:
        regex = "^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template)) + "$"
        out.append((template, re.compile(regex)))
    # Literal paths before templated ones (as OpenAPI requires for matching).
    out.sort(key=lambda t: ("{" in t[0], t[0]))
    _TEMPLATES[id(doc)] = (doc, out)
    return out


def find_path(doc: dict, path: str) -> str | None:
    """The document's path template matching a request path or route pattern."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path in doc["paths"]:
        return path
    for template, regex in _templates(doc):
        if regex.match(path):
            return template
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _pick_response(responses: dict, status: int) -> tuple[str | None, Any]:
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            return key, responses[key]
    return None, None


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def validate_response(method: str, path: str, status: int, content_type: str | None,
                      body: Any, document: dict | None = None,
                      headers: dict | None = None) -> list[str]:
    """Problems of one response against the OpenAPI document (empty when it conforms).

    method: "GET", "POST", …; path: the request path or the route pattern; status: the HTTP
    status; content_type: the response's Content-Type header (parameters ignored); body: the
    parsed JSON body for JSON media types, else the text (None for an empty body). headers
    (optional, any case): the response headers; when given, the documented ones are checked
    (present when `required`, value matching the header's schema).
    """
    doc = document or load_document()
    label = f"{method.upper()} {path} -> {status}"
    template = find_path(doc, path)
    item = _deref(doc, doc["paths"][template]) if template is not None else {}
    operation = item.get(method.lower())
    if operation is None:
        # Router answers the document describes in info.description, not per operation.
        if status == 405 and template is not None:
            return _check_router_problem(doc, label, content_type, body, "METHOD_NOT_ALLOWED")
        if status == 404 and template is None:
            return _check_router_problem(doc, label, content_type, body, "NOT_FOUND")
        if status == 501:
            return _check_router_problem(doc, label, content_type, body, "METHOD_NOT_IMPLEMENTED")
        if template is None:
            return [f"{label}: no path of the document matches {path!r}"]
        return [f"{label}: {template} has no {method.upper()} operation"]
    key, response = _pick_response(operation.get("responses", {}), status)
    if response is None:
        documented = ", ".join(sorted(operation.get("responses", {})))
        return [f"{label}: status {status} is not documented for "
                f"{operation.get('operationId', template)} (documented: {documented})"]
    response = _deref(doc, response)
    problems = _check_headers(doc, label, response, headers) if headers is not None else []
    return problems + _check_content(doc, label, key, response, content_type, body)


def _check_headers(doc: dict, label: str, response: dict, headers: dict) -> list[str]:
    given = {str(k).lower(): v for k, v in headers.items()}
    problems = []
    for name, raw in response.get("headers", {}).items():
        header = _deref(doc, raw)
        value = given.get(name.lower(), _MISSING)
        if value is _MISSING:
            if header.get("required"):
                problems.append(f"{label}: required header {name} is missing")
            continue
        schema = _deref(doc, header.get("schema", {}))
        if schema.get("type") == "integer" and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                problems.append(f"{label}: header {name} {value!r} is not an integer")
                continue
        problems += [f"{label}: {p}" for p in validate_schema(doc, schema, value, f"header {name}")]
    return problems


def _check_content(doc: dict, label: str, key: str, response: dict, content_type: str | None,
                   body: Any) -> list[str]:
    content = response.get("content")
    if not content:
        if body not in (None, "", b""):
            return [f"{label}: the documented response ({key}) has no body, but one was sent"]
        return []
    media = _media_type(content_type)
    entry = content.get(media)
    if entry is None:
        for name, candidate in content.items():  # media ranges such as text/* or */*
            if name.endswith("/*") and media.startswith(name[:-1]) or name == "*/*":
                entry = candidate
                break
    if entry is None:
        return [f"{label}: content type {content_type!r} is not documented "
                f"(documented: {', '.join(content)})"]
    schema = entry.get("schema")
    if schema is None:
        return []
    if _is_json(media) and isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return [f"{label}: the {media} body is not valid JSON"]
    return [f"{label}: {p}" for p in validate_schema(doc, schema, body, "body")]


def _check_router_problem(doc: dict, label: str, content_type: str | None, body: Any,
                          code: str) -> list[str]:
    if _media_type(content_type) != "application/problem+json":
        return [f"{label}: expected application/problem+json, got {content_type!r}"]
    problems = validate_schema(doc, {"$ref": "#/components/schemas/Problem"}, body, "body")
    if isinstance(body, dict) and body.get("code") != code:
        problems.append(f"body.code: expected {code}, got {body.get('code')!r}")
    return [f"{label}: {p}" for p in problems]


def assert_response(method: str, path: str, status: int, content_type: str | None,
                    body: Any, headers: dict | None = None) -> None:
    """Raises AssertionError listing the problems when the response does not conform."""
    problems = validate_response(method, path, status, content_type, body, headers=headers)
    if problems:
        raise AssertionError("response does not match docs/openapi.json:\n  " +
                             "\n  ".join(problems))


# ------------------------------------------------------------------------------ self-test

def _examples(media_entry: dict) -> list[tuple[str, Any]]:
    out = []
    if "example" in media_entry:
        out.append(("example", media_entry["example"]))
    for name, ex in media_entry.get("examples", {}).items():
        if "value" in ex:
            out.append((name, ex["value"]))
    return out


def _self_test() -> int:
    doc = load_document()
    failures: list[str] = []
    checked = 0
    operations = 0
    paths = doc["paths"]
    for template, raw_item in paths.items():
        item = _deref(doc, raw_item)
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operations += 1
            op_id = operation.get("operationId", f"{method} {template}")
            # Request examples against the request schema.
            body = _deref(doc, operation.get("requestBody", {}))
            for media, entry in body.get("content", {}).items():
                for name, value in _examples(entry):
                    checked += 1
                    for p in validate_schema(doc, entry.get("schema"), value, "request"):
                        failures.append(f"{op_id} request example {name!r}: {p}")
            has_success_example = False
            # Response examples through validate_response itself (path template as the path).
            for status, raw_response in operation.get("responses", {}).items():
                response = _deref(doc, raw_response)
                for media, entry in response.get("content", {}).items():
                    for name, value in _examples(entry):
                        checked += 1
                        has_success_example |= status[:1] in ("2", "3")
                        code = int(status) if status.isdigit() else 599
                        for p in validate_response(method, template, code, media, value, doc):
                            failures.append(f"{op_id} {status} example {name!r}: {p}")
            if not has_success_example:
                failures.append(f"{op_id}: no example of a success response")
            if operation.get("requestBody") and not any(
                    _examples(e) for e in body.get("content", {}).values()):
                failures.append(f"{op_id}: no request example")
    # Parameter examples.
    for template, raw_item in paths.items():
        item = _deref(doc, raw_item)
        for method in METHODS:
            for raw in (item.get(method) or {}).get("parameters", []):
                param = _deref(doc, raw)
                if "example" in param:
                    checked += 1
                    for p in validate_schema(doc, param.get("schema"), param["example"],
                                             f"parameter {param['name']}"):
                        failures.append(f"{method} {template}: {p}")

    # The checker must also reject what is wrong.
    lead = _deref(doc, paths["/api_v1/create_lead"])["post"]
    ok = lead["responses"]["200"]["content"]["application/json"]["examples"]["success"]["value"]
    must_fail = {
        "missing member": ("POST", "/api_v1/create_lead", 200, "application/json",
                           {k: v for k, v in ok.items() if k != "reference_id"}),
        "wrong type": ("POST", "/api_v1/create_lead", 200, "application/json",
                       {**ok, "success": "true"}),
        "undocumented status": ("POST", "/api_v1/create_lead", 302, "application/json", ok),
        "wrong content type": ("POST", "/api_v1/create_lead", 200, "text/html", "<p>"),
        "unknown path": ("GET", "/api_v1/nope", 200, "application/json", {}),
        "unknown method": ("DELETE", "/api_v1/create_lead", 200, "application/json", {}),
        "problem code not documented for the status": (
            "POST", "/api_v1/otp_verify", 400, "application/problem+json",
            {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "x",
             "success": False, "code": "DUPLICATE_LEAD", "request_id": "abc"}),
        "SLOT_UNAVAILABLE without its members": (
            "POST", "/api_v1/book_appointment", 409, "application/problem+json",
            {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "x",
             "success": False, "code": "SLOT_UNAVAILABLE", "request_id": "abc"}),
        "422 without errors": (
            "POST", "/api_v1/create_lead", 422, "application/problem+json",
            {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
             "detail": "x", "success": False, "code": "VALIDATION_ERROR", "request_id": "abc"}),
        "unknown path answered 200": ("GET", "/api_v1/nope", 200, "application/json", {}),
        "unknown path, 404 with another code": (
            "GET", "/api_v1/nope", 404, "application/problem+json",
            {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "x",
             "success": False, "code": "VALIDATION_ERROR", "request_id": "abc"}),
        "bad time format": (
            "GET", "/api_v1/appointment_slots?date=30-12-2026", 200, "application/json",
            {"success": True, "environment": "orbit", "date": "30-12-2026",
             "business_hours": "x", "slot_minutes": 30,
             "slots": [{"time": "18:00", "available_rms": [{"name": "a", "location": "b"}]}]}),
    }
    rid = {"X-Request-ID": "5b0f3c2a-8e1d-4c6b-9f7a-2d4e6a8c0b1e"}
    limited = lead["responses"]["503"]
    problem_503 = _deref(doc, limited)["content"]["application/problem+json"]["examples"]
    problem_503 = next(iter(problem_503.values()))["value"]
    must_fail_headers = {
        "X-Request-ID missing": ({}, 200, ok),
        "X-Request-ID malformed": ({"x-request-id": "has space"}, 200, ok),
        "Retry-After missing on 503": (rid, 503, problem_503),
        "Retry-After not a number": ({**rid, "Retry-After": "soon"}, 503, problem_503),
    }
    for label, args in must_fail.items():
        checked += 1
        if not validate_response(*args, document=doc):
            failures.append(f"negative case {label!r} was accepted")
    for label, (hdrs, status, body) in must_fail_headers.items():
        checked += 1
        media = "application/json" if status == 200 else "application/problem+json"
        if not validate_response("POST", "/api_v1/create_lead", status, media, body,
                                 document=doc, headers=hdrs):
            failures.append(f"negative header case {label!r} was accepted")
    must_pass = {
        "concrete .ics path": ("GET", "/api_v1/appointments/7c9e6679-7425-40de-944b-e07fc1f90ae7"
                               ".ics", 200, "text/calendar; charset=utf-8", "BEGIN:VCALENDAR"),
        "405 on a known path": ("GET", "/api_v1/create_lead", 405, "application/problem+json",
                                {"type": "about:blank", "title": "Method Not Allowed",
                                 "status": 405, "detail": "Method not allowed; use POST",
                                 "success": False, "code": "METHOD_NOT_ALLOWED",
                                 "request_id": "r-1"}),
        "unknown path answered 404 NOT_FOUND": (
            "GET", "/api_v1/nothing", 404, "application/problem+json",
            {"type": "about:blank", "title": "Not Found", "status": 404,
             "detail": "No such endpoint", "success": False, "code": "NOT_FOUND",
             "request_id": "r-2"}),
        "extra members are allowed": ("POST", "/api_v1/create_lead", 200,
                                      "application/json", {**ok, "new_member": 1}),
    }
    for label, args in must_pass.items():
        checked += 1
        for p in validate_response(*args, document=doc):
            failures.append(f"positive case {label!r}: {p}")
    checked += 1
    for p in validate_response("POST", "/api_v1/create_lead", 200, "application/json", ok,
                               document=doc, headers={**rid, "Idempotent-Replayed": "true"}):
        failures.append(f"positive header case: {p}")
    checked += 1
    for p in validate_response("POST", "/api_v1/create_lead", 503, "application/problem+json",
                               problem_503, document=doc, headers={**rid, "retry-after": "2"}):
        failures.append(f"positive header case (503): {p}")

    for f in failures:
        print("FAIL", f)
    print(f"openapi_check self-test: {len(paths)} paths, {operations} operations, "
          f"{checked} checks, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(_self_test())
