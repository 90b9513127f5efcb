#!/usr/bin/env bash
# Set-up, configure and build heapsnap (CLI, libraries, tests, and the capture module for every
# CPython 3.8-3.13 found on the machine). BUILD_DIR defaults to ./build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
