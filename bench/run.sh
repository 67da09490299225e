#!/usr/bin/env bash
# leadgate benchmark suite (issue 9). See bench/README.md.
#
#   bash bench/run.sh [--quick] [--duration SECONDS] [--leads N] [--only LIST] [--build-dir DIR]
#                     [--no-build] [--keep] [--out FILE]
#
# Starts its own PostgreSQL (fsync + synchronous_commit on), nginx as fast fake partners and the
# release build of leadgate; drives each scenario with wrk (bench/wrk/*.lua); runs pgbench with
# leadgate's own SQL (bench/pgbench/*.sql) as the ceiling; writes bench/results/DATE-COMMIT.md.
# Everything it starts is stopped on exit.
set -euo pipefail

# Run from a private copy: bash reads a script as it goes, so editing bench/run.sh during a run
# would otherwise derail it.
if [[ -z "${LEADGATE_BENCH_ROOT:-}" ]]; then
  copy="$(mktemp /tmp/leadgate-bench-run.XXXXXX)"
  cp "$0" "$copy"
  LEADGATE_BENCH_ROOT="$(cd "$(dirname "$0")/.." && pwd)" exec bash "$copy" "$@"
fi
root="$LEADGATE_BENCH_ROOT"
unset LEADGATE_BENCH_ROOT
rm -f "$0"
bench="$root/bench"
command_line="bash bench/run.sh $*"
duration=20
quick=0
big_leads=1000000
only="all"
build_dir="$root/build/release"
build=1
bin_override=""
keep=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; duration=5; big_leads=100000; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --leads) big_leads="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --bin) bin_override="$2"; build=0; shift 2 ;;  # script debugging only: any binary
    --keep) keep=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
want() { [[ "$only" == all || ",$only," == *",$1,"* ]]; }

log() { echo "bench: $*" >&2; }
for tool in wrk pgbench nginx psql curl openssl python3; do
  command -v "$tool" >/dev/null || { log "missing $tool (apt-get install wrk postgresql nginx curl)"; exit 1; }
done

work="$(mktemp -d /tmp/leadgate-bench.XXXXXX)"
chmod 755 "$work"
mkdir -p "$work/ids" "$work/nginx"
pids=()
pg_dir_file="$work/pg.dir"
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -f "$pg_dir_file" ]] && bash "$root/tests/pg/stop_pg.sh" "$pg_dir_file" 2>/dev/null || true
  if [[ $keep -eq 1 || $rc -ne 0 ]]; then log "work files kept in $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return; fi
  done
  return 1
}

# ---------------------------------------------------------------- build
# The healthz target also needs the minimal Beast server (bench/hello_server.cpp), built by the
# same build with the same flags (-DLEADGATE_BUILD_BENCH=ON).
targets=(leadgate)
bench_flag=()
if want healthz || want targets; then targets+=(leadgate_hello_bench); bench_flag=(-DLEADGATE_BUILD_BENCH=ON); fi
if [[ $build -eq 1 ]]; then
  if [[ "$build_dir" == "$root/build/release" ]]; then
    (cd "$root" && cmake --preset release "${bench_flag[@]}" >/dev/null &&
      cmake --build build/release --target "${targets[@]}") >&2
  else
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${bench_flag[@]}" >/dev/null
    cmake --build "$build_dir" --target "${targets[@]}" >&2
  fi
fi
bin="${bin_override:-$build_dir/leadgate}"
hello_bin="$build_dir/bench/leadgate_hello_bench"
[[ -x "$bin" ]] || { log "no binary at $bin"; exit 1; }
[[ -n "$bin_override" ]] || grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build_dir/CMakeCache.txt" ||
  { log "$build_dir is not a Release build"; exit 1; }

commit="$(git -C "$root" rev-parse --short HEAD)"
dirty=""
git -C "$root" diff --quiet HEAD -- src CMakeLists.txt || dirty="+uncommitted"
today="$(date -u +%Y-%m-%d)"
[[ -n "$out" ]] || out="$bench/results/$today-$commit.md"
out="$(realpath -m "$out")"  # so that a relative --out under bench/results/ also updates LATEST.md

