#!/usr/bin/env bash
# bench/vs_etcd.sh: Shoal's managers against etcd, side by side, in one run.
#
# Starts a three-manager Shoal cluster (shoald init + two joins) and a three-member etcd cluster
# (Debian's etcd-server, static --initial-cluster) on 127.0.0.1, both with their data under one
# temporary directory, and puts the same load on both with bench/api_load.cc (shoal_bench_load):
#   - synced, replicated writes of a new key with a 100-byte value (Shoal: POST /configs/create
#     over the unix socket; etcd: POST /v3/kv/put on its JSON gateway), closed loop, one kept-alive
#     connection per client, clients spread over the three members, at 1 and at 64 clients, for
#     BENCH_SECONDS each after one second of warm-up: writes/s, p50 and p99 latency;
#   - leader failover, FAILOVERS times each: SIGKILL the leader, time the first write acknowledged
#     by a survivor that was sent after the kill (probes every 5 ms), restart the killed member on
#     its data directory, wait until all three agree on a leader again.
# Prints `name: value` lines on stdout (the tools' raw output goes to stderr). Installs etcd-server
# and etcd-client with apt-get if they are missing; builds shoald and shoal_bench_load; uses only
# loopback; kills what it started, by pid, and removes its directory on exit.
#
# Settings: Shoal's raft tick is shoald's default, 20 ms (election after 10-20 ticks, heartbeat
# every tick); etcd keeps its defaults, heartbeat 100 ms and election 1000 ms, and syncs its WAL
# before acknowledging (the default; --unsafe-no-fsync does not exist in 3.4 and is not used).
#
# Environment:
#   BUILD_DIR      build directory (default: build)
#   SKIP_BUILD=1   use the binaries already in BUILD_DIR/bin
#   BENCH_SECONDS  measured seconds per load run (default 10)
#   FAILOVERS      kills per system (default 5)
#   KEEP=1         keep the temporary directory (logs, data) for a look afterwards
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BENCH_SECONDS=${BENCH_SECONDS:-10}
FAILOVERS=${FAILOVERS:-5}
SHOAL_TICK_MS=20          # shoald's default, stated here so the output says what was run
ETCD_HEARTBEAT_MS=100     # etcd's default
ETCD_ELECTION_MS=1000     # etcd's default

say() { echo "vs_etcd: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- etcd from Debian ----
if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
  say "installing etcd-server and etcd-client from Debian"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y etcd-server etcd-client >&2; then
    { apt-get update >&2 && apt-get install -y etcd-server etcd-client >&2; } || die "could not install etcd-server"
  fi
fi
ETCD_VERSION=$(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}')

# ---- build ----
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 || die "cmake failed"
  ninja -C "$BUILD_DIR" shoald shoal_bench_load >&2 || die "build failed"
fi
SHOALD=$BUILD_DIR/bin/shoald
LOAD=$BUILD_DIR/bin/shoal_bench_load
if [ ! -x "$SHOALD" ] || [ ! -x "$LOAD" ]; then die "missing $SHOALD or $LOAD"; fi

# ---- the temporary directory and cleaning up ----
TMP=$(mktemp -d /tmp/shoal-vs-etcd.XXXXXX) || die "mktemp failed"
declare -a SHOAL_PID=("" "" "") ETCD_PID=("" "" "")
cleanup() {
  local pid
  for pid in "${SHOAL_PID[@]}" "${ETCD_PID[@]}"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${SHOAL_PID[@]}" "${ETCD_PID[@]}"; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${SHOAL_PID[@]}" "${ETCD_PID[@]}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- free loopback ports ----
declare -A TAKEN=()
port_in_use() {  # listening or bound on any address, from /proc/net/tcp{,6}
  local hex
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v h=":$hex" '{ if (substr($2, length($2) - 4) == h) found = 1 } END { exit !found }'
}
PORT=0
free_port() {  # sets PORT (not in a subshell, so TAKEN remembers it)
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    if [ -z "${TAKEN[$p]:-}" ] && ! port_in_use "$p"; then
      TAKEN[$p]=1
      PORT=$p
      return 0
    fi
  done
  die "no free port found"
}

# ---- Shoal ----
declare -a SHOAL_PORT SHOAL_SOCK SHOAL_DIR
for i in 0 1 2; do
  free_port
  SHOAL_PORT[i]=$PORT
  SHOAL_SOCK[i]=$TMP/shoal$i.sock
  SHOAL_DIR[i]=$TMP/shoal$i
done
start_shoal() {  # start_shoal I [init | join TOKEN] ; restart when no mode is given
  local i=$1 mode=${2:-}
  local args=(--data-dir "${SHOAL_DIR[$i]}" --listen-addr "127.0.0.1:${SHOAL_PORT[$i]}" --gossip-addr 127.0.0.1:0 --socket "${SHOAL_SOCK[$i]}"
              --hostname "shoal$i" --raft-tick-ms "$SHOAL_TICK_MS")
  case $mode in
    init) args+=(init) ;;
    join) args+=(join --token "$3" "127.0.0.1:${SHOAL_PORT[0]}") ;;
  esac
  "$SHOALD" "${args[@]}" >>"$TMP/shoal$i.log" 2>&1 &
  SHOAL_PID[i]=$!
}
shoal_targets() { local t=() i; for i in "$@"; do t+=(--target "${SHOAL_SOCK[$i]}"); done; echo "${t[@]}"; }
wait_until() {  # wait_until SECONDS WHAT COMMAND... : retry every 0.2 s
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>"$TMP/wait.err"; do
    if [ $SECONDS -ge $deadline ]; then
      cat "$TMP/wait.err" >&2
      die "timed out after ${limit}s waiting for $what"
    fi
    sleep 0.2
  done
}

