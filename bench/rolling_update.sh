#!/usr/bin/env bash
# bench/rolling_update.sh: wall time of a rolling update of 100 replicas with parallelism 10 and
# no delay, on the process runtime, one shoald on one machine (manager and worker at
# once), loopback only, against the floor the policy and the tasks themselves set.
#
# The run:
#   1. `shoal service create` of 100 replicas of `/bin/sleep 600` (--update-monitor M), waited
#      until 100/100 run.
#   2. The batch time B: beside it, `shoal service create --detach` of 10 replicas, waited until
#      the API lists 10 of its tasks running (bench/api_watch.py); B is from the service's
#      CreatedAt (the API's commit) to the latest Status.Timestamp of its running tasks (the
#      agent's report), both read from the API: what ten new tasks cost from a committed change to running (orchestrator, scheduler,
#      dispatcher, agent, process start, report), with the 100 replicas present as they are
#      during the update, and without the CLI's own start or the polling (which B would
#      otherwise count ten times over). That service is then removed and its tasks waited out.
#   3. `shoal service update --detach --args 601 --update-parallelism 10 --update-delay 0s
#      --update-monitor M` of the 100; the clock from just before the command to the first look
#      at GET /services/web (every POLL_S, from one process on one kept-alive connection:
#      bench/api_watch.py) whose UpdateStatus.State is "completed". (One process looks, rather
#      than `shoal service inspect` from the shell, whose three processes a look would take CPU
#      from the update it measures.)
#
# The floor: floor_s_n100_p10 = 10 x B + M. With no delay the updater keeps ten slots in flight
# (a slot is in flight from when its old task is told to stop until its new task runs), and a
# task being monitored does not hold a place in the window; so the 100 slots need at least ten
# rounds of "ten new tasks start" one after another, and the update cannot be completed before
# the last new task has been watched for its whole monitor period M. Stopping each old task
# (stop-first: SIGTERM, the agent's report, the next orchestrator pass) is not in the floor: it
# is work the update does that a create does not, and the aim (within 10 % of the floor) asks
# that it cost little.
#
# Prints `name: value` lines on stdout: update_s_n100_p10 (the wall time above),
# floor_s_n100_p10, batch_start_s_n10 (B), monitor_s, and update_status_s_n100_p10 (the
# daemon's own UpdateStatus.StartedAt to CompletedAt). Needs curl and python3 (to read times from
# the API). Builds shoald and shoal unless SKIP_BUILD=1; kills what it started, by pid, and
# removes its directory on exit.
#
# Environment: BUILD_DIR (default build), SKIP_BUILD=1, MONITOR (default 1s; Go duration),
# POLL_S (seconds between looks, default 0.01), KEEP=1.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
MONITOR=${MONITOR:-1s}
POLL_S=${POLL_S:-0.01}
say() { echo "rolling_update: $*" >&2; }
die() { say "$*"; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 || die "cmake failed"
  ninja -C "$BUILD_DIR" shoald shoal >&2 || die "build failed"
fi
SHOALD=$BUILD_DIR/bin/shoald
SHOAL=$BUILD_DIR/bin/shoal
[ -x "$SHOALD" ] && [ -x "$SHOAL" ] || die "missing $SHOALD or $SHOAL"
command -v curl >/dev/null && command -v python3 >/dev/null || die "needs curl and python3"

TMP=$(mktemp -d /tmp/shoal-rolling-update.XXXXXX) || die "mktemp failed"
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PORT=$((20000 + RANDOM % 20000))
SOCK=$TMP/shoal.sock
"$SHOALD" --data-dir "$TMP/data" --listen-addr "127.0.0.1:$PORT" --gossip-addr 127.0.0.1:0 --socket "$SOCK" --hostname bench init \
  >"$TMP/shoald.log" 2>&1 &
PID=$!
shoal() { "$SHOAL" -H "unix://$SOCK" "$@"; }
for _ in $(seq 150); do shoal node ls 2>/dev/null | grep -q Ready && break; sleep 0.2; done
shoal node ls 2>/dev/null | grep -q Ready || die "shoald did not become ready (log: $TMP/shoald.log)"

now() { date +%s.%N; }
api() { curl -sf --unix-socket "$SOCK" "http://shoal/v1.41$1"; }
# Seconds between two RFC 3339 times with nanoseconds (python's fromisoformat takes microseconds).
span() {
  python3 -c '
import datetime, sys
def ns(t):
    base, _, frac = t.rstrip("Z").partition(".")
    d = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int((frac + "000000000")[:9])
print("%.3f" % ((ns(sys.argv[2]) - ns(sys.argv[1])) / 1e9))' "$1" "$2"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
monitor_s=$(awk -v m="$MONITOR" 'BEGIN {
  v = m + 0; u = m; sub(/^[0-9.]+/, "", u);
  if (u == "ms") v /= 1000; else if (u == "m") v *= 60; else if (u != "s") v = -1;
  printf "%.3f", v }')
[ "${monitor_s#-}" = "$monitor_s" ] || die "MONITOR must be in ms, s or m: $MONITOR"

# 1. the service to update
shoal service create --quiet --timeout 120s --name web --replicas 100 --restart-delay 0s \
  --update-monitor "$MONITOR" -- /bin/sleep 600 >/dev/null || die "service create of 100 failed"

# 2. the batch time: ten new tasks, from the API call to running
start=$(now)
shoal service create --detach --quiet --name probe --replicas 10 --restart-delay 0s -- /bin/sleep 600 >/dev/null ||
  die "service create of 10 failed"
python3 "$ROOT/bench/api_watch.py" "$SOCK" running probe 10 || die "probe did not converge in 120 s"
converged=$(now)
created=$(api /services/probe | python3 -c 'import json, sys; print(json.load(sys.stdin)["CreatedAt"])')
last_running=$(api "/tasks?filters=%7B%22service%22%3A%5B%22probe%22%5D%7D" | python3 -c '
import json, sys
print(max(t["Status"]["Timestamp"] for t in json.load(sys.stdin) if t["Status"]["State"] == "running"))')
batch_s=$(span "$created" "$last_running")
say "probe: 10 tasks running $(secs "$start" "$converged") s after the CLI started, $batch_s s after the commit"
shoal service rm probe >/dev/null || die "service rm failed"
for _ in $(seq 1500); do
  [ "$(shoal service ps probe 2>&1 | grep -c sleep)" = 0 ] && break
  sleep 0.02
done
sleep 1  # let the removal's reports settle before the clock starts again

# 3. the update
update_s=$(python3 "$ROOT/bench/api_watch.py" "$SOCK" update web "$POLL_S" -- \
  "$SHOAL" -H "unix://$SOCK" service update --detach --args 601 --update-parallelism 10 --update-delay 0s \
  --update-monitor "$MONITOR" web) || die "the update did not complete"
status_s=$(api /services/web | python3 -c '
import json, sys
u = json.load(sys.stdin)["UpdateStatus"]; print(u["StartedAt"], u["CompletedAt"])')
status_s=$(span $status_s)
updated=$(shoal service ps web 2>/dev/null | grep -c 'sleep 600 601.*Running')
[ "$updated" = 100 ] || say "warning: $updated of 100 tasks run the new args"

echo "update_s_n100_p10: $update_s"
echo "floor_s_n100_p10: $(awk -v b="$batch_s" -v m="$monitor_s" 'BEGIN {printf "%.3f", 10 * b + m}')"
echo "batch_start_s_n10: $batch_s"
echo "monitor_s: $monitor_s"
echo "update_status_s_n100_p10: $status_s"
echo "poll_interval_s: $POLL_S"
