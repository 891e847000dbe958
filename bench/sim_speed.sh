#!/usr/bin/env bash
# bench/sim_speed.sh: how many simulated seconds the simulator runs per wall second, for two
# builds side by side in one run (a build before a change against the build after it).
#
#   bench/sim_speed.sh BEFORE_BIN_DIR [AFTER_BIN_DIR]
#
# Each BIN_DIR holds shoalsim and shoal_bench (AFTER defaults to build/bin). Rounds alternate
# A B A B (ROUNDS, default 3) so that a slower or faster spell of the machine falls on both.
# Measured, per build and round:
#   raft5      shoal_bench's BM_SimSpeed5Nodes: a 5-node Raft cluster under 50 writes/s and
#              10 reads/s, no faults (sim_x);
#   raft       `shoalsim sweep` of the Raft scenarios (faults drawn per seed), SEEDS seeds;
#   services   the same for scenarios/services_*.yaml (every host runs the whole Node);
#   lifecycle  the same for scenarios/lifecycle_*.yaml, when both builds know them.
# A sweep's figure is its sim-seconds over its wall-seconds (the World's own checks, every
# invariant after every event included). Prints one `name build round: Nx` line each, then the
# median of each build and the ratio after/before.
#
# Environment: ROUNDS (default 3), SEEDS (default 60).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${1:?usage: bench/sim_speed.sh BEFORE_BIN_DIR [AFTER_BIN_DIR]}
AFTER=${2:-$ROOT/build/bin}
ROUNDS=${ROUNDS:-3}
SEEDS=${SEEDS:-60}
cd "$ROOT"
for dir in "$BEFORE" "$AFTER"; do
  [ -x "$dir/shoalsim" ] && [ -x "$dir/shoal_bench" ] || { echo "sim_speed: $dir lacks shoalsim or shoal_bench" >&2; exit 1; }
done

RAFT=$(ls scenarios/*.yaml | grep -v -e /services_ -e /lifecycle_)
SERVICES=$(ls scenarios/services_*.yaml)
LIFECYCLE=$(ls scenarios/lifecycle_*.yaml)
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

# sweep_x BIN_DIR FILES...: the sweep's simulated seconds per wall second ("-" if it cannot run them).
sweep_x() {
  local dir=$1; shift
  "$dir/shoalsim" sweep "$@" --seeds "$SEEDS" 2>/dev/null |
    awk '/^seeds:/ { for (i = 1; i <= NF; i++) { if ($i == "sim-seconds:") s = $(i+1); if ($i == "wall-seconds:") w = $(i+1) } }
         END { if (w > 0) printf "%.0f", s / w; else printf "-" }'
}

raft5_x() {
  "$1/shoal_bench" --benchmark_filter='^BM_SimSpeed5Nodes' --benchmark_min_time=2 2>/dev/null |
    awk '/BM_SimSpeed5Nodes/ { for (i = 1; i <= NF; i++) if ($i ~ /^sim_x=/) { sub("sim_x=", "", $i); sub("/s", "", $i); printf "%.0f", $i } }'
}

for round in $(seq 1 "$ROUNDS"); do
  for build in before after; do
    dir=$BEFORE; [ $build = after ] && dir=$AFTER
    for bench in raft5 raft services lifecycle; do
      case $bench in
        raft5) x=$(raft5_x "$dir") ;;
        raft) x=$(sweep_x "$dir" $RAFT) ;;
        services) x=$(sweep_x "$dir" $SERVICES) ;;
        lifecycle) x=$(sweep_x "$dir" $LIFECYCLE) ;;
      esac
      echo "$bench $build $round: ${x}x"
      echo "$bench $build $x" >> "$RESULTS"
    done
  done
done

echo
for bench in raft5 raft services lifecycle; do
  b=$(awk -v n=$bench '$1 == n && $2 == "before" && $3 != "-" { print $3 }' "$RESULTS" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
  a=$(awk -v n=$bench '$1 == n && $2 == "after" && $3 != "-" { print $3 }' "$RESULTS" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
  ratio=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "-" }')
  echo "$bench: before ${b:--}x, after ${a:--}x (after/before $ratio)"
done