say "starting Shoal in $TMP"
start_shoal 0 init
wait_until 30 "shoal0 to lead" "$LOAD" get shoal --target "${SHOAL_SOCK[0]}" --path /v1.41/swarm --field JoinTokens.Manager
MANAGER_TOKEN=$("$LOAD" get shoal --target "${SHOAL_SOCK[0]}" --path /v1.41/swarm --field JoinTokens.Manager) ||
  die "no manager token"
start_shoal 1 join "$MANAGER_TOKEN"
# shellcheck disable=SC2046
wait_until 60 "shoal1 to join" "$LOAD" leader shoal $(shoal_targets 0 1)
start_shoal 2 join "$MANAGER_TOKEN"
# shellcheck disable=SC2046
wait_until 60 "three Shoal managers with a leader" "$LOAD" leader shoal $(shoal_targets 0 1 2)

# ---- etcd ----
declare -a ETCD_CLIENT ETCD_PEER ETCD_DIR
INITIAL_CLUSTER=""
for i in 0 1 2; do
  free_port
  ETCD_CLIENT[i]=$PORT
  free_port
  ETCD_PEER[i]=$PORT
  ETCD_DIR[i]=$TMP/etcd$i
  INITIAL_CLUSTER+="${INITIAL_CLUSTER:+,}etcd$i=http://127.0.0.1:${ETCD_PEER[$i]}"
done
start_etcd() {  # start_etcd I ; the same command restarts it on its data directory
  local i=$1
  etcd --name "etcd$i" --data-dir "${ETCD_DIR[$i]}" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" \
    --initial-cluster "$INITIAL_CLUSTER" --initial-cluster-state new --initial-cluster-token shoal-vs-etcd \
    --heartbeat-interval "$ETCD_HEARTBEAT_MS" --election-timeout "$ETCD_ELECTION_MS" \
    --logger zap --log-outputs stderr >>"$TMP/etcd$i.log" 2>&1 &
  ETCD_PID[i]=$!
}
etcd_targets() { local t=() i; for i in "$@"; do t+=(--target "127.0.0.1:${ETCD_CLIENT[$i]}"); done; echo "${t[@]}"; }

say "starting etcd $ETCD_VERSION"
for i in 0 1 2; do start_etcd "$i"; done
# shellcheck disable=SC2046
wait_until 60 "three etcd members with a leader" "$LOAD" leader etcd $(etcd_targets 0 1 2)

