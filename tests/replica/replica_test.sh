#!/usr/bin/env bash
# Three nflux serve replicas behind HAProxy on one PostgreSQL store, as docs/deploy.md deploys them,
# under load: 16 clients send 20,000 requests through HAProxy (patient-view hook calls, and every
# tenth a page of the web app in a practitioner's session, signed in once per client); a third of
# the way in one replica is SIGKILLed and started again 3 s later; half way a new release is
# published. Passes when
#   - no request failed, except those a dying replica dropped (connection error, 502, 503), which
#     the client sent again and counts as retries;
#   - every successful hook call is one stored run (a retried one may be stored twice, no other),
#     every run is complete and `nflux audit verify` passes;
#   - every run names release 1 or 2, and runs stored after the switch name release 2;
#   - all 3 replicas' /health report release 2 within SWITCH_BOUND_MS (5 s) of the publish command
#     returning (measured and printed);
#   - then PostgreSQL stops: every replica's /health answers 503 and HAProxy takes all of them out
#     within OUTAGE_BOUND_MS (5 s); it starts again: all answer 200 and are back in HAProxy within
#     the same bound, without a restart, and the next 60 hook calls (one attempt each) all succeed.
# Fails (never skips) when haproxy, PostgreSQL or the load client is missing.
#   NFLUX=build/nflux LOAD=build/bench/nflux_replica_load bash tests/replica/replica_test.sh
#   (REQUESTS=20000 CLIENTS=16 THREADS=8 RELEASE_POLL_MS=200 SWITCH_BOUND_MS=5000 MAX_ATTEMPTS=30
#    KILL_SIGNAL=KILL KEEP_TMP=0)
set -euo pipefail
test_start=$(date +%s%N)
NFLUX=$(realpath "${NFLUX:-build/nflux}")
LOAD=${LOAD-build/bench/nflux_replica_load}  # set but empty (ctest without NFLUX_BENCH): no client
REQUESTS=${REQUESTS:-20000}
CLIENTS=${CLIENTS:-16}
WEB_EVERY=10
SWITCH_BOUND_MS=${SWITCH_BOUND_MS:-5000}
OUTAGE_BOUND_MS=${OUTAGE_BOUND_MS:-5000}
MAX_ATTEMPTS=${MAX_ATTEMPTS:-30}
KILLED=1  # the replica killed (0-based: nflux-2 in HAProxy)
# TERM: stopped as systemd stops it; the replica must then also exit 0 having answered every
# request in flight (docs/service.md).
KILL_SIGNAL=${KILL_SIGNAL:-KILL}
TMP=$(mktemp -d)
chmod 711 "$TMP"  # PostgreSQL runs as its own user and needs to reach TMP/pg

die() {
  echo "replica_test: FAIL: $*" >&2
  local log
  for log in "$TMP"/replica-*.log "$TMP/haproxy.log" "$TMP/load.err"; do
    [ -s "$log" ] || continue
    echo "  last lines of ${log##*/}:" >&2
    tail -n 8 "$log" | sed 's/^/    /' >&2
  done
  exit 1
}
# shellcheck source=tests/replica/cluster.sh
. "$(dirname "$0")/cluster.sh"
load_pid=
cleanup() {
  set +e
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; fi
  cluster_cleanup
}
trap cleanup EXIT
trap 'exit 143' TERM INT

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# json_field NAME [FILE]: a top-level field of the load client's result (TMP/load.json).
json_field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "${2:-$TMP/load.json}" | tr -d '"'; }

# Waits until the client has answered COUNT requests; fails if it ends first or stalls.
wait_progress() {
  local count=$1 what=$2
  for _ in $(seq 1200); do
    [ "$(cat "$TMP/progress" 2>/dev/null || echo 0)" -ge "$count" ] && return 0
    kill -0 "$load_pid" 2>/dev/null || die "the load client ended before $what (after $(cat "$TMP/progress" 2>/dev/null || echo 0) requests)"
    sleep 0.1
  done
  die "the load client did not reach $count requests ($what) within 120 s"
}

