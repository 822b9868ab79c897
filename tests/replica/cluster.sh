# shellcheck shell=bash disable=SC2034  # sourced: the variables set here are the caller's
# A throw-away deployment as docs/deploy.md describes, for tests/replica/replica_test.sh and
# scripts/bench-replicas (sourced, not run): PostgreSQL (scripts/pg-cluster), accounts, nflux serve
# --from-release replicas on it, HAProxy in front (tests/replica/haproxy.cfg.in), and one cleanup
# that stops all of them, whatever state the caller is in.
#
# The caller sets, before sourcing: NFLUX (the nflux binary), TMP (a private temp folder, removed by
# cluster_cleanup unless KEEP_TMP=1), and optionally THREADS (service threads per replica, 8) and
# RELEASE_POLL_MS (200).
# It calls cluster_cleanup from its EXIT trap. Afterwards: DB_URL, REPLICA_PIDS[i], REPLICA_PORTS[i],
# HAPROXY_PID, PROXY_URL, STATS_URL.
#
# Every failure ends the caller through `die MESSAGE` (the caller may define its own first).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
THREADS=${THREADS:-8}
RELEASE_POLL_MS=${RELEASE_POLL_MS:-200}
PSQL=${NFLUX_PG_BIN:-/usr/lib/postgresql/15/bin}/psql
PASSWORD="replica test password"
DB_URL=
REPLICA_PIDS=()
REPLICA_PORTS=()
HAPROXY_PID=
PROXY_URL=
STATS_URL=
# Options every replica gets besides --db, --port, --threads and the release ones: the session key
# all of them sign the web app's cookies with (made by cluster_make_session_key).
REPLICA_OPTIONS=()

declare -F die >/dev/null || die() {
  echo "cluster: $*" >&2
  exit 1
}

# The programs a deployment needs; a clear failure (not a skip) when one is missing.
cluster_require() {
  [ -x "$NFLUX" ] || die "no nflux binary at '$NFLUX' (set NFLUX)"
  command -v haproxy >/dev/null || die "haproxy is not installed (scripts/setup.sh installs it: apt-get install haproxy)"
  [ -x "$PSQL" ] || die "no PostgreSQL 15 client at $PSQL (scripts/setup.sh installs postgresql)"
  [ -x "${NFLUX_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl" ] ||
    die "no PostgreSQL 15 server in ${NFLUX_PG_BIN:-/usr/lib/postgresql/15/bin} (scripts/setup.sh installs postgresql)"
  command -v curl >/dev/null || die "curl is not installed"
}

# Stops the replicas, HAProxy and PostgreSQL, and removes TMP. Safe to call twice, and at any point;
# every step runs whatever the one before did (errexit is off here: a process that is already gone
# makes kill fail, and that must not end the cleanup).
cluster_cleanup() {
  set +e
  local pid
  for pid in "${REPLICA_PIDS[@]}" $HAPROXY_PID; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${REPLICA_PIDS[@]}" $HAPROXY_PID; do
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  REPLICA_PIDS=()
  HAPROXY_PID=
  if [ -d "$TMP/pg" ]; then "$REPO/scripts/pg-cluster" stop "$TMP/pg"; fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "cluster: logs kept in $TMP (KEEP_TMP=1)" >&2
  else
    rm -rf "$TMP"
  fi
}