# ---------------------------------------------------------------- PostgreSQL
log "starting PostgreSQL"
pg_url="$(LEADGATE_PG_DIR_FILE="$pg_dir_file" bash "$root/tests/pg/start_pg.sh")"
pg_base="$(cat "$pg_dir_file")"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
# Production-like memory; durability exactly as in production (fsync, synchronous_commit on).
cat >>"$pg_base/data/postgresql.conf" <<CONF
shared_buffers = 1GB
synchronous_commit = on
fsync = on
full_page_writes = on
max_wal_size = 4GB
CONF
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_base/data" -l "$pg_base/postgres.log" -w -t 60 restart >/dev/null
q() { psql "$pg_url" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
pg_settings="$(q -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method','full_page_writes','shared_buffers','max_connections','server_version')")"
log "PostgreSQL: $pg_settings"
[[ "$pg_settings" == *"fsync=on"* && "$pg_settings" == *"synchronous_commit=on"* ]] ||
  { log "fsync/synchronous_commit are not on"; exit 1; }
fsync_rate="$("$pg_bin/pg_test_fsync" -s 1 -f "$pg_base/data/fsync.test" 2>/dev/null |
  awk '/^ +fdatasync/ {print $2; exit}')"
rm -f "$pg_base/data/fsync.test"
log "pg_test_fsync: fdatasync ${fsync_rate} ops/s"
# The disk's tail on the idle machine: how often a commit must wait > 5 ms whatever runs above it.
fsync_tail=""
if want webhook || want create_lead; then
  fsync_tail="$(python3 "$bench/fsync_tail.py" "$pg_base/data" 15 5,10)"
  log "fdatasync tail: $fsync_tail"
fi

# ---------------------------------------------------------------- fake partners (nginx)
ngx_port="$(free_port)"
sed -e "s#@DIR@#$work/nginx#g" -e "s#@PORT@#$ngx_port#g" "$bench/fake_partners.nginx.conf" \
  >"$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'user root;' &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$ngx_port/GetApplicationStatus?basic_application_id=X" >/dev/null && break; sleep 0.05; done

# ---------------------------------------------------------------- leadgate
lg_port="$(free_port)"
webhook_token="$(openssl rand -hex 16)"
export LEADGATE_LISTEN="127.0.0.1:$lg_port"
export LEADGATE_DATABASE_URL="$pg_url"
export LEADGATE_BASIC_APP_URL="http://127.0.0.1:$ngx_port"
export LEADGATE_GUPSHUP_URL="http://127.0.0.1:$ngx_port"
export LEADGATE_PII_KEY="$(openssl rand -base64 32)"  # generated per run, never stored
export LEADGATE_WEBHOOK_VERIFY_TOKEN="$(openssl rand -hex 16)"
export LEADGATE_GUPSHUP_WEBHOOK_TOKEN="$webhook_token"
export LEADGATE_DATA_DIR="$root/data"
for env in ORBIT HOMFINITY; do
  export "LEADGATE_${env}_BASIC_APP_API_KEY=bench" "LEADGATE_${env}_BASIC_APP_USER_ID=bench"
  export "LEADGATE_${env}_GUPSHUP_API_KEY=bench"
done
export LEADGATE_ORBIT_GUPSHUP_SOURCE=917834811114 LEADGATE_ORBIT_GUPSHUP_APP_NAME=OrbitLoans
export LEADGATE_HOMFINITY_GUPSHUP_SOURCE=917834811115 LEADGATE_HOMFINITY_GUPSHUP_APP_NAME=HomfinityLoans
# The OTP per-API-key limit (60/min by default) would stop a load test after one second: raised to
# its maximum. Per-phone limits stay as configured: every request uses a new phone.
export LEADGATE_OTP_KEY_SENDS_PER_MINUTE=100000
# The same for the per-key request budget (LEADGATE_KEY_REQUESTS_PER_MINUTE, 6,000 by default):
# one key drives every scenario here.
export LEADGATE_KEY_REQUESTS_PER_MINUTE=1000000
# Extra settings under test (e.g. LEADGATE_DB_THREADS) come from the caller's environment.

