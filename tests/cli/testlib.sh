# Shared by the end-to-end scripts (sourced): $NFLUX, a temporary folder $TMP removed on exit, a
# private $NFLUX_DB, and the checks (run, expect_exit, expect_contains, expect_line, expect_json,
# expect_true). Each check counts into $passed / $failed; finish with `report_and_exit`.
set -u

NFLUX=${NFLUX:?set NFLUX to the nflux binary}
case $NFLUX in /*) ;; *) NFLUX=$PWD/$NFLUX ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nflux_cli.XXXXXX")
LOCK_PID=
cleanup() {
  if [ -n "$LOCK_PID" ]; then kill "$LOCK_PID" 2>/dev/null; wait "$LOCK_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# Keep the user's database out of it.
export NFLUX_DB=$TMP/default.db
unset NFLUX_KNOWLEDGE NFLUX_RULES

# The scripts' checks call python3 a few hundred times. The python3 first on PATH may be a version
# manager's shim that starts a shell and a dozen processes before Python (seen on this project's
# machines: 0.43 s a call, against 0.11 s for Debian's own, about 90 s of a CI pass), so Debian's
# is used where there is one; the scripts need only its standard library.
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

passed=0
failed=0
last_cmd=
OUT=$TMP/out
ERR=$TMP/err

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  echo "  command: $last_cmd"
  echo "  stdout:  $(head -c 400 "$OUT" | tr '\n' '|')"
  echo "  stderr:  $(head -c 400 "$ERR" | tr '\n' '|')"
}

# run CMD...: runs a command, keeping its stdout, stderr and exit code for the checks after it.
run() {
  last_cmd="$*"
  "$@" >"$OUT" 2>"$ERR"
  last_code=$?
}

# expect_exit CODE CMD...: runs the command and checks its exit code.
expect_exit() {
  local want=$1
  shift
  run "$@"
  if [ "$last_code" -eq "$want" ]; then pass; else fail "exit $last_code, expected $want"; fi
}

# expect_contains TEXT: the last command's stdout or stderr contains TEXT (a fixed string).
expect_contains() {
  if grep -qF -- "$1" "$OUT" "$ERR"; then pass; else fail "output does not contain: $1"; fi
}

# expect_line TEXT: some line of the last command's stdout or stderr is exactly TEXT.
expect_line() {
  if grep -qxF -- "$1" "$OUT" "$ERR"; then pass; else fail "no line exactly: $1"; fi
}

# expect_json PYTHON_EXPR...: the last command's stdout is JSON, and each expression (over `d`) is
# true. One check per expression, evaluated in one python3 process.
expect_json() {
  local failures count line
  failures=$(python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as error:
    for expression in sys.argv[2:]:
        print("%s (stdout is not JSON: %s)" % (expression, error))
    sys.exit(0)
for expression in sys.argv[2:]:
    try:
        ok = eval(expression)
    except Exception as error:
        ok = False
        expression += " (%s: %s)" % (type(error).__name__, error)
    if not ok:
        print(expression)' "$OUT" "$@")
  count=$(printf '%s' "$failures" | grep -c '^')
  passed=$((passed + $# - count))
  if [ "$count" -gt 0 ]; then
    while IFS= read -r line; do fail "JSON check failed: $line"; done <<<"$failures"
  fi
}

# expect_true DESCRIPTION CMD...: a plain check.
expect_true() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}

json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

report_and_exit() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
