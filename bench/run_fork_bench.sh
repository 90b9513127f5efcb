#!/usr/bin/env bash
# The program's pause and extra memory: stop-the-world capture against fork capture, on every
# interpreter the capture was built for (bench/fork_pause.py says how each is measured).
# usage: bench/run_fork_bench.sh [NODES] [REPEAT] [TOUCH]   (defaults: 1000000 3 0.01)
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
nodes="${1:-1000000}"
repeat="${2:-3}"
touch="${3:-0.01}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "| Python | heap | objects | RSS | stop-the-world pause | fork pause | pause ratio | child's capture | extra memory: stop-the-world | extra memory: fork |"
echo "|---|---|---|---|---|---|---|---|---|---|"
while read -r python; do
  for shape in slots-chain mixed; do
    PYTHONPATH="$build/lib/heapsnap/python" "$python" "$root/bench/fork_pause.py" \
      --shape "$shape" --nodes "$nodes" --repeat "$repeat" --touch "$touch" --out "$out" |
      python3 -c '
import json, sys
r = json.load(sys.stdin)
print("| %s | %s | %d | %.0f MB | %.0f ms | %.1f ms | %.0fx | %.2f s | %.0f MB | %.0f MB |" % (
    r["python"], r["shape"], r["objects"], r["rss_mb"], r["stop_pause_s"] * 1000,
    r["fork_pause_s"] * 1000, r["ratio"], r["child_s"], r["stop_extra_mb"],
    r["fork_extra_mb"]))'
  done
done < "$build/interpreters.txt"
