#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, taken from the tests (fuzz/README.md).

    python3 fuzz/make_corpus.py [--out fuzz/corpus] [--max 40] [--samples DIR]

Sources:
  create_lead   valid_lead(...) calls and lead-shaped dict literals in tests/integration/*.py,
                JSON raw strings of tests/unit/lead_validation_test.cpp
  lead_flash    flash_body(...) calls and flash-shaped dict literals in tests/integration/*.py,
                JSON raw strings of tests/unit/flash_validation_test.cpp
  webhook       the WhatsApp samples (../shared/samples/whatsapp), the raw strings of
                tests/unit/webhook_payloads_test.cpp, and the payload helpers of the webhook and
                dashboard integration tests called as the tests call them
  mobile        normalize_mobile("...") arguments in tests/unit/mobile_test.cpp and the phone
                numbers of the seeds above
  config        the config files of tests/unit/config_test.cpp, its LEADGATE_* settings written as
                config files, the config / env settings of tests/integration/*.py, and the
                LEADGATE_X=value examples of README.md and docs/*.md
  http_request  raw requests in tests/integration/*.py, and the method, path and body of the
                integration tests' requests written as HTTP/1.1 (Content-Length, chunked,
                pipelined)

Each target's seeds are written as seed-<sha1 prefix> (at most --max, picked evenly from the
test order); stale seed-* files are removed, other files (regress-*: inputs that once found a
bug) are kept. Deterministic: the same tests give the same seeds.
"""
import argparse
import ast
import hashlib
import inspect
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "tests" / "integration"
UNIT = ROOT / "tests" / "unit"
TARGETS = ("create_lead", "lead_flash", "webhook", "mobile", "config", "http_request")

APPLICATION_ID = "3f1c2a9e-7b4d-4e8a-9c21-5d6e7f809a1b"
# Values for helper arguments the tests pass as variables, by parameter name.
PLACEHOLDERS = {
    "mobile": "9876543210", "application_id": APPLICATION_ID, "message_id": "gBEGkZlgQyWAAg",
    "msg_id": "wamid.HBgMOTE5ODc2NTQzMjEw", "ts_s": 1764000004, "status": "delivered",
    "text": "status", "kind": "opted-out", "env": "orbit",
}


# --------------------------------------------------------------------------- reading the tests

def literal(node, constants):
    """The Python value of an AST node made of literals and known module constants, or raise."""
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.Dict):
        return {literal(k, constants): literal(v, constants) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e, constants) for e in node.elts]
    return ast.literal_eval(node)


def module_constants(module):
    """The module's upper-case names (and OMIT) usable as literal values."""
    out = {name: value for name, value in vars(module).items()
           if name.isupper() or name == "OMIT"}
    return out


def integration_modules():
    sys.path.insert(0, str(INTEGRATION))
    sys.dont_write_bytecode = True  # no __pycache__ in tests/
    modules = []
    for path in sorted(INTEGRATION.glob("test_*.py")):
        try:
            module = __import__(path.stem)
        except Exception as e:  # pylint: disable=broad-except
            print(f"make_corpus: skipping {path.name}: {e}", file=sys.stderr)
            continue
        modules.append((path, ast.parse(path.read_text(encoding="utf-8")), module))
    return modules


def calls_to(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == name:
                yield node


def evaluate_call(function, node, constants):
    """function called with the call site's literal arguments; the others from PLACEHOLDERS (a
    keyword argument that is neither is left out). None when a positional one is unknown."""
    params = list(inspect.signature(function).parameters)
    args, kwargs = [], {}
    for i, arg in enumerate(node.args):
        try:
            args.append(literal(arg, constants))
        except (ValueError, TypeError, SyntaxError):
            name = params[i] if i < len(params) else None
            if name not in PLACEHOLDERS:
                return None
            args.append(PLACEHOLDERS[name])
    for kw in node.keywords:
        if kw.arg is None:
            continue
        try:
            kwargs[kw.arg] = literal(kw.value, constants)
        except (ValueError, TypeError, SyntaxError):
            if kw.arg in PLACEHOLDERS:
                kwargs[kw.arg] = PLACEHOLDERS[kw.arg]
    random.seed(20)  # valid_lead draws mobiles and PANs: the same for the same overrides
    try:
        return function(*args, **kwargs)
    except Exception:  # pylint: disable=broad-except
        return None


def dict_literals(tree, constants):
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            try:
                value = literal(node, constants)
            except (ValueError, TypeError, SyntaxError):
                continue
            if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                yield value


def string_literals(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            yield node.value


RAW_STRING = re.compile(r'R"([^(\s]*)\((.*?)\)\1"', re.S)
CPP_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def raw_strings(path):
    return [m.group(2) for m in RAW_STRING.finditer(path.read_text(encoding="utf-8"))]


def cpp_unescape(text):
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
        "latin-1", "replace").decode("utf-8", "replace")


def dump(value):
    return json.dumps(value, ensure_ascii=False, indent=None)


# --------------------------------------------------------------------------- per target

LEAD_KEYS = {"firstName", "lastName", "loanAmountReq", "pan", "dateOfBirth"}
FLASH_KEYS = {"applicationId", "professionId", "professionName", "propertyIdentified"}


def lead_and_flash_seeds(modules):
    leads, flashes = [], []
    for _, tree, module in modules:
        constants = module_constants(module)
        if hasattr(module, "valid_lead"):
            for node in calls_to(tree, "valid_lead"):
                if (value := evaluate_call(module.valid_lead, node, constants)) is not None:
                    leads.append(dump(value))
        if hasattr(module, "flash_body"):
            for node in calls_to(tree, "flash_body"):
                if (value := evaluate_call(module.flash_body, node, constants)) is not None:
                    flashes.append(dump(value))
        for value in dict_literals(tree, constants):
            if value.keys() & FLASH_KEYS:
                flashes.append(dump(value))
            elif len(value.keys() & LEAD_KEYS) >= 2:
                leads.append(dump(value))
        for text in string_literals(tree):
            if isinstance(text, str) and text.lstrip().startswith(("{", "[")):
                (flashes if "applicationId" in text else leads).append(text)
    leads += [s for s in raw_strings(UNIT / "lead_validation_test.cpp") if "{" in s]
    flashes += [s for s in raw_strings(UNIT / "flash_validation_test.cpp") if "{" in s]
    return leads, flashes


WEBHOOK_HELPERS = ("gupshup_message", "gupshup_message_event", "gupshup_user_event",
                   "meta_message", "inbound", "receipt")


def webhook_seeds(modules, samples):
    seeds = []
    if samples.is_dir():
        seeds += [p.read_text(encoding="utf-8") for p in sorted(samples.glob("*.json"))]
    for name in ("webhook_payloads_test.cpp", "webhook_intake_test.cpp"):
        seeds += raw_strings(UNIT / name)
    for path, tree, module in modules:
        if path.stem not in ("test_whatsapp_webhook", "test_dashboard"):
            continue
        constants = module_constants(module)
        for helper in WEBHOOK_HELPERS:
            if not hasattr(module, helper):
                continue
            for node in calls_to(tree, helper):
                if (value := evaluate_call(getattr(module, helper), node, constants)) is not None:
                    seeds.append(dump(value))
        for value in dict_literals(tree, constants):
            if "object" in value or ("type" in value and "payload" in value):
                seeds.append(dump(value))
    return seeds


PHONE_FIELDS = ("mobile", "source", "destination", "phone", "wa_id", "from")


def phone_values(value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in PHONE_FIELDS and isinstance(v, str):
                out.append(v)
            phone_values(v, out)
    elif isinstance(value, list):
        for v in value:
            phone_values(v, out)


def mobile_seeds(json_seeds):
    text = (UNIT / "mobile_test.cpp").read_text(encoding="utf-8")
    seeds = [cpp_unescape(m.group(1)) for m in re.finditer(
        r'normalize_mobile\(\s*"((?:[^"\\]|\\.)*)"', text)]
    for seed in json_seeds:
        try:
            phone_values(json.loads(seed), seeds)
        except ValueError:
            pass
    return seeds


def as_config_file(variables):
    """LEADGATE_* variables written as a config file (keys lower-cased, per environment)."""
    out = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not name.startswith("LEADGATE_") or name == "LEADGATE_CONFIG":
            continue
        key = name[len("LEADGATE_"):]
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        for env in ("ORBIT", "HOMFINITY"):
            if key.startswith(env + "_"):
                envs = out.setdefault("environments", {})
                envs.setdefault(env.lower(), {})[key[len(env) + 1:].lower()] = value
                break
        else:
            out[key.lower()] = value
    return out


PAIR = re.compile(r'\{\s*"(LEADGATE_[A-Z_]+)",\s*(R"\((.*?)\)"|"((?:[^"\\]|\\.)*)")\s*\}', re.S)


def config_seeds(modules):
    text = (UNIT / "config_test.cpp").read_text(encoding="utf-8")
    seeds = [m.group(1) for m in re.finditer(r'TempConfigFile\s+\w+\(R"\((.*?)\)"\)', text, re.S)]
    for block in re.split(r"\n(?=TEST|Vars )", text):
        pairs = {}
        for m in PAIR.finditer(block):
            value = m.group(3) if m.group(3) is not None else cpp_unescape(m.group(4))
            pairs.setdefault(m.group(1), value)
            seeds.append(dump(as_config_file({m.group(1): value})))
        if pairs:
            seeds.append(dump(as_config_file(pairs)))
    for _, tree, module in modules:
        constants = module_constants(module)
        for value in dict_literals(tree, constants):
            if any(isinstance(k, str) and k.startswith("LEADGATE_") for k in value):
                seeds.append(dump(as_config_file(value)))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "config":
                try:
                    seeds.append(dump(literal(node.value, constants)))
                except (ValueError, TypeError, SyntaxError):
                    pass
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for m in re.finditer(r"`(LEADGATE_[A-Z_]+)=([^`]+)`", doc.read_text(encoding="utf-8")):
            seeds.append(dump(as_config_file({m.group(1): m.group(2)})))
    harness = sys.modules.get("harness")
    if harness is not None:
        variables = dict(harness.FAST_TEST_SETTINGS)
        for env, creds in harness.PARTNER_CREDENTIALS.items():
            for key, value in creds.items():
                variables[f"LEADGATE_{env.upper()}_{key}"] = value
        seeds.append(dump(as_config_file(variables)))
    return [s for s in seeds if s not in ("{}", "")]


def route_requests(modules, bodies):
    """(method, path, headers, body) of the integration tests' lg.request(...) calls; a JSON body
    the test computes is replaced by bodies[path] (a seed of that route's parser)."""
    out = []
    for _, tree, module in modules:
        constants = module_constants(module)
        for node in calls_to(tree, "request"):
            if len(node.args) < 2:
                continue
            try:
                method, path = literal(node.args[0], constants), literal(node.args[1], constants)
            except (ValueError, TypeError, SyntaxError):
                continue
            if not (isinstance(method, str) and isinstance(path, str) and path.startswith("/")):
                continue
            headers, body = {}, b""
            for kw in node.keywords:
                try:
                    value = literal(kw.value, constants)
                except (ValueError, TypeError, SyntaxError):
                    continue
                if kw.arg == "headers" and isinstance(value, dict):
                    headers = {str(k): str(v) for k, v in value.items()}
                elif kw.arg == "raw_body" and isinstance(value, (str, bytes)):
                    body = value.encode() if isinstance(value, str) else value
            if len(node.args) > 2:
                try:
                    body = json.dumps(literal(node.args[2], constants)).encode()
                except (ValueError, TypeError, SyntaxError):
                    body = bodies.get(path.split("?")[0], b"{}")
            out.append((method, path, headers, body))
    return out


def http_message(method, path, headers, body, chunked=False, close=False):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body and "Content-Type" not in headers:
        lines.append("Content-Type: application/json")
    if close:
        lines.append("Connection: close")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part)
                          for part in (body[:half], body[half:]) if part)
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + chunks + b"0\r\nX-Trailer: t\r\n\r\n"
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_seeds(modules, bodies):
    seeds = []
    for _, tree, _module in modules:
        for text in string_literals(tree):
            raw = text.encode() if isinstance(text, str) else text
            if re.match(rb"(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH) /", raw) and b"\r\n" in raw:
                seeds.append(raw if raw.endswith(b"\r\n\r\n") or b"\r\n\r\n" in raw
                             else raw + b"\r\n\r\n")
    requests = route_requests(modules, bodies)
    for i, (method, path, headers, body) in enumerate(requests):
        seeds.append(http_message(method, path, headers, body, chunked=(i % 3 == 1 and body),
                                  close=(i % 2 == 0)))
    if len(requests) >= 2:  # keep-alive: two requests on one connection
        a, b = requests[0], requests[1]
        seeds.append(http_message(*a) + http_message(*b, close=True))
    seeds.append(http_message("POST", "/api_v1/whatsapp/webhook/gs-webhook-token-0123456789",
                              {}, bodies["/api_v1/whatsapp/webhook"], chunked=True))
    seeds.append(b"GET /api_v1//lead_status HTTP/1.0\r\n\r\n")
    seeds.append(b"GET /api_v1/consent/tok?lang=en&x=/y HTTP/1.1\r\nHost: t\r\n\r\n")
    return seeds


# --------------------------------------------------------------------------- writing

def pick(seeds, limit):
    unique, seen = [], set()
    for seed in seeds:
        data = seed.encode("utf-8") if isinstance(seed, str) else seed
        if data and data not in seen:
            seen.add(data)
            unique.append(data)
    if len(unique) <= limit:
        return unique
    step = len(unique) / limit
    return [unique[int(i * step)] for i in range(limit)]


def write(directory, seeds):
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {f"seed-{hashlib.sha1(data).hexdigest()[:16]}": data for data in seeds}
    for old in directory.glob("seed-*"):
        if old.name not in wanted:
            old.unlink()
    for name, data in wanted.items():
        (directory / name).write_bytes(data)
    return len(wanted)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz" / "corpus")
    parser.add_argument("--max", type=int, default=40, help="seeds per target at most")
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples" /
                        "whatsapp", help="the WhatsApp callback samples")
    args = parser.parse_args()

    modules = integration_modules()
    leads, flashes = lead_and_flash_seeds(modules)
    webhooks = webhook_seeds(modules, args.samples)
    seeds = {
        "create_lead": leads,
        "lead_flash": flashes,
        "webhook": webhooks,
        "mobile": mobile_seeds(leads + webhooks),
        "config": config_seeds(modules),
        "http_request": http_seeds(modules, {
            "/api_v1/create_lead": leads[0].encode(), "/api_v1/lead_flash": flashes[0].encode(),
            "/api_v1/whatsapp/webhook": webhooks[0].encode()}),
    }
    for target in TARGETS:
        count = write(args.out / target, pick(seeds[target], args.max))
        print(f"{target}: {count} seeds ({len(seeds[target])} found)")


if __name__ == "__main__":
    main()
