#!/usr/bin/env bash
# Builds the fuzz targets (CMake preset "fuzz", clang) and runs each briefly over its seed corpus
# (fuzz/corpus/<target>). CI runs this from scripts/test.sh. Fails when any target crashes,
# leaks, hits UB, times out or breaks one of its invariants; the input is printed and kept in
# build/fuzz/findings/.
#
#   bash fuzz/run.sh [TARGET...]        FUZZ_SECONDS=15 per target by default
#
# The checked-in corpora are read, never written: new inputs go to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-15}"
# A fixed seed and a fixed number of runs make the CI step repeatable: the same inputs on every
# machine (a slower one stops earlier, at FUZZ_SECONDS). FUZZ_SEED=0 (random) and FUZZ_RUNS=-1
# (unbounded) for exploring.
seed="${FUZZ_SEED:-1}"
declare -A runs_cap=([create_lead]=200000 [lead_flash]=150000 [webhook]=200000 [mobile]=1000000
  [config]=100000 [http_request]=40000)
targets=(create_lead lead_flash webhook mobile config http_request)
if [[ $# -gt 0 ]]; then targets=("$@"); fi

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ is missing (Debian: apt-get install clang)" >&2
  exit 1
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

# The dictionary of each target (fuzz/dict), and its longest input: the HTTP target's reaches the
# server's 16 KiB header limit and 24 KiB read buffer.
declare -A dict=([create_lead]=lead [lead_flash]=lead [webhook]=webhook [config]=config
  [http_request]=http_request)
declare -A max_len=([http_request]=32768)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
findings=build/fuzz/findings
failed=()
for target in "${targets[@]}"; do
  binary="build/fuzz/fuzz/fuzz_${target}"
  corpus="fuzz/corpus/${target}"
  [[ -x "$binary" && -d "$corpus" ]] || { echo "fuzz: unknown target ${target}" >&2; exit 1; }
  # A unit takes milliseconds; -timeout (wall clock) leaves room for a busy machine.
  args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
    -seed="$seed" -runs="${FUZZ_RUNS:-${runs_cap[$target]}}" -artifact_prefix="$work/${target}-")
  if [[ -n "${dict[$target]:-}" ]]; then args+=(-dict="fuzz/dict/${dict[$target]}.dict"); fi
  if [[ -n "${max_len[$target]:-}" ]]; then args+=(-max_len="${max_len[$target]}"); fi
  mkdir -p "$work/$target"
  started=$SECONDS
  if "$binary" "${args[@]}" "$work/$target" "$corpus" >"$work/$target.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log")
    echo "fuzz: ${target}: ${runs:-?} runs in $((SECONDS - started)) s, no finding"
  else
    failed+=("$target")
    echo "fuzz: ${target} FAILED; the end of its log:" >&2
    tail -n 60 "$work/$target.log" >&2
    mkdir -p "$findings"
    for input in "$work/${target}-"*; do
      [[ -e "$input" ]] || continue
      cp "$input" "$findings/"
      echo "fuzz: input $findings/$(basename "$input") (first 512 bytes):" >&2
      head -c 512 "$input" | od -An -c >&2
    done
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: findings in ${failed[*]} (reproduce: build/fuzz/fuzz/fuzz_<target> <input>)" >&2
  exit 1
fi
