#!/usr/bin/env bash
# Builds heapsnap and runs every test: unit tests (GoogleTest) and the end-to-end tests that
# capture fixture programs under every interpreter the capture was built for.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
