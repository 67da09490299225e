#!/usr/bin/env python3
"""Checks the proportions docs/architecture.md promises, on src/:

- every #include "x/..." points to its own floor or lower (jobs/ and services/ share a floor
  but never include each other);
- no source file has more than 800 lines, no function more than 120;
- no store role interface (src/store/store.h) declares more than 15 methods.

Exit 1 with one line per breach. `--report` also lists the longest functions.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
# Floor of each top-level folder; higher numbers may include lower ones.
FLOORS = {"domain": 0, "crypto": 0, "core": 1, "store": 2, "http": 3, "partners": 4,
          "services": 5, "jobs": 5, "api": 6, "app": 7}
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 120
MAX_ROLE_METHODS = 15
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def folder_of(path):
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else "app"  # main.cpp sits with app/


def check_includes(path, problems):
    mine = folder_of(path)
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = INCLUDE.match(line)
        if not m or m.group(1) not in FLOORS:
            continue
        theirs = m.group(1)
        if theirs == mine:
            continue
        if FLOORS[theirs] > FLOORS[mine] or FLOORS[theirs] == FLOORS[mine]:
            problems.append(f"{path.relative_to(ROOT)}:{n}: {mine}/ includes {theirs}/ "
                            f"(floors only point down)")


def strip_code(text):
    """Blanks comments, string and character literals, keeping line breaks."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, length) of every function body at namespace or class level."""
    code = strip_code(path.read_text())
    found, depth, start, head = [], 0, None, ""
    scopes = []  # True for namespace/class braces, False for a function body
    line = 1
    for c in code:
        if c == "\n":
            line += 1
        if c == "{":
            if start is None and (not scopes or scopes[-1]):
                h = head.strip()
                is_scope = re.search(r"\b(namespace|class|struct|union|enum)\b[^()]*$", h) \
                    or h.endswith("=") or h.startswith("extern") or ")" not in h
                if is_scope:
                    scopes.append(True)
                else:
                    name = re.findall(r"([~\w:]+)\s*\(", h)
                    start = (name[0] if name else "?", line, len(scopes))
                    scopes.append(False)
            else:
                scopes.append(False)
            head = ""
        elif c == "}":
            if scopes:
                scopes.pop()
            if start is not None and len(scopes) == start[2]:
                found.append((start[0], start[1], line - start[1] + 1))
                start = None
            head = ""
        elif c == ";":
            head = ""
        else:
            head += c
    return found


def check_roles(problems):
    text = (SRC / "store" / "store.h").read_text()
    for m in re.finditer(r"^class (\w+) \{(.*?)^\};", text, re.S | re.M):
        n = len(re.findall(r"\bvirtual\b[^;]*?= 0;", m.group(2), re.S))
        if n > MAX_ROLE_METHODS:
            problems.append(f"src/store/store.h: {m.group(1)} declares {n} methods "
                            f"(at most {MAX_ROLE_METHODS})")


def main():
    problems, longest = [], []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        check_includes(path, problems)
        lines = path.read_text().count("\n")
        if lines > MAX_FILE_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_FILE_LINES})")
        for name, first, length in functions(path):
            longest.append((length, f"{path.relative_to(ROOT)}:{first}: {name}"))
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{path.relative_to(ROOT)}:{first}: {name} has {length} lines "
                                f"(at most {MAX_FUNCTION_LINES})")
    check_roles(problems)
    if "--report" in sys.argv:
        for length, where in sorted(longest, reverse=True)[:20]:
            print(f"{length:5d}  {where}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-architecture: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check-architecture: includes point down the floors, files and functions in bounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
