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
(cd build-asan && ctest --output-on-failure --timeout 600 -j2 -LE integration)

echo "== integration tests: real shoald processes on loopback (sanitized)"
(cd build-asan && ctest --output-on-failure --timeout 600 -L integration)

echo "== determinism: every scenario twice with one seed, same trace hash"
for s in scenarios/*.yaml; do
  build/bin/shoalsim run "$s" --seed 7 --check-determinism >/dev/null
done
echo "determinism: ok"

echo "== sweep: every scenario, ${SEEDS} seeds in total"
build/bin/shoalsim sweep scenarios/*.yaml --seeds "$SEEDS"

echo "== fuzz: every libFuzzer target, ${SHOAL_CI_FUZZ_SECONDS:-30} s each"
bash fuzz/run.sh "${SHOAL_CI_FUZZ_SECONDS:-30}"