"$bin" migrate >/dev/null 2>"$work/migrate.log"
# The create_lead ceiling writes leads, audit and outbox rows: in a database of its own, so that
# leadgate's outbox dispatcher never sees them (same schema, migrated by leadgate).
q -c "CREATE DATABASE leadgate_ceiling" >/dev/null
ceiling_url="${pg_url%/*}/leadgate_ceiling"
LEADGATE_DATABASE_URL="$ceiling_url" "$bin" migrate >/dev/null 2>>"$work/migrate.log"
api_key="$("$bin" apikey create --name bench --env orbit,homfinity 2>/dev/null | tail -n 1)"
[[ "$api_key" == lg_* ]] || { log "apikey create failed"; exit 1; }

"$bin" serve >"$work/leadgate.log" 2>&1 &
lg_pid=$!
pids+=($lg_pid)
for _ in $(seq 1 500); do
  curl -fs "http://127.0.0.1:$lg_port/readyz" >/dev/null && break
  kill -0 "$lg_pid" 2>/dev/null || { log "leadgate died"; tail -n 20 "$work/leadgate.log" >&2; exit 1; }
  sleep 0.02
done
sleep 2
rss_kb() { awk "/^$1:/ {print \$2}" "/proc/$lg_pid/status"; }
idle_rss_start="$(rss_kb VmRSS)"
log "leadgate ready on :$lg_port (idle RSS $((idle_rss_start / 1024)) MB)"

# ---------------------------------------------------------------- measurement helpers
url="http://127.0.0.1:$lg_port"
results="$work/results.tsv"
: >"$results"
clk="$(getconf CLK_TCK)"
seq_no=0
cpu_ticks() { awk '{print $14 + $15}' "/proc/$lg_pid/stat"; }
# The whole machine's busy and total ticks (every process: leadgate, PostgreSQL, wrk, nginx).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# machine_busy "BEFORE" "AFTER": busy share of both cores between two machine_ticks (200 % = saturated).
machine_busy() { awk -v a="$1" -v b="$2" -v n="$(nproc)" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * n * (y[1] - x[1]) / (y[2] - x[2])}'; }

