#!/usr/bin/env bash
# The whole test suite, what CI runs (.ci/run): unit, store-conformance and integration tests on
# the ASan+UBSan build, with a private PostgreSQL server so every store test and every
# integration test runs against SQLite and against PostgreSQL. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Formatting is part of the build's health: unformatted C++ fails the run.
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror
# The floors of src/ (docs/architecture.md): includes point down, files <= 800 lines, functions
# <= 120, store roles <= 15 methods.
python3 scripts/check-architecture.py
# Prometheus rules must load and pass their unit tests (*.test.yml are the tests, not rules); the
# Grafana dashboard must be valid JSON.
rule_files=()
for f in docs/prometheus/*.yml; do
  [[ "$f" == *.test.yml ]] || rule_files+=("$f")
done
promtool check rules "${rule_files[@]}"
promtool test rules docs/prometheus/*.test.yml
python3 -m json.tool docs/grafana/leadgate-dashboard.json >/dev/null
# The OpenAPI document lints clean and its examples match its schemas; the reference UI is
# fetched from npm for /docs.
bash scripts/lint-openapi.sh
bash scripts/fetch-docs-ui.sh
# The dashboard's browser check (tests/integration/test_dashboard.py runs tests/browser/
# dashboard_check.mjs: playwright-core, pinned in tests/browser/package-lock.json, driving Debian's
# chromium).
if ! command -v npm >/dev/null 2>&1; then
  echo "test: npm is missing (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
npm ci --prefix tests/browser --prefer-offline --ignore-scripts --no-audit --no-fund \
  --loglevel=error >/dev/null
cmake --preset asan >/dev/null
cmake --build build/asan
# The fuzz targets (fuzz/README.md): a clang build of what they need, then each target for
# FUZZ_SECONDS (15) over its seed corpus; any crash, leak, UB or broken invariant fails the run.
bash fuzz/run.sh

pg_dir_file="$(mktemp)"
LEADGATE_TEST_PG_URL="$(bash tests/pg/start_pg.sh "" "$pg_dir_file")"
export LEADGATE_TEST_PG_URL
trap 'bash tests/pg/stop_pg.sh "$pg_dir_file" >/dev/null 2>&1 || true; rm -f "$pg_dir_file"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset asan -j2 "$@"
