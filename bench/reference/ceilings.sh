#!/usr/bin/env bash
# Reference ceilings on this machine's PostgreSQL: pgbench tps of the lean SQL of create_lead,
# lead_status and otp_send (files beside this script), 32 clients, -M prepared.
# (A copy of shared/bench/ceilings.sh; the one change: an optional third argument names the
# ceilings to run, so bench/run.sh can measure each right after its own scenario.)
#   ceilings.sh PGURL [SECONDS] [NAMES]   (PGURL: an empty database it may fill, e.g. postgresql://postgres@127.0.0.1:5432/ceiling)
# Prints one line per ceiling: "CEILING name tps". Run it in the same run as the service's
# own load test and report each endpoint as a ratio of its ceiling.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); url=$1; secs=${2:-10}; names=${3:-create_lead_tx select_lead otp_send_tx}
pgbench=$(command -v pgbench) || { echo "pgbench not found (Debian: postgresql-client)" >&2; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$here/reference-schema.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$here/seed_leads.sql" >/dev/null
for name in $names; do
  out=$("$pgbench" -n -M prepared -c 32 -j 2 -T "$secs" -f "$here/$name.sql" "$url" 2>&1 || true)
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
  [[ -n $tps ]] || { echo "pgbench $name failed: $(tail -3 <<<"$out")" >&2; exit 1; }
  echo "CEILING $name $tps"
done
