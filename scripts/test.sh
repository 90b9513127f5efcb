#!/usr/bin/env bash
# Builds heapsnap and runs every test: the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (the reader and loader take untrusted input), then all tests of
# the regular build: unit tests (GoogleTest) and the end-to-end tests that capture fixture
# programs under every interpreter the capture was built for.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
asan="${ASAN_BUILD_DIR:-$root/build-asan}"
bash "$root/scripts/build.sh"

# The capture runs inside Python and is not built with the sanitizers.
cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DHEAPSNAP_SANITIZE=ON \
  -DHEAPSNAP_BUILD_CAPTURE=OFF >/dev/null
cmake --build "$asan" -j "$(nproc)" --target base_test format_test analyze_test cli_test capture_core_test
(cd "$asan" && ctest --output-on-failure -j "$(nproc)")

cd "$build"
ctest --output-on-failure -j "$(nproc)"