cluster_require
# docs/deploy.md shows haproxy.cfg.in rendered for three replicas behind TLS: the two must not drift.
# shellcheck disable=SC2016  # backquotes, not an expansion
sed -n '/^```haproxy$/,/^```$/p' "$REPO/docs/deploy.md" | sed '1d;$d' >"$TMP/deploy-haproxy.cfg"
render_haproxy_cfg ":443 ssl crt /etc/haproxy/certs/nflux.pem" 127.0.0.1:8404 6 8081 8082 8083 |
  diff -u "$TMP/deploy-haproxy.cfg" - >"$TMP/deploy-haproxy.diff" ||
  die "docs/deploy.md's HAProxy configuration is not tests/replica/haproxy.cfg.in rendered (ports 8081-8083, maxconn 6); the difference:
$(cat "$TMP/deploy-haproxy.diff")"
[ -n "$LOAD" ] || die "no load client: configure with -DNFLUX_BENCH=ON (and libbenchmark-dev) so that bench/replica_load.cc is built"
[ -x "$LOAD" ] || die "no load client at '$LOAD' (build the target nflux_replica_load: bench/replica_load.cc)"

# --- The store, its accounts, release 1, and release 2's rules: a rule's description changed.
cluster_start_postgres au_replica:author dr_replica:practitioner
cluster_make_session_key
published=$(cluster_publish au_replica "replica test: release 1" --knowledge "$REPO/knowledge" --rules "$REPO/rules") ||
  die "publishing release 1 failed: $published"
grep -q "^published release-1" <<<"$published" || die "publishing release 1: unexpected output: $published"
cp -r "$REPO/rules" "$TMP/rules2"
sed -i 's/^rule serotonin_symptom_pattern "Low mood with rumination/rule serotonin_symptom_pattern "Low mood with rumination (replica test)/' \
  "$TMP/rules2/serotonin.rules"
grep -q "(replica test)" "$TMP/rules2/serotonin.rules" || die "could not change a rule description in the copy of rules/"
"$NFLUX" rules check --rules "$TMP/rules2" >"$TMP/rules-check.log" 2>&1 ||
  die "the changed rules do not check: $(cat "$TMP/rules-check.log")"

# --- Three replicas on release 1, HAProxy in front.
for i in 0 1 2; do cluster_start_replica "$i"; done
for i in 0 1 2; do
  [ "$(replica_release "$i")" = 1 ] || die "replica $((i + 1))'s /health does not report release 1: $(curl -s "http://127.0.0.1:${REPLICA_PORTS[i]}/health")"
done
cluster_start_haproxy
echo "replica_test: PostgreSQL, 3 replicas (ports ${REPLICA_PORTS[*]}), HAProxy at $PROXY_URL; $REQUESTS requests by $CLIENTS clients"

# --- The load, a replica killed and restarted at 1/3, release 2 published at 1/2.
load_start=$(date +%s%N)
"$LOAD" --url "$PROXY_URL" --requests "$REQUESTS" --clients "$CLIENTS" --max-attempts "$MAX_ATTEMPTS" \
  --account dr_replica --password-file "$TMP/password" --case "$REPO/examples/chronic_stress.json" \
  --web-every "$WEB_EVERY" --progress "$TMP/progress" --retried "$TMP/retried" >"$TMP/load.json" 2>"$TMP/load.err" &
load_pid=$!

wait_progress $((REQUESTS / 3)) "the replica was killed"
killed_at=$(cat "$TMP/progress")
kill -"$KILL_SIGNAL" "${REPLICA_PIDS[KILLED]}"
killed_rc=0
wait "${REPLICA_PIDS[KILLED]}" 2>/dev/null || killed_rc=$?
if [ "$KILL_SIGNAL" = TERM ]; then
  # docs/service.md: SIGTERM stops accepting, answers every request in flight, and exits 0.
  if [ "$killed_rc" != 0 ] || ! grep -q "stopped on a signal" "$TMP/replica-$KILLED.log"; then
    die "replica $((KILLED + 1)) exited $killed_rc on SIGTERM, without 'stopped on a signal' (expected: every request answered, exit 0)"
  fi