# run_wrk NAME SCRIPT CONNECTIONS SECONDS [VAR=VALUE...]: one wrk run; appends a row to results.
# Sets last_rate, last_p50_us, last_non2xx.
run_wrk() {
  local name="$1" script="$2" conns="$3" secs="$4"
  shift 4
  local threads=2
  ((conns < threads)) && threads="$conns"
  seq_no=$((seq_no + 1))
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo 5 >"/proc/$lg_pid/clear_refs"  # resets VmHWM: the peak below is this scenario's
  local c0 t0 t1 c1 m0 m1
  c0="$(cpu_ticks)"
  m0="$(machine_ticks)"
  t0="$(date +%s.%N)"
  local raw="$work/wrk-$seq_no-$name.txt"
  # In a subshell whose `times` then reports its children's CPU: wrk's own (the load generator
  # shares the 2 cores with what it measures).
  (
    env BENCH_DIR="$bench" BENCH_OUT="$work/ids" BENCH_SEQ="$seq_no" BENCH_KEY="$api_key" \
      BENCH_DATA_DIR="$root/data" BENCH_THREADS="$threads" BENCH_WEBHOOK_TOKEN="$webhook_token" "$@" \
      wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s -s "$bench/wrk/$script" "${wrk_url:-$url}" >"$raw" 2>&1 || true
    times >"$raw.times"
  )
  t1="$(date +%s.%N)"
  local wcpu
  wcpu="$(awk -v t0="$t0" -v t1="$t1" 'NR == 2 {
      split($1, u, /[ms]/); split($2, y, /[ms]/)
      printf "%.0f", 100 * (u[1] * 60 + u[2] + y[1] * 60 + y[2]) / (t1 - t0) }' "$raw.times")"
  c1="$(cpu_ticks)"
  m1="$(machine_ticks)"
  local hwm
  hwm="$(rss_kb VmHWM)"
  local line
  line="$(grep '^BENCH_RESULT' "$raw" || true)"
  if [[ -z "$line" ]]; then
    log "$name: wrk produced no result"; cat "$raw" >&2
    printf '%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\tINVALID (no result)\n' "$name" "$conns" "$load" >>"$results"
    last_rate=0; last_p50_us=0; last_non2xx=1
    return
  fi
  local requests duration_us p50 p99 p999 errs
  requests="$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")"
  duration_us="$(sed -E 's/.*duration_us=([0-9]+).*/\1/' <<<"$line")"
  p50="$(sed -E 's/.* p50=([0-9]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.* p99=([0-9]+).*/\1/' <<<"$line")"
  p999="$(sed -E 's/.* p999=([0-9]+).*/\1/' <<<"$line")"
  errs="$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /_err=/) {split($i, a, "="); if (a[1] != "status_err") s += a[2]}} END {print s + 0}' <<<"$line")"
  local non2xx
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$raw")"
  non2xx="${non2xx:-0}"
  # Scripts whose threads stop early report the time from first request to last answer.
  local active_us
  active_us="$(sed -nE 's/^BENCH_ACTIVE active_us=([0-9]+).*/\1/p' "$raw")"
  if [[ -n "$active_us" && "$active_us" -gt 0 ]]; then
    duration_us="$active_us"
    t1="$(awk -v a="$t0" -v d="$active_us" 'BEGIN {printf "%.6f", a + d / 1e6}')"
  fi
  local rate cpu mcpu valid
  rate="$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.0f", r / (d / 1e6)}')"
  cpu="$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$clk" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / (t1 - t0)}')"
  mcpu="$(machine_busy "$m0" "$m1")"
  valid="valid"
  [[ "$non2xx" != 0 || "$errs" != 0 ]] && valid="INVALID (errors)"
  ((requests == 0)) && valid="INVALID (no requests)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$rate" \
    "$(awk -v v="$p50" 'BEGIN {printf "%.2f", v / 1000}')" \
    "$(awk -v v="$p99" 'BEGIN {printf "%.2f", v / 1000}')" \
    "$(awk -v v="$p999" 'BEGIN {printf "%.2f", v / 1000}')" \
    "$non2xx" "$errs" "$((hwm / 1024))" "$cpu" "$mcpu" "$wcpu" "$load" "$valid" >>"$results"
  log "$(printf '%-28s c=%-4s %6s req/s  p50 %6.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  non-2xx %s  err %s  RSS %s MB  CPU %s%% (machine %s%%, wrk %s%%)  [%s]' \
    "$name" "$conns" "$rate" "$(awk -v v="$p50" 'BEGIN {print v / 1000}')" \
    "$(awk -v v="$p99" 'BEGIN {print v / 1000}')" "$(awk -v v="$p999" 'BEGIN {print v / 1000}')" \
    "$non2xx" "$errs" "$((hwm / 1024))" "$cpu" "$mcpu" "$wcpu" "$valid")"
  if [[ "$non2xx" != 0 ]]; then
    grep -o '"code":"[A-Z_]*"' "$work/leadgate.log" 2>/dev/null | sort | uniq -c | sort -rn | head -n 5 >&2 || true
  fi
  last_rate="$rate"; last_p50_us="$p50"; last_non2xx="$non2xx"
}

# run_paced NAME SCRIPT TARGET_RATE SECONDS [VAR=VALUE...]: wrk with a fixed pause per request on
# each connection (wrk's delay() hook), so the offered load is about TARGET_RATE instead of "as
# fast as possible". A 3 s calibration run measures the service time S; then each connection
# cycles every C = max(20 ms, 2 S) (pause C - S) and connections = TARGET × C.
run_paced() {
  local name="$1" script="$2" target="$3" secs="$4"
  shift 4
  local conns=$(((target * 20 + 999) / 1000))
  ((conns < 2)) && conns=2
  local delay=$((conns * 1000 / target))
  run_wrk "$name-calibration" "$script" "$conns" 3 BENCH_DELAY_MS="$delay" "$@"
  sed -i '$d' "$results"
  local service_ms=0
  if ((last_rate > 0)); then
    service_ms="$(awk -v c="$conns" -v r="$last_rate" -v d="$delay" 'BEGIN {s = c * 1000 / r - d; if (s < 0) s = 0; printf "%d", s + 0.5}')"
  fi
  local cycle=$((2 * service_ms))
  ((cycle < 20)) && cycle=20
  conns=$(((target * cycle + 999) / 1000))
  ((conns < 2)) && conns=2
  delay=$((conns * 1000 / target - service_ms))
  ((delay < 1)) && delay=1
  run_wrk "$name" "$script" "$conns" "$secs" BENCH_DELAY_MS="$delay" "$@"
  paced_conns=$conns
}

