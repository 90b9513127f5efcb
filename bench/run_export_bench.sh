#!/usr/bin/env bash
# heapsnap's own analysis against memlab's on the same graph, and the cost of the DevTools
# export. For each size: a synthetic mixed heap (bench/synthetic_snapshot), exported with
# `heapsnap export --format devtools`; then `heapsnap top` on the snapshot (load, collector,
# paths, dominators, retained sizes, the largest objects) against `memlab analyze object-size`
# on the export (parse, shortest paths, dominators, retained sizes, the largest objects).
# Time and peak RSS from /usr/bin/time; one run each. Then the export alone of a bigger heap.
#
# usage: bench/run_export_bench.sh [WORKDIR] [COMPARE_SIZES...]  (default: 1000000 3000000)
#   EXPORT_SIZE=10000000   the heap whose export alone is measured (0: skip)
#   MEMLAB_DIR=...         where memlab is installed (default: the tests' $BUILD/memlab)
# Prints Markdown tables for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
work="${1:-$build/bench}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000 3000000)
export_size="${EXPORT_SIZE:-10000000}"
memlab_dir="${MEMLAB_DIR:-$build/memlab}"
memlab="$memlab_dir/node_modules/.bin/memlab"
if [ ! -x "$memlab" ]; then
  mkdir -p "$memlab_dir"
  PUPPETEER_SKIP_DOWNLOAD=true npm install --no-audit --no-fund --prefix "$memlab_dir" memlab@2.0.5 >&2
fi
mkdir -p "$work"
# memlab holds the whole graph in V8's heap: give it all the machine has.
export NODE_OPTIONS="--max-old-space-size=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))"

commas() { python3 -c "print('{:,}'.format($1))"; }

measure() {  # prints "seconds peak_MiB" of one run
  /usr/bin/time -o "$work/.time" -f "%e %M" "$@" >"$work/.out" 2>&1 || {
    echo "failed: $*" >&2; tail -5 "$work/.out" >&2; echo "failed"; return; }
  awk '{printf "%.1f s, %.0f MiB", $1, $2 / 1024}' "$work/.time"
}

echo "| objects | edges | heapsnap top | heapsnap export | .heapsnapshot | memlab analyze object-size |"
echo "|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  snap="$work/mixed-$n.heapsnap"
  out="$work/mixed-$n.heapsnapshot"
  "$build/bin/synthetic_snapshot" "$snap" --objects "$n" --shape mixed >/dev/null
  edges=$("$build/bin/heapsnap" summary "$snap" --json |
          python3 -c 'import json,sys; print("{:,}".format(json.load(sys.stdin)["edges"]))')
  top=$(measure "$build/bin/heapsnap" top "$snap")
  exp=$(measure "$build/bin/heapsnap" export "$snap" --format devtools -o "$out")
  size=$(du -m "$out" | cut -f1)
  mem=$(measure "$memlab" analyze object-size --snapshot "$out")
  echo "| $(commas "$n") | $edges | $top | $exp | $size MiB | $mem |"
  rm -f "$out"
done

if [ "$export_size" != 0 ]; then
  echo
  echo "| objects | edges | heapsnap export (load, analysis, write) | .heapsnapshot |"
  echo "|---|---|---|---|"
  snap="$work/mixed-$export_size.heapsnap"
  out="$work/mixed-$export_size.heapsnapshot"
  "$build/bin/synthetic_snapshot" "$snap" --objects "$export_size" --shape mixed >/dev/null
  edges=$("$build/bin/heapsnap" summary "$snap" --json |
          python3 -c 'import json,sys; print("{:,}".format(json.load(sys.stdin)["edges"]))')
  exp=$(measure "$build/bin/heapsnap" export "$snap" --format devtools -o "$out")
  size=$(du -m "$out" | cut -f1)
  echo "| $(commas "$export_size") | $edges | $exp | $size MiB |"
  rm -f "$out"
fi
