#!/usr/bin/env bash
# Installs the Debian 12 packages leadgate needs to build, run and test. Idempotent; needs root.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates python3 clang-format
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libpq-dev libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev
  postgresql nginx wrk
  pgbouncer  # tests/integration/test_pg_pooler.py: the transaction-mode pooler case
  prometheus  # for promtool: checks and unit-tests docs/prometheus/*.yml
  chromium  # headless browser for the dashboard check (tests/browser, driven by playwright-core)
  clang libclang-rt-14-dev  # fuzz/: libFuzzer and the sanitizers' runtimes for clang 14
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js + npm: the OpenAPI lint and the API reference UI come from npm (tools/openapi). Debian
# 12's nodejs (18) is enough; a NodeSource nodejs that bundles npm counts too.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: node.js/npm missing (run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
