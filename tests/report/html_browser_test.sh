#!/usr/bin/env bash
# The HTML report in a real browser (Debian's headless chromium): it loads with no console error,
# the page shows every deficit the evaluation JSON of the same case concludes, by its label from
# the knowledge base, and a screenshot is taken. Fails (never skips) when chromium is missing:
# scripts/setup.sh installs it.
#
#   NFLUX=build/nflux bash tests/report/html_browser_test.sh [CASE] [SCREENSHOT.png]
set -euo pipefail

NFLUX="${NFLUX:?set NFLUX to the nflux binary}"
CASE="${1:-rules/tests/mx_postpartum_epds.case.json}"
SCREENSHOT="${2:-}"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  echo "FAIL: chromium is not installed (scripts/setup.sh installs it: apt-get install chromium)" >&2
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
SHOT="${SCREENSHOT:-$TMP/report.png}"

# Loads FILE in headless chromium: the DOM on stdout, the browser's log (console messages) in LOG.
load() {
  local file="$1" log="$2"
  timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --user-data-dir="$TMP/profile" \
    --enable-logging=stderr --v=0 --dump-dom "file://$file" 2>"$log"
}

# Console errors and uncaught exceptions as chromium logs them.
console_errors() { grep -E 'CONSOLE|Uncaught|SyntaxError|ReferenceError|TypeError' "$1" || true; }

# The check itself must see an error when there is one: a page with a failing script.
printf '<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>\n' >"$TMP/broken.html"
load "$TMP/broken.html" "$TMP/broken.log" >/dev/null
if [ -z "$(console_errors "$TMP/broken.log")" ]; then
  echo "FAIL: the console check does not see a script error; chromium log:" >&2
  cat "$TMP/broken.log" >&2
  exit 1
fi

"$NFLUX" evaluate "$CASE" --format html --out "$TMP/report.html" 2>"$TMP/evaluate.log"
grep -q "wrote $TMP/report.html" "$TMP/evaluate.log"
"$NFLUX" evaluate "$CASE" --format json >"$TMP/report.json"
"$NFLUX" kb export --format json >"$TMP/kb.json"

load "$TMP/report.html" "$TMP/chromium.log" >"$TMP/dom.html"
errors="$(console_errors "$TMP/chromium.log")"
if [ -n "$errors" ]; then
  echo "FAIL: console errors loading the report:" >&2
  echo "$errors" >&2
  exit 1
fi

# Every deficit of the JSON, by its label (without a parenthesised gloss), is on the page.
python3 - "$TMP/report.json" "$TMP/kb.json" "$TMP/dom.html" <<'EOF'
import html, json, sys
evaluation = json.load(open(sys.argv[1]))
labels = {node["id"]: node["label"] for node in json.load(open(sys.argv[2]))["nodes"]}
dom = open(sys.argv[3]).read()
deficits = evaluation["deficits"]
if not deficits:
    sys.exit("FAIL: the case concludes no deficit; pick a case that does")
missing = []
for deficit in deficits:
    label = labels[deficit["id"]].split(" (")[0]
    if html.escape(label, quote=False) not in dom:
        missing.append(label)
if "pathway-map" not in dom or "flux-bars" not in dom:
    missing.append("the pathway map and the flux chart")
if missing:
    sys.exit("FAIL: not on the page: " + ", ".join(missing))
print("ok: %d deficit labels on the page" % len(deficits))
EOF

timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --user-data-dir="$TMP/profile" --hide-scrollbars \
  --window-size=1200,2000 --screenshot="$SHOT" "file://$TMP/report.html" 2>"$TMP/screenshot.log"
if [ ! -s "$SHOT" ] || [ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
  echo "FAIL: no PNG screenshot at $SHOT" >&2
  cat "$TMP/screenshot.log" >&2
  exit 1
fi
echo "ok: screenshot $SHOT"
