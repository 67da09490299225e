#!/usr/bin/env bash
# Lints the OpenAPI document (docs/openapi.json) with Redocly CLI, pinned in
# tools/openapi/package-lock.json, and checks that every example in it validates against its own
# schema (tests/integration/openapi_check.py). Needs node >= 18.17 and npm (Debian: nodejs, npm).
# Fails on any lint error or example mismatch; warnings are printed (there are none today).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "lint-openapi: npm is missing (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# Reproducible install from the lockfile; uses the npm cache first (works offline once warm).
npm ci --prefix tools/openapi --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
npx --no-install --prefix tools/openapi redocly lint docs/openapi.json \
  --config tools/openapi/redocly.yaml --max-problems 200

python3 tests/integration/openapi_check.py
