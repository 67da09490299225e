#!/usr/bin/env bash
# Stops a server started by tests/pg/start_pg.sh and removes its directory.
# usage: tests/pg/stop_pg.sh [DIR]
#   DIR  the base directory start_pg.sh created, or the file it wrote that path to
#        (default: $LEADGATE_PG_DIR_FILE or ${TMPDIR:-/tmp}/leadgate-pg.dir)
set -euo pipefail

arg="${1:-${LEADGATE_PG_DIR_FILE:-${TMPDIR:-/tmp}/leadgate-pg.dir}}"
dir_file=""
if [[ -f "$arg" ]]; then
  dir_file="$arg"
  arg="$(cat "$arg")"
fi
base="$arg"
if [[ -z "$base" || ! -d "$base/data" ]]; then
  echo "stop_pg: $base is not a directory created by start_pg.sh" >&2
  exit 1
fi

bindir=""
if [[ -f "$base/data/PG_VERSION" ]]; then
  version="$(cat "$base/data/PG_VERSION")"
  [[ -x "/usr/lib/postgresql/$version/bin/pg_ctl" ]] && bindir="/usr/lib/postgresql/$version/bin"
fi
if [[ -z "$bindir" ]]; then
  shopt -s nullglob
  installed=(/usr/lib/postgresql/*/bin)
  shopt -u nullglob
  for d in $(printf '%s\n' "${installed[@]}" | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { bindir="$d"; break; }
  done
fi

if [[ "$(id -u)" -eq 0 ]]; then
  run_pg() { runuser -u postgres -- "$@"; }
else
  run_pg() { "$@"; }
fi

if [[ -n "$bindir" && -f "$base/data/postmaster.pid" ]]; then
  run_pg "$bindir/pg_ctl" -D "$base/data" -m fast -w -t 60 stop >&2 ||
    echo "stop_pg: pg_ctl stop failed; removing the directory anyway" >&2
fi
rm -rf -- "$base"
if [[ -n "$dir_file" ]] && [[ "$(cat "$dir_file" 2>/dev/null)" == "$base" ]]; then
  rm -f -- "$dir_file"
fi
echo "stop_pg: stopped and removed $base" >&2
