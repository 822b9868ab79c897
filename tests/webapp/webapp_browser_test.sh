#!/usr/bin/env bash
# The web app end to end in Debian's chromium (tests/webapp/browser_test.js): a private database
# with two practitioner accounts and a reviewer, `nflux serve --port 0` on it, the browser steps, the service
# stopped. Fails (never skips) when chromium or puppeteer-core is missing: scripts/test installs
# both (puppeteer-core from tests/webapp/package-lock.json).
#   NFLUX=build/nflux bash tests/webapp/webapp_browser_test.sh [SCREENSHOT_DIR]
set -euo pipefail
NFLUX="$(realpath "${NFLUX:?set NFLUX to the nflux binary}")"
here="$(cd "$(dirname "$0")" && pwd)"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$CHROMIUM" ] || { echo "FAIL: chromium is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
[ -d "$here/node_modules/puppeteer-core" ] ||
  { echo "FAIL: puppeteer-core is not installed (scripts/test runs npm ci in tests/webapp)" >&2; exit 1; }

TMP="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
export NFLUX_DB="$TMP/nflux.db" NFLUX_ACTOR=browser-test PASSWORD="browser test password"
for account in dr_lee:practitioner dr_kim:practitioner rev_ann:reviewer; do
  printf '%s\n' "$PASSWORD" | "$NFLUX" user add "${account%%:*}" --role "${account##*:}" --password-stdin >/dev/null
done
"$NFLUX" serve --port 0 2>"$TMP/serve.log" &
server=$!
for _ in $(seq 100); do
  port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$TMP/serve.log")"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "FAIL: nflux serve did not start:" >&2; cat "$TMP/serve.log" >&2; exit 1; }
BASE="http://127.0.0.1:$port" NFLUX="$NFLUX" CHROMIUM="$CHROMIUM" SCREENSHOTS="${1:-}" \
  node "$here/browser_test.js"
