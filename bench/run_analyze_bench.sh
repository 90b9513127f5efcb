#!/usr/bin/env bash
# Analysis speed and peak memory on synthetic snapshots of 1M and 10M objects, and a 10M chain.
# usage: bench/run_analyze_bench.sh [WORKDIR]   (needs ~700 MB of disk in WORKDIR)
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
work="${1:-$build/bench}"
mkdir -p "$work"
echo "| snapshot | objects | edges | load | analysis | total | objects/s | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "mixed 1000000" "mixed 10000000" "chain 10000000"; do
  set -- $spec
  file="$work/$1-$2.heapsnap"
  "$build/bin/synthetic_snapshot" "$file" --objects "$2" --shape "$1" >/dev/null
  # Best of three runs: the machine is shared; the best run is the least disturbed one.
  for run in 1 2 3; do "$build/bin/analyze_bench" "$file"; done |
    python3 -c '
import json, sys
runs = [json.loads(line) for line in sys.stdin]
r = min(runs, key=lambda r: r["total_s"])
print("| %s | %d | %d | %.2f s | %.2f s | %.2f s | %.2fM | %d MB |" % (
    sys.argv[1], r["objects"], r["edges"], r["load_s"], r["analyze_s"], r["total_s"],
    r["objects_per_s"] / 1e6, r["peak_rss_mb"]))' "$1 $2"
  rm -f "$file"
done
