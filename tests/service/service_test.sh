#!/usr/bin/env bash
# nflux serve end to end: the Node client (discovery, both hooks, a FHIR server fetched from,
# feedback; CDS Hooks 2.0 shapes and FHIR validation), the faults between good requests, SIGTERM
# with a request in flight (answered, then exit 0), and the stored hook runs and feedback passing
# `nflux audit verify`. With the jwt token tool built: --auth with good, expired, wrongly signed
# and wrong-audience tokens.
set -euo pipefail
NFLUX=${NFLUX:-build/nflux}
SIGN_JWT=${SIGN_JWT:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "service_test: $*" >&2; [ -f "$tmp/serve.log" ] && sed 's/^/  serve: /' "$tmp/serve.log" >&2; exit 1; }

# Starts nflux serve with the given options; sets pid and port (read from "listening on ...").
start_server() {
  # The log exists before the server starts: the background shell opens it asynchronously, and the
  # loop below must not read a file that is not there yet.
  : >"$tmp/serve.log"
  "$NFLUX" --db "$tmp/nflux.db" serve --threads 4 --read-timeout 1 --max-body 1048576 "$@" 2>"$tmp/serve.log" &
  pid=$!
  for _ in $(seq 300); do
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.log")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "nflux serve exited before listening"
    sleep 0.1
  done
  fail "nflux serve did not start listening"
}

stop_server() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  [ "$rc" -eq 0 ] || fail "nflux serve exited $rc after SIGTERM, expected 0"
}

start_server --port 0
node "$here/client.mjs" "http://127.0.0.1:$port" || fail "the client found problems"
node "$here/faults.mjs" "http://127.0.0.1:$port" "$pid" || fail "the fault test found problems"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || fail "nflux serve exited $rc after SIGTERM with a request in flight, expected 0"
grep -q "stopped on a signal" "$tmp/serve.log" || fail "no 'stopped on a signal' line"

# Every hook call is a run with its hook instance; the feedback is chained; the whole store verifies.
"$NFLUX" --db "$tmp/nflux.db" audit verify >"$tmp/verify.txt" || { cat "$tmp/verify.txt" >&2; fail "audit verify failed"; }
runs=$("$NFLUX" --db "$tmp/nflux.db" audit list | grep -c "hook neuroflux-" || true)
[ "$runs" -ge 4 ] || fail "expected at least 4 stored hook runs, found $runs"
feedback=$(sqlite3 "$tmp/nflux.db" "SELECT COUNT(*) FROM hook_feedback f JOIN hook_cards c ON c.uuid = f.card AND c.run_id = f.run_id")
[ "$feedback" -eq 2 ] || fail "expected 2 feedback rows stored with their runs, found $feedback"
echo "service_test: client, faults, SIGTERM and the stored runs ($runs hook runs, $feedback feedback) all right"

# --auth: the CDS Hooks JWT (needs the test token tool of engine/auth's tests).
[ -n "$SIGN_JWT" ] || { echo "service_test: no SIGN_JWT: --auth not tested"; exit 0; }
auth_dir=$(cd "$here/../data/auth" && pwd)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
sed "s|\"audience\": *\"[^\"]*\"|\"audience\": \"http://127.0.0.1:$port\"|; s|\"jwks_file\": *\"|\"jwks_file\": \"$auth_dir/|" \
  "$auth_dir/auth-config.json" >"$tmp/auth.json"
start_server --port "$port" --auth "$tmp/auth.json"
iss=https://ehr.test.neuroflux.example
aud=http://127.0.0.1:$port
key=$auth_dir/TEST-ONLY-ehr-rsa3072.key.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/other.key.pem" 2>/dev/null
good=$("$SIGN_JWT" "$iss" "$aud" "$key")
status() { curl -s -o "$tmp/body.json" -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port/cds-services"; }
[ "$(status "$good")" = 200 ] || fail "a good token was refused: $(cat "$tmp/body.json")"
for bad in expired:"$("$SIGN_JWT" "$iss" "$aud" "$key" --exp -600)" \
           wrongly_signed:"$("$SIGN_JWT" "$iss" "$aud" "$tmp/other.key.pem")" \
           wrong_audience:"$("$SIGN_JWT" "$iss" "http://127.0.0.1:1" "$key")" \
           none:""; do
  name=${bad%%:*} token=${bad#*:}
  [ "$(status "$token")" = 401 ] || fail "$name token: expected 401, got $(cat "$tmp/body.json")"
  grep -q '"status":401' "$tmp/body.json" || fail "$name token: no JSON error body"
done
node "$here/client.mjs" "http://127.0.0.1:$port" "$good" || fail "the client with a token found problems"
stop_server
echo "service_test: --auth: good token served; expired, wrongly signed, wrong audience and missing tokens 401"
