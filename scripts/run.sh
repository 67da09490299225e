#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root) to a running service on the embedded
# default (SQLite under var/, sandboxed partners): installs packages, builds, serves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-docs-ui.sh
cmake --preset release >/dev/null
cmake --build build/release --target leadgate
exec ./build/release/leadgate serve
