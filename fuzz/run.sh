#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer (+ASan) and runs each for SECONDS.
# Exits non-zero on the first crash; the crashing input is left in build-fuzz/crashes/.
#   bash fuzz/run.sh 30
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS}
if ! command -v clang++ >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "fuzz/run.sh: clang++ is missing (apt-get install clang)"; exit 2; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSHOAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=$(sed -n 's/^shoal_fuzz_target(\([a-z_]*\).*$/\1/p' fuzz/CMakeLists.txt)
ninja -C build-fuzz $targets
mkdir -p build-fuzz/crashes
for t in $targets; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "== $t for ${seconds}s"
  build-fuzz/bin/$t -max_total_time="$seconds" -print_final_stats=0 \
    -artifact_prefix="build-fuzz/crashes/$t-" "build-fuzz/corpus/$t" 2>&1 | grep -E "DONE|ERROR|SUMMARY|crash" || true
  if ls build-fuzz/crashes/"$t"-* >/dev/null 2>&1; then
    echo "fuzz/run.sh: $t crashed; input in build-fuzz/crashes/"
    exit 1
  fi
done
echo "fuzz: every target ran ${seconds}s with no crash"
