#!/usr/bin/env bash
# Capture speed against gc.collect() on every interpreter the capture was built for.
# usage: bench/run_capture_bench.sh [NODES] [REPEAT]   (defaults: 1000000 5)
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
nodes="${1:-1000000}"
repeat="${2:-5}"
echo "| Python | heap | objects written | edges | gc.collect() | capture (walk + file) | ratio | file | extra peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
while read -r python; do
  for shape in slots-chain mixed; do
    PYTHONPATH="$build/lib/heapsnap/python" "$python" "$root/bench/capture_bench.py" \
      --shape "$shape" --nodes "$nodes" --repeat "$repeat" |
      python3 -c '
import json, sys
r = json.load(sys.stdin)
print("| %s | %s (%d tracked) | %d | %d | %.0f ms | %.0f ms | %.2fx | %.0f MB | %.0f MB |" % (
    r["python"], r["shape"], r["gc_tracked"], r["objects"], r["edges"],
    r["gc_collect_s"] * 1000, r["capture_s"] * 1000, r["ratio"], r["file_bytes"] / 1e6,
    r["capture_extra_peak_mb"]))'
  done
done < "$build/interpreters.txt"