# pgbench_ceiling NAME SCRIPT CLIENTS SECONDS URL [-D VAR=VALUE...]: transactions/s of leadgate's
# own SQL.
pgbench_ceiling() {
  local name="$1" script="$2" clients="$3" secs="$4" db="$5"
  shift 5
  local raw="$work/pgbench-$name.txt"
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  # -T includes opening the connections (SCRAM, slow with many clients); tps excludes it.
  pgbench -n -M extended -c "$clients" -j 2 -T "$((secs + 5))" -f "$bench/pgbench/$script" -r \
    -l --log-prefix="$work/pgl_$name" "$@" \
    "$db" >"$raw" 2>&1 || { log "pgbench $name failed"; cat "$raw" >&2; }
  local tps lat failed
  tps="$(awk '/^tps = / {printf "%.0f", $3}' "$raw")"
  lat="$(awk '/^latency average = / {print $4}' "$raw")"
  failed="$(awk '/number of failed transactions:/ {print $5}' "$raw")"
  # Per-transaction log (-l): p50/p99 of the SQL alone.
  local pct
  pct="$(cat "$work"/pgl_"$name".* 2>/dev/null | awk '{print $3}' | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.2f\t%.2f", v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000; else printf "-\t-"}')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$clients" "${tps:-0}" "${lat:-?}" "${failed:-0}" "$load" "$pct" >>"$work/ceilings.tsv"
  log "ceiling $name c=$clients: ${tps:-?} tx/s (avg ${lat:-?} ms, failed ${failed:-0})"
  last_tps="${tps:-0}"
}
: >"$work/ceilings.tsv"

cat_ids() { cat "$work"/ids/ids_"$(printf %02d "$1")"_*.txt 2>/dev/null; }
# Filler leads: copies of a real lead's row with fresh unique keys (reference_id, blind indexes,
# LOS ids), so tables and indexes have the size of N real leads for the lookups under test.
fill_leads_to() {
  local target="$1" have
  have="$(q -c "SELECT COUNT(*) FROM leads")"
  ((have >= target)) && return
  log "seeding $((target - have)) leads (to $target)"
  # Steady state of a status poll: the LOS already reported this status once (what the fake
  # answers), so a lead_status refresh finds it unchanged, as for most polls in production.
  q -c "UPDATE leads SET partner_status = 'Under Review', partner_stage = 'Credit assessment',
          partner_updated_at = 1767225600000 WHERE partner_status = '' AND basic_application_id IS NOT NULL"
  q <<SQL
INSERT INTO leads (environment, reference_id, basic_application_id, application_id, status,
  first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, pan_bidx,
  loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender,
  application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income,
  include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at,
  updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, partner_status,
  partner_stage, partner_updated_at, status_refreshed_at)
SELECT t.environment, md5('ref' || g)::uuid::text, 'F' || upper(substr(md5('bid' || g), 1, 12)),
  md5('app' || g)::uuid::text, t.status, t.first_name_enc, t.last_name_enc, t.mobile_enc,
  t.email_enc, t.pan_enc, t.dob_enc, encode(sha256(('m' || g)::bytea), 'hex'),
  encode(sha256(('p' || g)::bytea), 'hex'), t.loan_type, t.loan_amount_req, t.loan_tenure,
  t.credit_score, t.pincode, t.state, t.gender, t.application_assigned_to_rm, t.remarks,
  t.customer_id, t.qr_short_code, t.annual_income, t.include_credit_score, t.is_lead_prefilled,
  t.los_error, md5('req' || g), t.user_agent, t.created_at - g * 1000, t.updated_at - g * 1000,
  t.flash_details_enc, t.completion_reference, t.flashed_at, t.warnings_json, t.partner_status,
  t.partner_stage, t.partner_updated_at, t.status_refreshed_at
FROM (SELECT * FROM leads WHERE basic_application_id IS NOT NULL ORDER BY id LIMIT 1) t,
  generate_series($have + 1, $target) g;
SQL
  q -c "VACUUM ANALYZE leads" >/dev/null
  # Write the seed out now, not during the next measurement (a million rows are ~1 GB of WAL and
  # dirty pages; the checkpoint they trigger would otherwise land in the lead_status run).
  runuser -u postgres -- "$pg_bin/psql" -X -q -h "$pg_base/sock" -p "$(sed -E 's#.*:([0-9]+)/[^/]*$#\1#' <<<"$pg_url")" -U postgres \
    -d postgres -c CHECKPOINT >/dev/null 2>&1 || log "CHECKPOINT failed"
  log "leads now: $(q -c "SELECT COUNT(*) FROM leads")"
}

