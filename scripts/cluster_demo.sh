#!/usr/bin/env bash
# Three real Shoal managers on loopback: init one, join two with the manager token, write
# through a follower, run a service of three replicas, SIGKILL the leader, watch another take
# over with nothing lost and the lost replica replaced, clean up.
# Needs build/bin/shoald and build/bin/shoal (bash scripts/build.sh shoald shoal).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/bin
dir=$(mktemp -d /tmp/shoal-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "== stopped the cluster, removed $dir"
  rm -rf "$dir"
}
trap cleanup EXIT

# A random loopback port, retried until nothing listens there.
port() {
  local p
  while :; do
    p=$(shuf -i 30000-59999 -n 1)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
start() {  # name, then shoald's subcommand and its arguments
  local name=$1; shift
  "$bin/shoald" --data-dir "$dir/$name" --listen-addr "127.0.0.1:${ports[$name]}" --gossip-addr 127.0.0.1:0 --socket "$dir/$name.sock" \
    --hostname "$name" "$@" >"$dir/$name.log" 2>&1 &
  pids+=($!)
  pid[$name]=$!
  for _ in $(seq 100); do [ -S "$dir/$name.sock" ] && return 0; sleep 0.1; done
  echo "cluster_demo: $name did not start:"; cat "$dir/$name.log"; exit 1
}
shoal() { "$bin/shoal" -H "unix://$dir/$1.sock" "${@:2}"; }

declare -A ports pid
for n in m1 m2 m3; do ports[$n]=$(port); done

echo "== shoald init on m1"
start m1 init
sleep 0.5
token=$(shoal m1 swarm join-token -q manager)
echo "== shoald join m2 and m3 with the manager token"
start m2 join --token "$token" "127.0.0.1:${ports[m1]}"
start m3 join --token "$token" "127.0.0.1:${ports[m1]}"
sleep 1.5
shoal m1 node ls

echo "== a config written through m3 (a follower forwards it to the leader)"
echo "hello from the demo" > "$dir/payload"
shoal m3 config create greeting "$dir/payload"
shoal m1 config ls

echo "== a service of three replicas (child processes on the nodes, spread one per node)"
shoal m1 service create --name web --replicas 3 -- /bin/sleep 3600
shoal m1 service ps web

leader=$(shoal m1 node ls | awk '/Leader/ {print ($2 == "*") ? $3 : $2}')  # "*" marks the node asked
leader=${leader:-m1}
echo "== SIGKILL the leader ($leader)"
{ kill -9 "${pid[$leader]}"; wait "${pid[$leader]}"; } 2>/dev/null || true
start_ns=$(date +%s%N)
survivor=m1; [ "$leader" = m1 ] && survivor=m2
until shoal "$survivor" config create "after-failover" "$dir/payload" >/dev/null 2>&1; do sleep 0.02; done
echo "first write acknowledged $(( ($(date +%s%N) - start_ns) / 1000000 )) ms after the kill"
shoal "$survivor" node ls
shoal "$survivor" config ls
echo "== the killed node's replica is replaced on a survivor"
running_elsewhere() {  # replicas running on the nodes that are still alive
  shoal "$survivor" service ps web --filter desired-state=running 2>/dev/null |
    grep Running | grep -vc " $leader "
}
until [ "$(running_elsewhere)" = 3 ]; do
  sleep 0.05
done
echo "three replicas running again $(( ($(date +%s%N) - start_ns) / 1000000 )) ms after the kill"
shoal "$survivor" service ps web