# ---- load ----
declare -A RESULT=()
field() { awk -F': ' -v k="$2" '$1 == k { print $2 }' <<<"$1"; }
cpu_ticks() {  # user + system clock ticks used so far by the given pids
  local ticks=0 pid
  for pid in "$@"; do ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
  echo "$ticks"
}
run_load() {  # run_load SYSTEM CLIENTS
  local sys=$1 c=$2 out order leader pids cpu0 cpu1
  # Targets with the leader first: the single client of c=1 talks to the leader itself, and at 64
  # clients the leader gets 22 and each follower 21 (followers forward to the leader).
  if [ "$sys" = shoal ]; then
    # shellcheck disable=SC2046
    leader=$(field "$("$LOAD" leader shoal $(shoal_targets 0 1 2))" leader)
    pids=("${SHOAL_PID[@]}")
  else
    # shellcheck disable=SC2046
    leader=$(field "$("$LOAD" leader etcd $(etcd_targets 0 1 2))" leader)
    pids=("${ETCD_PID[@]}")
  fi
  [ -n "$leader" ] || die "$sys has no leader before the load"
  order=("$leader")
  for i in 0 1 2; do [ "$i" != "$leader" ] && order+=("$i"); done
  say "$sys: $c client(s), ${BENCH_SECONDS}s (leader: member $leader)"
  cpu0=$(cpu_ticks "${pids[@]}")
  # shellcheck disable=SC2046
  out=$("$LOAD" load "$sys" $("${sys}_targets" "${order[@]}") --clients "$c" --seconds "$BENCH_SECONDS" --warmup-seconds 1) ||
    say "$sys load at $c clients reported a failure"
  cpu1=$(cpu_ticks "${pids[@]}")
  # shellcheck disable=SC2001
  echo "$out" | sed "s/^/  $sys c$c /" >&2
  RESULT[${sys}_writes_per_s_c$c]=$(field "$out" writes_per_s)
  RESULT[${sys}_put_p50_ms_c$c]=$(field "$out" p50_ms)
  RESULT[${sys}_put_p99_ms_c$c]=$(field "$out" p99_ms)
  RESULT[${sys}_put_max_ms_c$c]=$(field "$out" max_ms)
  RESULT[${sys}_errors_c$c]=$(field "$out" errors)
  # CPU time of the three server processes per acknowledged write (warm-up included on both sides).
  RESULT[${sys}_server_cpu_ms_per_write_c$c]=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$(field "$out" writes_total)" \
    'BEGIN { if (n > 0) printf "%.3f", t * 1000 / hz / n; else print "nan" }')
}
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for c in 1 64; do
  run_load shoal "$c"
  run_load etcd "$c"
done
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- failover ----
declare -A FAILOVER=()
one_failover() {  # one_failover SYSTEM
  local sys=$1 out leader survivors=() i t
  if [ "$sys" = shoal ]; then
    # shellcheck disable=SC2046
    out=$("$LOAD" leader shoal $(shoal_targets 0 1 2)) || die "no Shoal leader"
  else
    # shellcheck disable=SC2046
    out=$("$LOAD" leader etcd $(etcd_targets 0 1 2)) || die "no etcd leader"
  fi
  leader=$(field "$out" leader)
  for i in 0 1 2; do [ "$i" != "$leader" ] && survivors+=("$i"); done
  local pid
  if [ "$sys" = shoal ]; then pid=${SHOAL_PID[$leader]}; t=$(shoal_targets "${survivors[@]}"); else pid=${ETCD_PID[$leader]}; t=$(etcd_targets "${survivors[@]}"); fi
  # shellcheck disable=SC2086
  out=$("$LOAD" failover "$sys" $t --kill-pid "$pid" --interval-ms 5 --timeout-seconds 30)
  local rc=$?
  wait "$pid" 2>/dev/null
  # shellcheck disable=SC2001
  echo "$out" | sed "s/^/  $sys failover (leader was member $leader) /" >&2
  [ $rc = 0 ] || say "$sys failover: no write acknowledged within the timeout"
  FAILOVER[$sys]+="$(field "$out" failover_s) "
  if [ "$sys" = shoal ]; then
    start_shoal "$leader"
    # shellcheck disable=SC2046
    wait_until 60 "Shoal to have three managers again" "$LOAD" leader shoal $(shoal_targets 0 1 2)
  else
    start_etcd "$leader"
    # shellcheck disable=SC2046
    wait_until 60 "etcd to have three members again" "$LOAD" leader etcd $(etcd_targets 0 1 2)
  fi
  sleep 2  # let the restarted member catch up before the next kill
}
for r in $(seq "$FAILOVERS"); do
  say "failover round $r of $FAILOVERS"
  one_failover shoal
  one_failover etcd
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- the figures ----
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
echo "etcd_version: $ETCD_VERSION"
SOURCE=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || SOURCE+=" with uncommitted changes"
[ "${SKIP_BUILD:-0}" = 1 ] && SOURCE+=" (but SKIP_BUILD=1: the binaries in $BUILD_DIR were built separately)"
echo "shoal_source: $SOURCE"
echo "shoal_raft_tick_ms: $SHOAL_TICK_MS"
echo "etcd_heartbeat_ms: $ETCD_HEARTBEAT_MS"
echo "etcd_election_ms: $ETCD_ELECTION_MS"
echo "bench_seconds: $BENCH_SECONDS"
echo "loadavg_before_loads: $LOADAVG_BEFORE"
echo "loadavg_after_loads: $LOADAVG_AFTER"
for sys in shoal etcd; do
  for c in 1 64; do
    for k in writes_per_s put_p50_ms put_p99_ms put_max_ms errors server_cpu_ms_per_write; do
      echo "${sys}_${k}_c$c: ${RESULT[${sys}_${k}_c$c]:-nan}"
    done
  done
done
for sys in shoal etcd; do
  echo "${sys}_failover_s_all: ${FAILOVER[$sys]% }"
  echo "${sys}_failover_median_s: $(median <<<"${FAILOVER[$sys]}")"
done
