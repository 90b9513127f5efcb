#!/usr/bin/env bash
# Builds heapsnap and runs every test: clang-format and clang-tidy on our code; the unit tests
# under AddressSanitizer and UndefinedBehaviorSanitizer (the reader and loader take untrusted
# input); the fuzz target for a minute (FUZZ_SECONDS, 0 to skip); then all tests of the regular
# build: unit tests (GoogleTest) and the end-to-end tests that capture fixture programs under
# every interpreter the capture was built for.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
asan="${ASAN_BUILD_DIR:-$root/build-asan}"
bash "$root/scripts/build.sh"

# Our own code must be formatted and clang-tidy clean.
bash "$root/scripts/lint.sh"

# The capture runs inside Python and is not built with the sanitizers.
cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DHEAPSNAP_SANITIZE=ON \
  -DHEAPSNAP_BUILD_CAPTURE=OFF >/dev/null
cmake --build "$asan" -j "$(nproc)" --target base_test format_test analyze_test export_test cli_test capture_core_test snapshot_replay
(cd "$asan" && ctest --output-on-failure -j "$(nproc)")

# The fuzz target over reader, loader and analysis, seeded with real snapshots. A crash, a
# sanitizer report, a timeout or running out of memory fails the test; the input that did it is
# left in $fuzz/ (crash-*, timeout-*, oom-*) to become a regression test.
fuzz="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
fuzz_seconds="${FUZZ_SECONDS:-60}"
if [[ "$fuzz_seconds" != 0 ]] && command -v clang++ >/dev/null; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHEAPSNAP_FUZZ=ON -DHEAPSNAP_BUILD_CAPTURE=OFF -DHEAPSNAP_BUILD_TESTS=OFF >/dev/null
  cmake --build "$fuzz" -j "$(nproc)" --target snapshot_fuzzer
  bash "$root/fuzz/make_seeds.sh" "$build" "$fuzz/seeds"
  mkdir -p "$fuzz/corpus"
  "$fuzz/bin/snapshot_fuzzer" -max_total_time="$fuzz_seconds" -timeout=30 -rss_limit_mb=4096 \
    -artifact_prefix="$fuzz/" -print_final_stats=1 "$fuzz/corpus" "$fuzz/seeds"
fi

cd "$build"
ctest --output-on-failure -j "$(nproc)"