fi
sleep 3
cluster_start_replica "$KILLED" "${REPLICA_PORTS[KILLED]}"
for _ in $(seq 100); do
  [ "$(replica_release "$KILLED")" = 1 ] && break
  sleep 0.1
done
[ "$(replica_release "$KILLED")" = 1 ] || die "the restarted replica does not report release 1"
restarted_at=$(cat "$TMP/progress")

wait_progress $((REQUESTS / 2)) "release 2 was published"
published_at=$(cat "$TMP/progress")
publish_start=$(date +%s%N)
published=$(cluster_publish au_replica "replica test: release 2" --knowledge "$REPO/knowledge" --rules "$TMP/rules2") ||
  die "publishing release 2 failed: $published"
publish_returned=$(date +%s%N)
publish_ms=$(((publish_returned - publish_start) / 1000000))
grep -q "^published release-2" <<<"$published" || die "publishing release 2: unexpected output: $published"
switched=
while [ "$(ms_since "$publish_returned")" -lt $((SWITCH_BOUND_MS + 5000)) ]; do
  switched=$(ms_since "$publish_returned")
  all=1
  for i in 0 1 2; do [ "$(replica_release "$i")" = 2 ] || all=0; done
  [ "$all" = 1 ] && break
  switched=
  sleep 0.02
done
[ -n "$switched" ] || die "not every replica reports release 2 $((SWITCH_BOUND_MS + 5000)) ms after the publish: $(for i in 0 1 2; do printf 'replica %s: release %s. ' $((i + 1)) "$(replica_release "$i")"; done)"
[ "$switched" -le "$SWITCH_BOUND_MS" ] ||
  die "all 3 replicas reported release 2 only $switched ms after the publish returned (bound: $SWITCH_BOUND_MS ms)"
# A request that took release 1's pipeline just before its replica switched may still be storing
# its run; 1 s later none is, so every run after the cutoff must name release 2.
sleep 1
cutoff=$(psql_query "SELECT COALESCE(MAX(id), 0) FROM runs")
cutoff_at=$(cat "$TMP/progress")
[ "$cutoff_at" -lt "$REQUESTS" ] || die "the load ended before the release switch was done (make REQUESTS larger)"

load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=
load_seconds=$(($(ms_since "$load_start") / 1000))
[ -s "$TMP/load.json" ] || die "the load client printed no result (exit $load_rc): $(cat "$TMP/load.err")"
errors=$(json_field errors)
[ "$errors" = 0 ] || die "$errors requests failed (a request counts as failed when it got an answer other than the right one, or when its last of $MAX_ATTEMPTS attempts got a connection error, 502 or 503); the first ones:
$(grep -m5 '^replica_load' "$TMP/load.err")"
[ "$load_rc" = 0 ] || die "the load client exited $load_rc: $(cat "$TMP/load.err")"

# --- The store.
verify_start=$(date +%s%N)
"$NFLUX" --db "$DB_URL" audit verify >"$TMP/verify.txt" 2>&1 || die "nflux audit verify failed: $(cat "$TMP/verify.txt")"
grep -q "^verified" "$TMP/verify.txt" || die "nflux audit verify said: $(cat "$TMP/verify.txt")"
verify_ms=$(ms_since "$verify_start")
hook_calls=$(json_field hook_calls)
read -r hook_runs hook_instances < <(psql_query "SELECT COUNT(*), COUNT(DISTINCT hook_instance) FROM runs WHERE hook_instance <> ''" | tr '|' ' ')
[ "$hook_instances" = "$hook_calls" ] ||
  die "$hook_calls hook calls succeeded, but $hook_instances distinct hook instances were stored"
strangers=$(psql_query "SELECT COUNT(DISTINCT hook_instance) FROM runs WHERE hook_instance <> '' AND NOT (
  hook_instance ~ '^replica-[0-9]+\$' AND substr(hook_instance, 9)::int < $REQUESTS
  AND substr(hook_instance, 9)::int % $WEB_EVERY <> $WEB_EVERY - 1)")
