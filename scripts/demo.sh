#!/usr/bin/env bash
# The main job, from nothing: install dependencies, build, and run a simulated five-manager
# cluster that loses its leader to a partition and recovers, printing its timeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh shoalsim
exec build/bin/shoalsim run scenarios/leader_partition.yaml --seed 1 --timeline