# psql SQL: the query's rows, unaligned, no header.
psql_query() { "$PSQL" "$DB_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# Starts PostgreSQL in TMP/pg (watched: stopped if this shell dies unannounced) and adds the accounts.
#   cluster_start_postgres NAME:ROLE...
cluster_start_postgres() {
  DB_URL=$("$REPO/scripts/pg-cluster" start "$TMP/pg" $$) || die "PostgreSQL did not start (scripts/pg-cluster above)"
  local account
  for account in "$@"; do
    printf '%s\n' "$PASSWORD" | "$NFLUX" --db "$DB_URL" user add "${account%%:*}" --role "${account##*:}" \
      --password-stdin >"$TMP/user.log" 2>&1 || die "nflux user add ${account%%:*} failed: $(cat "$TMP/user.log")"
  done
  printf '%s\n' "$PASSWORD" >"$TMP/password"
}

# The key every replica signs session cookies with, made as docs/deploy.md makes it: 32 random
# bytes, readable by its owner only, one file for all replicas.
cluster_make_session_key() {
  (umask 077 && head -c 32 /dev/urandom >"$TMP/session.key")
  REPLICA_OPTIONS+=(--session-key-file "$TMP/session.key")
}

# nflux release publish as ACCOUNT of the folders given; prints its output.
#   cluster_publish ACCOUNT NOTE [--knowledge DIR] [--rules DIR]
cluster_publish() {
  local account=$1 note=$2
  shift 2
  printf '%s\n' "$PASSWORD" | "$NFLUX" --db "$DB_URL" release publish --account "$account" --password-stdin \
    --note "$note" "$@" 2>&1
}

# Starts replica I (0-based) on PORT (0: any free port); waits until it listens and records its
# pid and port. Its stderr is appended to TMP/replica-I.log.
#   cluster_start_replica I [PORT]
cluster_start_replica() {
  local i=$1 port=${2:-0} log=$TMP/replica-$1.log before
  touch "$log"
  before=$(stat -c %s "$log")
  "$NFLUX" --db "$DB_URL" serve --from-release --release-poll "$RELEASE_POLL_MS" --port "$port" \
    --threads "$THREADS" "${REPLICA_OPTIONS[@]}" 2>>"$log" &
  REPLICA_PIDS[i]=$!
  for _ in $(seq 300); do
    port=$(tail -c +$((before + 1)) "$log" | sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p')
    if [ -n "$port" ]; then
      REPLICA_PORTS[i]=$port
      return 0
    fi
    kill -0 "${REPLICA_PIDS[i]}" 2>/dev/null || die "replica $i exited before listening: $(tail -c +$((before + 1)) "$log")"
    sleep 0.1
  done
  die "replica $i did not listen within 30 s: $(tail -c +$((before + 1)) "$log")"
}

# The release replica I's /health reports ("" when it does not answer).
replica_release() {
  curl -s --max-time 2 "http://127.0.0.1:${REPLICA_PORTS[$1]}/health" | sed -n 's/.*"release":\([0-9]*\).*/\1/p'
}

# The HTTP status replica I's /health answers ("000" when it does not answer).
replica_health_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${REPLICA_PORTS[$1]}/health"
}

# A port nobody listens on, below the ephemeral range (as scripts/pg-cluster picks its own).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Prints haproxy.cfg.in rendered (from its `global` line on): clients' address BIND, the statistics page on STATS, at most
# MAXCONN requests at once a replica, one `server` line per replica PORT on 127.0.0.1.
#   render_haproxy_cfg BIND STATS MAXCONN PORT...
render_haproxy_cfg() {
  local bind=$1 stats=$2 maxconn=$3 servers="" i=0 port
  shift 3
  for port in "$@"; do
    servers+="    server nflux-$((i += 1)) 127.0.0.1:$port"$'\n'
  done
  awk -v bind="$bind" -v stats="$stats" -v maxconn="$maxconn" -v servers="${servers%$'\n'}" '
    $0 == "global" { started = 1 }
    !started { next }
    $0 == "@SERVERS@" { print servers; next }
    { gsub("@BIND@", bind); gsub("@STATS_BIND@", stats); gsub("@MAXCONN@", maxconn); print }' \
    "$REPO/tests/replica/haproxy.cfg.in"
}

# Renders haproxy.cfg.in for the replicas started so far into TMP/haproxy.cfg, starts HAProxy on
# it and waits until it reports every replica UP.
cluster_start_haproxy() {
  local proxy_port stats_port
  for _ in 1 2 3 4 5; do
    proxy_port=$(free_port)
    stats_port=$(free_port)
    render_haproxy_cfg "127.0.0.1:$proxy_port" "127.0.0.1:$stats_port" $((THREADS > 3 ? THREADS - 2 : 1)) \
      "${REPLICA_PORTS[@]}" >"$TMP/haproxy.cfg"
    haproxy -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy-check.log" 2>&1 ||
      die "haproxy refused the configuration: $(cat "$TMP/haproxy-check.log")"
    haproxy -db -f "$TMP/haproxy.cfg" >>"$TMP/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    PROXY_URL=http://127.0.0.1:$proxy_port
    STATS_URL=http://127.0.0.1:$stats_port/haproxy-stats
    for _ in $(seq 100); do
      kill -0 "$HAPROXY_PID" 2>/dev/null || break
      if [ "$(haproxy_up_count)" = "${#REPLICA_PORTS[@]}" ]; then return 0; fi
      sleep 0.1
    done
    if kill -0 "$HAPROXY_PID" 2>/dev/null; then
      die "HAProxy did not report all ${#REPLICA_PORTS[@]} replicas UP within 10 s: $(haproxy_states)"
    fi
    wait "$HAPROXY_PID" 2>/dev/null
    HAPROXY_PID=
    grep -q "cannot bind\|Address already in use" "$TMP/haproxy.log" || die "HAProxy exited: $(cat "$TMP/haproxy.log")"
  done
  die "HAProxy found no free port in 5 attempts: $(cat "$TMP/haproxy.log")"
}

# The backend's servers as NAME:STATUS (UP, DOWN, ...), from HAProxy's statistics (CSV).
haproxy_states() {
  curl -s --max-time 2 "$STATS_URL;csv" | awk -F, '$1 == "nflux_replicas" && $2 != "BACKEND" { printf "%s:%s ", $2, $18 }'
}
haproxy_up_count() { haproxy_states | tr ' ' '\n' | grep -c ':UP$'; }

# The PostgreSQL server's main process (the load client counts its children, the sessions, too).
postmaster_pid() { head -1 "$TMP/pg/data/postmaster.pid"; }
