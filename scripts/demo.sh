#!/usr/bin/env bash
# The main job, from nothing: install dependencies, build, then
#  1. run a simulated five-manager cluster that loses its leader to a partition and recovers,
#     printing its timeline (deterministic: the same seed gives the same run), and
#  2. start three real shoald managers on loopback over mutual TLS, write through a follower,
#     SIGKILL the leader and show the cluster carry on with nothing lost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh shoalsim shoald shoal
build/bin/shoalsim run scenarios/leader_partition.yaml --seed 1 --timeline
echo
bash scripts/cluster_demo.sh
