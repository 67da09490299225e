#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests and prints its connection URL on stdout:
#   postgresql://leadgate_test:PASSWORD@127.0.0.1:PORT/leadgate_test
#
# usage: tests/pg/start_pg.sh [PORT] [DIR_FILE]
#   PORT      TCP port on 127.0.0.1 (default: a free one)
#   DIR_FILE  file that receives the server's base directory (default: $LEADGATE_PG_DIR_FILE or
#             ${TMPDIR:-/tmp}/leadgate-pg.dir); tests/pg/stop_pg.sh DIR stops and removes it.
#
# The server listens on 127.0.0.1 only (plus a private unix socket in its base directory), keeps
# fsync on, and requires a password over TCP (scram-sha-256). Run as root (CI) it initialises and
# runs the cluster as the `postgres` user; run as anyone else, as that user.
set -euo pipefail

port="${1:-}"
dir_file="${2:-${LEADGATE_PG_DIR_FILE:-${TMPDIR:-/tmp}/leadgate-pg.dir}}"

log() { echo "start_pg: $*" >&2; }

bindir=""
shopt -s nullglob
installed=(/usr/lib/postgresql/*/bin)
shopt -u nullglob
for d in $(printf '%s\n' "${installed[@]}" | sort -V -r); do
  if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/psql" ]]; then bindir="$d"; break; fi
done
if [[ -z "$bindir" ]] && command -v pg_config >/dev/null; then
  d="$(pg_config --bindir)"
  [[ -x "$d/initdb" ]] && bindir="$d"
fi
[[ -n "$bindir" ]] || { log "no PostgreSQL server binaries found (apt-get install postgresql)"; exit 1; }

if [[ "$(id -u)" -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { log "running as root but there is no 'postgres' user"; exit 1; }
  run_pg() { runuser -u postgres -- "$@"; }
  owner="postgres"
else
  run_pg() { "$@"; }
  owner="$(id -un)"
fi

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
}
# A free port below the kernel's ephemeral range (32768+ here), so that no outgoing connection of a
# test running in parallel can take it between this check and the server's bind.
pick_port() {
  local candidate
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 12000))
    if port_is_free "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
auto_port=0
if [[ -z "$port" ]]; then
  auto_port=1
  port="$(pick_port)" || { log "no free port found"; exit 1; }
fi
[[ "$port" =~ ^[0-9]+$ ]] || { log "bad port: $port"; exit 1; }

base="$(mktemp -d "${TMPDIR:-/tmp}/leadgate-pg.XXXXXX")"
chmod 700 "$base"
mkdir -p "$base/data" "$base/sock"
chown -R "$owner" "$base"
echo "$base" >"$dir_file"

password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
role="leadgate_test"
db="leadgate_test"

fail() {
  log "$1"
  [[ -f "$base/postgres.log" ]] && tail -n 30 "$base/postgres.log" >&2
  exit 1
}

run_pg "$bindir/initdb" -D "$base/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
  run_pg "$bindir/initdb" -D "$base/data" -U postgres --auth-local=peer \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >"$base/initdb.log" 2>&1 ||
  fail "initdb failed: $(tail -n 5 "$base/initdb.log")"

cat >>"$base/data/postgresql.conf" <<CONF
# leadgate test server
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base/sock'
fsync = on
max_connections = 200
password_encryption = 'scram-sha-256'
log_min_messages = warning
CONF

# A port picked here can still be taken by another process before the server binds it: then try
# another one (a port given by the caller is used as is).
for attempt in 1 2 3 4 5; do
  if run_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -t 60 start >&2; then
    break
  fi
  [[ "$auto_port" -eq 1 && "$attempt" -lt 5 ]] || fail "pg_ctl start failed"
  log "could not start on port $port (attempt $attempt), trying another"
  tail -n 5 "$base/postgres.log" >&2 || true
  port="$(pick_port)" || fail "no free port found"
  sed -i "s/^port = .*/port = $port/" "$base/data/postgresql.conf"
done

psql_admin() {
  run_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$base/sock" -p "$port" -U postgres -d postgres "$@"
}
psql_admin -c "CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password'" >&2 || fail "create role failed"
psql_admin -c "CREATE DATABASE $db OWNER $role" >&2 || fail "create database failed"

log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $base"
echo "postgresql://$role:$password@127.0.0.1:$port/$db"