[ "$strangers" = 0 ] || die "$strangers stored hook instances are not among the calls the client made"
psql_query "SELECT hook_instance FROM runs WHERE hook_instance <> '' GROUP BY hook_instance HAVING COUNT(*) > 1" >"$TMP/twice"
sort -u "$TMP/retried" >"$TMP/retried.sorted"
not_retried=$(sort -u "$TMP/twice" | comm -23 - "$TMP/retried.sorted" | head -5)
[ -z "$not_retried" ] || die "hook instances stored more than once although the client sent them once: $not_retried"
stored_twice=$((hook_runs - hook_instances))
other_runs=$(psql_query "SELECT COUNT(*) FROM runs WHERE hook_instance = ''")
[ "$other_runs" = 1 ] || die "expected 1 run besides the hook calls' (the case the client entered in the web app), found $other_runs"
incomplete=$(psql_query "SELECT COUNT(*) FROM runs r LEFT JOIN audit_log a ON a.sequence = r.audit_sequence
  WHERE a.sequence IS NULL OR length(r.evaluation) = 0 OR length(r.trace) = 0 OR r.content_hash = ''
     OR (r.hook_instance <> '' AND NOT EXISTS (SELECT 1 FROM hook_cards c WHERE c.run_id = r.id))")
[ "$incomplete" = 0 ] || die "$incomplete stored runs are incomplete (no audit entry, evaluation, trace or cards)"
no_release=$(psql_query "SELECT COUNT(*) FROM runs WHERE release_id NOT IN (1, 2)")
[ "$no_release" = 0 ] || die "$no_release runs name no release, or one other than 1 and 2"
read -r after_cutoff old_after_cutoff < <(psql_query "SELECT COUNT(*), COUNT(*) FILTER (WHERE release_id <> 2) FROM runs WHERE id > $cutoff" | tr '|' ' ')
[ "$after_cutoff" -gt 0 ] || die "no run was stored after the switch to release 2"
[ "$old_after_cutoff" = 0 ] || die "$old_after_cutoff of the $after_cutoff runs stored after the switch to release 2 name another release"
read -r on_1 on_2 < <(psql_query "SELECT COUNT(*) FILTER (WHERE release_id = 1), COUNT(*) FILTER (WHERE release_id = 2) FROM runs" | tr '|' ' ')
for i in 0 1 2; do
  grep -q "switched from release-1 to release-2" "$TMP/replica-$i.log" || die "replica $((i + 1))'s log has no 'switched from release-1 to release-2'"
done

# HAProxy's counts: its own retries and redispatches, and the requests each replica was sent.
curl -s "$STATS_URL;csv" >"$TMP/stats.csv" || die "HAProxy's statistics did not answer"
read -r proxy_retries proxy_redispatches < <(awk -F, '$1 == "nflux_replicas" && $2 == "BACKEND" { print $16 + 0, $17 + 0 }' "$TMP/stats.csv")
per_replica=$(awk -F, '$1 == "nflux_replicas" && $2 ~ /^nflux-/ { printf "%s%s %s", sep, $2, $8; sep = ", " }' "$TMP/stats.csv")
idle=$(awk -F, '$1 == "nflux_replicas" && $2 ~ /^nflux-/ && $8 + 0 == 0 { print $2 }' "$TMP/stats.csv")
[ -z "$idle" ] || die "HAProxy sent no request to $idle: $per_replica"
# --- PostgreSQL stops and starts again (docs/deploy.md, "PostgreSQL is unreachable").
# all_health CODE: every replica's /health answers CODE now.
all_health() { for i in 0 1 2; do [ "$(replica_health_status "$i")" = "$1" ] || return 1; done; }
# await_ms WHAT CMD...: prints the ms until CMD succeeds; fails the test after OUTAGE_BOUND_MS.
await_ms() {
  local what=$1 start
  shift
  start=$(date +%s%N)
  until "$@"; do
    [ "$(ms_since "$start")" -lt "$OUTAGE_BOUND_MS" ] || die "$what: not within $OUTAGE_BOUND_MS ms (replicas' /health: $(for i in 0 1 2; do printf '%s ' "$(replica_health_status "$i")"; done); HAProxy: $(haproxy_states))"
    sleep 0.02
  done
  ms_since "$start"
}
up_count_is() { [ "$(haproxy_up_count)" = "$1" ]; }
runs_before_outage=$(psql_query "SELECT COUNT(*) FROM runs")
"$REPO/scripts/pg-cluster" down "$TMP/pg" || die "PostgreSQL did not stop"
outage_health_ms=$(await_ms "every replica's /health answering 503 once PostgreSQL stopped" all_health 503)
outage_out_ms=$(await_ms "HAProxy taking every replica out once PostgreSQL stopped" up_count_is 0)
outage_problem=$(curl -s --max-time 2 "http://127.0.0.1:${REPLICA_PORTS[0]}/health" | sed -n 's/.*"problem":"\(\([^"\\]\|\\.\)*\)".*/\1/p')
[ -n "$outage_problem" ] || die "replica 1's /health names no problem while PostgreSQL is stopped"
"$REPO/scripts/pg-cluster" up "$TMP/pg" || die "PostgreSQL did not start again"
back_health_ms=$(await_ms "every replica's /health answering 200 once PostgreSQL was back" all_health 200)
back_in_ms=$(await_ms "HAProxy taking every replica back once PostgreSQL was back" up_count_is 3)
"$LOAD" --url "$PROXY_URL" --requests 60 --clients 4 --max-attempts 1 >"$TMP/after.json" 2>"$TMP/after.err" ||
  die "hook calls after the outage failed: $(grep -m3 '^replica_load' "$TMP/after.err")"
[ "$(json_field errors "$TMP/after.json")" = 0 ] || die "hook calls after the outage failed: $(grep -m3 '^replica_load' "$TMP/after.err")"
runs_after_outage=$(psql_query "SELECT COUNT(*) FROM runs")
[ "$runs_after_outage" = $((runs_before_outage + 60)) ] ||
  die "60 hook calls after the outage stored $((runs_after_outage - runs_before_outage)) runs"

cat <<EOF
replica_test: passed in $(($(ms_since "$test_start") / 1000)) s (the load $load_seconds s)
  requests   $REQUESTS by $CLIENTS clients through HAProxy to 3 replicas: $hook_calls hook calls, $(json_field web_requests) web pages (case list, patient page) in signed-in sessions; per replica (HAProxy): $per_replica
  throughput $(json_field requests_per_second) requests/s; p50 $(json_field p50_ms) ms, p99 $(json_field p99_ms) ms (hook calls $(json_field hook_p50_ms)/$(json_field hook_p99_ms) ms, pages $(json_field web_p50_ms)/$(json_field web_p99_ms) ms)
  kill       replica $((KILLED + 1)) sent SIG$KILL_SIGNAL after $killed_at requests, listening again after $restarted_at; errors 0
             client retries $(json_field retries): $(json_field hook_retries) for $(json_field hook_calls_retried) hook calls, $(json_field web_retries) for pages (failures retried: $(sed -n 's/.*"retried_on":{\([^}]*\)}.*/\1/p' "$TMP/load.json" | tr -d '"' | sed 's/,/, /g; s/:/ /g; s/connection_error/connection error/')); HAProxy's own retries $proxy_retries, redispatches $proxy_redispatches
  release    2 published after $published_at requests (the publish command took $publish_ms ms); all 3 replicas reported it $switched ms after the publish returned (bound $SWITCH_BOUND_MS ms); $after_cutoff runs after the switch, all on release 2
  store      $hook_runs hook runs for $hook_calls successful hook calls ($stored_twice stored twice, each a call the client retried) + 1 web app run; on release 1: $on_1, release 2: $on_2
             audit verify ($verify_ms ms): $(head -1 "$TMP/verify.txt")
  outage     PostgreSQL stopped: every /health 503 after $outage_health_ms ms ("$outage_problem"), all out of HAProxy after $outage_out_ms ms;
             started again: every /health 200 after $back_health_ms ms, all back in HAProxy after $back_in_ms ms; then 60 hook calls, one attempt each: 0 errors, 60 runs stored
EOF
