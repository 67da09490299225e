#!/usr/bin/env bash
# Takes the API reference UI (Redoc's standalone bundle) and the dashboard's chart library (uPlot),
# both pinned in tools/openapi/package-lock.json, from npm and puts them in data/www/, where
# leadgate serves them (/docs, /dashboard/assets/uPlot.*): no CDN at run time.
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
# uPlot for the monitoring dashboard (served at /dashboard/assets/uPlot.iife.min.js and
# /dashboard/assets/uPlot.min.css).
cp tools/openapi/node_modules/uplot/dist/uPlot.iife.min.js data/www/
cp tools/openapi/node_modules/uplot/dist/uPlot.min.css data/www/
cp tools/openapi/node_modules/uplot/LICENSE data/www/uPlot.LICENSE.txt
