#!/usr/bin/env bash
# Everything a change must pass, from nothing: install dependencies, build, run the unit,
# property and integration tests (real shoald processes on loopback) under AddressSanitizer +
# UndefinedBehaviorSanitizer, check determinism, sweep every scenario over many seeds, and run
# every libFuzzer target for a while. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SHOAL_CI_SEEDS:-200}
bash scripts/setup-debian.sh

echo "== build (release, for the simulator sweeps)"
bash scripts/build.sh shoalsim

echo "== build (ASan + UBSan, for the tests)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSHOAL_SANITIZE=ON >/dev/null
fuzz_targets=$(sed -n 's/^shoal_fuzz_target(\([a-z_]*\).*$/\1/p' fuzz/CMakeLists.txt)
ninja -C build-asan shoal_tests shoald shoal shoal_integration_tests $fuzz_targets

echo "== unit, property and planted-bug tests (sanitized)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The unit tests run in two processes (googletest shards, one per core) rather than one process
# per test: a sanitized process costs a second or more to start, and there are hundreds of tests.
unit_shard() {
  GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$1 build-asan/bin/shoal_tests --gtest_brief=1 >"build-asan/unit-shard-$1.log" 2>&1
}
unit_shard 0 & shard0=$!
unit_shard 1 & shard1=$!
unit_ok=1
wait $shard0 || unit_ok=0
wait $shard1 || unit_ok=0
tail -n 3 build-asan/unit-shard-0.log build-asan/unit-shard-1.log
if [ "$unit_ok" != 1 ]; then
  grep -h -B2 -A20 -E "FAILED|ERROR: AddressSanitizer|runtime error" build-asan/unit-shard-*.log | head -n 200
  echo "unit tests failed (full logs: build-asan/unit-shard-*.log)"
  exit 1
fi
(cd build-asan && ctest --output-on-failure --timeout 600 -j2 -R '^fuzz_smoke_')

echo "== integration tests: real shoald processes on loopback (sanitized)"
(cd build-asan && ctest --output-on-failure --timeout 600 -L integration)

echo "== determinism: every scenario twice with one seed, same trace hash"
for s in scenarios/*.yaml; do
  build/bin/shoalsim run "$s" --seed 7 --check-determinism >/dev/null
done
echo "determinism: ok"

echo "== sweep: every scenario, ${SEEDS} seeds in total"
build/bin/shoalsim sweep scenarios/*.yaml --seeds "$SEEDS"

echo "== sweep: the services scenarios, ${SHOAL_CI_SERVICES_SEEDS:-600} seeds"
build/bin/shoalsim sweep scenarios/services_*.yaml --seeds "${SHOAL_CI_SERVICES_SEEDS:-600}"

echo "== sweep: gossip, random faults and table writes, ${SHOAL_CI_GOSSIP_SEEDS:-1000} seeds of 8 nodes"
build/bin/shoalsim sweep-gossip --seeds "${SHOAL_CI_GOSSIP_SEEDS:-1000}"

echo "== fuzz: every libFuzzer target, ${SHOAL_CI_FUZZ_SECONDS:-20} s each"
bash fuzz/run.sh "${SHOAL_CI_FUZZ_SECONDS:-20}"
