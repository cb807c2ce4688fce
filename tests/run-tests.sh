#!/bin/sh
# Installs what gst-bidi needs (Debian 12, as root), builds it and runs the
# test suite with check's output. Fails on any failed test, and when no test
# ran at all.
#
#   ./tests/run-tests.sh              build in ./build and run meson test -v
#   ./tests/run-tests.sh --valgrind   also run every check under valgrind
#
# Then, when all passed, every fuzz target for 30 s (tests/fuzz/run-fuzz.sh).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-build}
valgrind=no
[ "${1:-}" = "--valgrind" ] && valgrind=yes

"$top/tests/install-and-build.sh" --tests

log=$(mktemp)
trap 'rm -f "$log" "$log.status"' EXIT
status=0

# Runs a command with its output shown and kept in $log, and returns the
# command's status (a pipeline's status is tee's, and sh has no pipefail)
run() {
  { rc=0; "$@" 2>&1 || rc=$?; echo "$rc" > "$log.status"; } | tee -a "$log"
  return "$(cat "$log.status")"
}

# The last lines of every test that did not pass, again at the end of the
# run, where a CI page that shows only the end of the log still has them
# (meson's -v prints a test's output while it runs, many lines earlier)
show_failures() {
  [ -f "$1" ] || return 0
  python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    test = json.loads(line)
    if test.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
        continue
    lines = (test.get("stdout") or "").splitlines()
    # valgrind's own notes ("--PID-- ...") say nothing of the failure
    lines = [l for l in lines if not l.startswith("--")]
    print("run-tests: %s %s, its last lines:" % (test["name"], test["result"]))
    print("\n".join("  " + l for l in lines[-60:]))
EOF
}

run meson test -C "$build" -v --print-errorlogs || status=$?
[ "$status" = 0 ] || show_failures "$build/meson-logs/testlog.json"
if [ "$valgrind" = yes ] && [ "$status" = 0 ]; then
  run meson test -C "$build" -v --print-errorlogs --setup valgrind \
    || status=$?
  [ "$status" = 0 ] \
    || show_failures "$build/meson-logs/testlog-valgrind.json"
fi

# Every libFuzzer target for FUZZ_SECONDS (30) on its committed corpus, in
# a clang build of its own (build-fuzz); FUZZ_SECONDS=0 leaves them out
fuzz_seconds=${FUZZ_SECONDS:-30}
if [ "$status" = 0 ] && [ "$fuzz_seconds" != 0 ]; then
  run "$top/tests/fuzz/run-fuzz.sh" "$fuzz_seconds" || status=$?
fi

# check prints "NN%: Checks: N, Failures: F, Errors: E" per test program,
# and again after "Results for all suites run:" in its log (CK_LOG_FILE_NAME)
checks=$(awk '
  /^[0-9]+%: Checks: / && prev !~ /^Results for all suites run:/ {
    sub(/^[0-9]+%: Checks: /, ""); n += $1 + 0
  }
  { prev = $0 }
  END { print n + 0 }' "$log")
if [ "$checks" -eq 0 ]; then
  echo "run-tests: no test ran" >&2
  exit 1
fi
echo "run-tests: $checks checks ran"
exit "$status"