# ---------------------------------------------------------------- scenarios
create_seq=0
half_target=0
if want create_lead || want lead_flash || want lead_status; then
  run_wrk create_lead create_lead.lua 16 "$duration"
  create_seq=$seq_no
  create_peak=$last_rate
  cat_ids "$create_seq" >"$work/leads.txt"
  pgbench_ceiling create_lead create_lead.sql 16 "$duration" "$ceiling_url"
  create_ceiling=$last_tps
  half_target=$((create_peak / 2))
  ((half_target < 1)) && half_target=1
  run_paced create_lead_half_peak create_lead.lua "$half_target" "$duration"
  # The same SQL alone at the same rate (pgbench -R: a fixed schedule): the latency floor.
  pgbench_ceiling create_lead_half_peak create_lead.sql "$paced_conns" \
    "$duration" "$ceiling_url" -R "$half_target"
  cat_ids "$seq_no" >>"$work/leads.txt"
fi

if want lead_flash; then
  run_wrk lead_flash lead_flash.lua 16 "$duration" BENCH_IDS="$work/leads.txt"
fi

if want lead_status; then
  fill_leads_to 10000
  run_wrk lead_status_10k lead_status.lua 64 "$duration" BENCH_IDS="$work/leads.txt"
  status_10k_p50=$last_p50_us
  fill_leads_to "$big_leads"
  run_wrk "lead_status_$((big_leads / 1000))k" lead_status.lua 64 "$duration" BENCH_IDS="$work/leads.txt"
  status_big_p50=$last_p50_us
  status_big_rate=$last_rate
  # On leadgate's own database: the same leads; it only refreshes status_refreshed_at, as leadgate.
  pgbench_ceiling lead_status lead_status.sql 64 "$duration" "$pg_url" -D "leads=$(wc -l <"$work/leads.txt")"
  status_ceiling=$last_tps
  pgbench_ceiling round_trip select1.sql 64 "$duration" "$pg_url"
  # The floor of one lead_status from its parts, each alone at the same concurrency: leadgate's
  # cheapest request (/healthz: HTTP in and out, no store, no partner) and the fake LOS answering
  # the status call directly (the partner side of leadgate's live call). A lead_status costs at
  # least one of each plus its SQL, so 1 / (1/healthz + 1/los + 1/SQL ceiling) bounds it.
  run_wrk floor_healthz healthz.lua 64 "$duration"
  floor_healthz=$last_rate
  wrk_url="http://127.0.0.1:$ngx_port" run_wrk floor_los_status_direct los_status.lua 64 "$duration"
  floor_los=$last_rate
fi

if want otp; then
  : >"$work/nginx/gupshup-templates.log"
  run_wrk otp_send otp_send.lua 16 "$duration"
  python3 "$bench/otp_codes.py" "$work/nginx/gupshup-templates.log" >"$work/otp_codes.txt"
  log "otp codes captured: $(wc -l <"$work/otp_codes.txt")"
  run_wrk otp_verify otp_verify.lua 16 "$duration" BENCH_CODES="$work/otp_codes.txt"
fi

