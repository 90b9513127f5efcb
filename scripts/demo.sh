#!/usr/bin/env bash
# Builds heapsnap, runs the bundled example service under capture, and prints what its heap
# holds and what leaks in it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh"
python="$(tail -n 1 "$build/interpreters.txt")"  # the newest CPython found
python="${PYTHON:-$python}"
snapshot="$build/example.heapsnap"
"$build/bin/heapsnap" capture -o "$snapshot" -- "$python" "$root/fixtures/example/app.py"
"$build/bin/heapsnap" summary "$snapshot" --top 15
echo
"$build/bin/heapsnap" leaks "$snapshot"
