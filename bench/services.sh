#!/usr/bin/env bash
# bench/services.sh: time from `shoal service create` to every task running, for 1,
# 100 and 1000 replicas of `/bin/sleep 600` on the process runtime, one shoald on one machine
# (manager and worker at once), loopback only.
#
# Each size: `shoal service create --detach` (the clock starts just before it), then `shoal
# service ls` every 20 ms until REPLICAS reads N/N (the clock stops at the first such answer),
# then `shoal service rm` and a wait until no task of it is left before the next size.
# Prints `name: value` lines on stdout: create_running_s_n1, create_running_s_n100,
# create_running_s_n1000 (and the polls' own resolution). Builds shoald and shoal unless
# SKIP_BUILD=1; kills what it started, by pid, and removes its directory on exit.
#
# Environment: BUILD_DIR (default build), SKIP_BUILD=1, SIZES (default "1 100 1000"), KEEP=1.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
SIZES=${SIZES:-"1 100 1000"}
say() { echo "services: $*" >&2; }
die() { say "$*"; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 || die "cmake failed"
  ninja -C "$BUILD_DIR" shoald shoal >&2 || die "build failed"
fi
SHOALD=$BUILD_DIR/bin/shoald
SHOAL=$BUILD_DIR/bin/shoal
[ -x "$SHOALD" ] && [ -x "$SHOAL" ] || die "missing $SHOALD or $SHOAL"

TMP=$(mktemp -d /tmp/shoal-services.XXXXXX) || die "mktemp failed"
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
for n in $SIZES; do
  name="bench$n"
  start=$(now)
  shoal service create --detach --quiet --name "$name" --replicas "$n" --restart-delay 0s -- /bin/sleep 600 >/dev/null ||
    die "service create failed"
  converged=""
  for _ in $(seq 6000); do  # at most 120 s of 20 ms polls
    replicas=$(shoal service ls 2>/dev/null | awk -v s="$name" '$2 == s {print $4}')
    if [ "$replicas" = "$n/$n" ]; then converged=$(now); break; fi
    sleep 0.02
  done
  [ -n "$converged" ] || die "$name did not converge in 120 s (last: $replicas)"
  echo "create_running_s_n$n: $(awk -v a="$start" -v b="$converged" 'BEGIN {printf "%.3f", b - a}')"
  shoal service rm "$name" >/dev/null || die "service rm failed"
  for _ in $(seq 1500); do
    [ "$(shoal service ps "$name" 2>&1 | grep -c sleep)" = 0 ] && break
    [ -z "$(pgrep -P "$PID")" ] && break
    sleep 0.02
  done
done
echo "poll_interval_s: 0.02"
echo "tasks: /bin/sleep 600, process runtime, one node (manager and worker)"