# Issue 19's targets: each hot endpoint at 32 connections beside PostgreSQL's own ceiling for its
# lean SQL (bench/reference/, a copy of shared/bench: one lean transaction per request, nothing
# of leadgate's), measured right after it in this run; reported as ratios (report.py, "Targets").
: >"$work/lean.tsv"
lean_ceiling() {  # lean_ceiling NAME: pgbench of bench/reference/NAME.sql into lean.tsv
  local db="leadgate_lean_$1"
  q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  q -c "CREATE DATABASE $db" >/dev/null
  local line
  line="$(bash "$bench/reference/ceilings.sh" "${pg_url%/*}/$db" "$duration" "$1" | grep '^CEILING')" ||
    { log "lean ceiling $1 failed"; return 0; }
  log "lean $line"
  printf '%s\t%s\n' "$(awk '{print $2}' <<<"$line")" "$(awk '{print $3}' <<<"$line")" >>"$work/lean.tsv"
  q -c "DROP DATABASE $db" >/dev/null
}
warm_statuses() {
  q -c "UPDATE leads SET partner_status = 'Under Review', partner_stage = 'Credit assessment',
        partner_updated_at = 1767225600000,
        status_refreshed_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
        WHERE basic_application_id IS NOT NULL" >/dev/null
}
if want targets; then
  run_wrk target_create_lead create_lead.lua 32 "$duration"
  cat_ids "$seq_no" >>"$work/leads.txt"
  lean_ceiling create_lead_tx
  if [[ -s "$work/leads.txt" ]]; then
    # The leads just created have statistics, as any database autovacuum has looked at (it
    # analyzes a table once 10 % of it changed, within autovacuum_naptime = 1 min): without them
    # leadgate plans each statement at every run (PostgresStore::settle_plans). Its connections
    # look again at most 30 s later, so wait that long.
    q -c "ANALYZE leads" >/dev/null
    sleep 31
    # Status polling's steady state (issue 19): each status was fetched less than
    # LEADGATE_STATUS_TTL_SECONDS (60) ago and is what the fake LOS answers, so a read is answered
    # from the database alone. (The lead_status_* scenarios above read never-fetched statuses:
    # each first read waits for the LOS and stores its answer.)
    warm_statuses
    run_wrk target_lead_status lead_status.lua 32 "$duration" BENCH_IDS="$work/leads.txt"
    lean_ceiling select_lead
    # 1,000 keep-alive connections: load is shed only past a route's SLO, so none should be.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    warm_statuses
    run_wrk target_lead_status_1000_conns lead_status.lua 1000 "$duration" BENCH_IDS="$work/leads.txt"
  fi
  run_wrk target_otp_send otp_send.lua 32 "$duration"
  lean_ceiling otp_send_tx
fi

# The HTTP path: leadgate's /healthz, then a minimal Boost.Beast server (bench/hello_server.cpp,
# same build flags, same I/O thread count) with the same wrk settings, back to back; the report
# gives the ratio (target ≥ 0.75). The hello row's CPU and RSS columns are the hello server's.
if want healthz || want targets; then
  if [[ -x "$hello_bin" ]]; then
    hello_port="$(free_port)"
    "$hello_bin" "$hello_port" "${LEADGATE_THREADS:-2}" >"$work/hello.log" 2>&1 &
    hello_pid=$!
    pids+=($hello_pid)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$hello_port/" >/dev/null && break; sleep 0.05; done
    run_wrk target_healthz healthz.lua 64 "$duration"
    lg_pid=$hello_pid wrk_url="http://127.0.0.1:$hello_port" run_wrk target_healthz_hello healthz.lua 64 "$duration"
    kill "$hello_pid" 2>/dev/null || true
  else
    log "no $hello_bin (configure with -DLEADGATE_BUILD_BENCH=ON): healthz target skipped"
  fi
fi

# inbox_drain NAME: waits until the inbox processor has finished every stored callback (so the next
# run does not share the machine with the previous run's backlog); logs how long that took.
inbox_drain() {
  local t0 pending backlog secs m0 m1 c0 c1 busy
  t0="$(date +%s.%N)"
  m0="$(machine_ticks)"
  c0="$(cpu_ticks)"
  backlog="$(q -c "SELECT count(*) FROM whatsapp_inbox WHERE state = 'pending'")"
  pending="$backlog"
  for _ in $(seq 1 1200); do
    ((pending == 0)) && break
    sleep 0.5
    pending="$(q -c "SELECT count(*) FROM whatsapp_inbox WHERE state = 'pending'")"
  done
  secs="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
  m1="$(machine_ticks)"
  c1="$(cpu_ticks)"
  # CPU of the processing alone (no load meanwhile): the machine's and leadgate's share of it.
  busy="machine CPU $(machine_busy "$m0" "$m1") %, leadgate $(awk -v c0="$c0" -v c1="$c1" -v hz="$clk" -v s="$secs" 'BEGIN {printf "%.0f", 100 * (c1 - c0) / hz / s}') %"
  printf '%s: %s pending events processed in %s s%s, %s; ' "$1" "$backlog" "$secs" \
    "$( ((pending == 0)) && awk -v n="$backlog" -v s="$secs" 'BEGIN {if (s > 0) printf " (%.0f/s)", n / s}' || echo " (not drained: $pending left)")" \
    "$busy" >>"$work/drains.txt"
  log "inbox drained after $1 in $secs s, $busy (pending $pending; receipts kept so far: $(q -c "SELECT count(*) FILTER (WHERE outbox_id <> 0) || ' matched, ' || count(*) FILTER (WHERE outbox_id = 0) || ' unmatched' FROM delivery_receipts"))"
}

# seed_receipt_messages SEQ PER_THREAD: the sent WhatsApp messages that webhook.lua's receipts in
# wrk run SEQ are about (gsId bench-<C.unique(tid, n)> for tid 0-1, n 1..PER_THREAD), so a receipt
# finds its message at the first look, as a provider's receipts do. (One that finds none is looked
# at three times, 2 s apart, before it is kept unmatched: the rare case, not the common one.)
seed_receipt_messages() {
  q -c "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, attempts,
          next_attempt_at, provider_message_id, created_at, updated_at)
        SELECT 'orbit', 'BENCH-RECEIPTS', 'whatsapp_text', 'bench', 'sent', 1, 0,
          'bench-' || lpad(($(($1 % 100)) * 10000000 + t * 1000000 + i)::text, 9, '0'), 0, 0
        FROM generate_series(0, 1) t, generate_series(1, $2) i" >/dev/null
}

# paced_webhook NAME RATE: run_paced of webhook.lua with the messages of its two wrk runs seeded.
paced_webhook() {
  seed_receipt_messages $((seq_no + 1)) $(($2 * 3))
  seed_receipt_messages $((seq_no + 2)) $(($2 * duration))
  q -c "ANALYZE outbox" >/dev/null
  run_paced "$1" webhook.lua "$2" "$duration"
}

if want webhook; then
  seed_receipt_messages $((seq_no + 1)) $((6000 * duration))
  q -c "ANALYZE outbox" >/dev/null
  run_wrk webhook webhook.lua 64 "$duration"
  webhook_peak=$last_rate
  inbox_drain webhook
  paced_webhook webhook_at_5000 5000
  # The same offered load on an endpoint that touches no database: the latency floor of the HTTP
  # path and the shared machine at that rate.
  run_paced floor_healthz_at_5000 healthz.lua 5000 "$duration"
  for rate in ${BENCH_WEBHOOK_RATES:-}; do
    inbox_drain "webhook_at_$rate"
    paced_webhook "webhook_at_$rate" "$rate"
  done
fi

if want memory; then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 1,000 connections need the fds
  run_wrk healthz_1000_conns healthz.lua 1000 "$duration"
  sleep 3
fi
idle_rss_end="$(rss_kb VmRSS)"

# Start-up to ready on the embedded default (SQLite, fresh directory, sandboxed partners).
startup_rows=""
if want startup; then
  startup_rows="$(python3 "$bench/startup.py" "$bin" "$root/data" 10)"
  log "startup: $startup_rows"
fi

# ---------------------------------------------------------------- report
meta="$work/meta.txt"
{
  echo "commit=$commit$dirty"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')"
  echo "cores=$(nproc)"
  echo "ram=$(free -g | awk '/^Mem:/ {print $2}') GB"
  echo "kernel=$(uname -r)"
  echo "pg=$pg_settings"
  echo "fsync_rate=$fsync_rate"
  echo "fsync_tail=$fsync_tail"
  echo "duration=$duration"
  echo "quick=$quick"
  echo "big_leads=$big_leads"
  echo "idle_rss_start_kb=$idle_rss_start"
  echo "idle_rss_end_kb=$idle_rss_end"
  echo "startup=$startup_rows"
  echo "half_target=$half_target"
  echo "inbox_drains=$(cat "$work/drains.txt" 2>/dev/null)"
  echo "leadgate_env=$(env | grep -E '^LEADGATE_(DB_)?THREADS=' | tr '\n' ' ')"
  echo "command=$command_line"
} >"$meta"
mkdir -p "$(dirname "$out")"
python3 "$bench/report.py" "$meta" "$results" "$work/ceilings.tsv" "$work/lean.tsv" >"$out"
log "results: $out"
if [[ "$out" == "$(realpath "$bench")/results/"* && $quick -eq 0 && "$only" == all ]]; then
  cp "$out" "$bench/results/LATEST.md"  # what the READMEs link
fi
cat "$out"
