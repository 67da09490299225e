#!/usr/bin/env bash
# Takes the API reference UI (Redoc's standalone bundle, pinned in tools/openapi/package-lock.json)
# from npm and puts it in data/www/, where leadgate serves it at /docs: no CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-docs-ui: npm is missing (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
npm ci --prefix tools/openapi --prefer-offline --ignore-scripts --no-audit --no-fund \
  --loglevel=error >/dev/null
mkdir -p data/www
cp tools/openapi/node_modules/redoc/bundles/redoc.standalone.js data/www/
cp tools/openapi/node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt data/www/ 2>/dev/null || true
