#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz) in their own build directory
# with clang and AddressSanitizer + UndefinedBehaviorSanitizer, and runs
# each on a copy of its committed corpus (tests/fuzz/corpus/<target>), one
# after the other. Fails when a target crashes, leaks, trips a sanitizer or
# an invariant, or runs out of time or memory on one input.
#
#   tests/fuzz/run-fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS: how long each target runs (default 30). TARGET: fuzz_events,
# fuzz_openai, ... (default: all that were built). Environment:
#   FUZZ_BUILD_DIR  the build directory (default build-fuzz)
#   FUZZ_ARTIFACTS  where crashing inputs go (default $FUZZ_BUILD_DIR/artifacts)
#   FUZZ_ARGS       more libFuzzer arguments (e.g. -runs=10000000)
#   FUZZ_KEEP_CORPUS  a directory: each target's grown corpus is kept in
#                   FUZZ_KEEP_CORPUS/<target> instead of being thrown away
# Needs clang and libFuzzer (Debian 12: clang, libfuzzer-14-dev).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${1:-30}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD_DIR:-build-fuzz}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}

if ! command -v clang >/dev/null 2>&1; then
  echo "run-fuzz: clang not found (apt-get install clang libfuzzer-14-dev)" >&2
  exit 1
fi

# The main build (gcc) is not touched: the fuzz build is its own directory
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  CC=clang meson setup "$build" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dtests=disabled -Dexamples=disabled -Ddoc=disabled >/dev/null
fi
ninja -C "$build" -j2 >/dev/null

mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
if [ $# -eq 0 ]; then
  for f in "$build"/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] && set -- "$@" "$(basename "$f")"
  done
fi

# A sanitizer report stops the run (the fuzzer saves the input); GLib's own
# allocations are told apart in fuzzcommon.h, see lsan.supp
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/fuzz/lsan.supp}"

status=0
for target in "$@"; do
  bin="$top/$build/tests/fuzz/$target"
  seeds="$top/tests/fuzz/corpus/$target"
  if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
    echo "run-fuzz: no target or corpus for $target" >&2
    status=1
    continue
  fi
  # the fuzzer adds to the corpus it is given: a copy, never the checkout
  work=$(mktemp -d)
  mkdir "$work/corpus"
  cp "$seeds"/* "$work/corpus/"
  rc=0
  # shellcheck disable=SC2086
  (cd "$work" && "$bin" -max_total_time="$secs" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$target-" ${FUZZ_ARGS:-} corpus \
      >"$work/log" 2>&1) || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  if [ "$rc" = 0 ]; then
    echo "run-fuzz: $target: ok, ${runs:-?} inputs in ${secs} s" \
      "($(ls "$work/corpus" | wc -l) in the corpus)"
  else
    echo "run-fuzz: $target FAILED (exit $rc); inputs in $artifacts;" \
      "the end of its log:"
    grep -v -e '^#[0-9]' -e '^	NEW_FUNC' "$work/log" | tail -60 | sed 's/^/  /'
    status=1
  fi
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$FUZZ_KEEP_CORPUS/$target"
    cp "$work/log" "$FUZZ_KEEP_CORPUS/$target.log"
    cp "$work/corpus"/* "$FUZZ_KEEP_CORPUS/$target/"
  fi
  rm -rf "$work"
done
exit "$status"
