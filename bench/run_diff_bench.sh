#!/usr/bin/env bash
# `heapsnap diff` and `heapsnap check --baseline` against analysing the same snapshots alone:
# for each heap shape, two synthetic snapshots of N and N * 1.05 objects (the second a grown
# version of the first), then
#   analyse both   = `heapsnap summary A` + `heapsnap summary B` (load + full analysis, each)
#   diff A B, check B --baseline A
# Each figure is the best of RUNS runs (default 3), with its peak RSS.
#
# usage: bench/run_diff_bench.sh [WORKDIR] [SIZES...]     (default size: 1000000)
#   NEW=/path/to/heapsnap   the binary to measure (default: the build's)
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
work="${1:-$build/bench}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000)
runs="${RUNS:-3}"
bin="${NEW:-$build/bin/heapsnap}"
mkdir -p "$work"

measure() {  # args...: prints "seconds peak_kb" of the best run
  local best="" out
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$work/.time" -f "%e %M" "$@" >/dev/null 2>&1 || [ $? -eq 1 ]
    out=$(tail -1 "$work/.time")
    if [ -z "$best" ] || awk -v a="${out%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
      best="$out"
    fi
  done
  echo "$best"
}
cell() { awk -v t="${1%% *}" -v m="${1##* }" 'BEGIN{printf "%.2f s, %d MB", t, m/1024}'; }

echo "| heap | objects | analyse both (summary A + summary B) | diff A B | check B --baseline A |"
echo "|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  grown=$((n + n / 20))
  for shape in mixed chain deep-tree wide garbage; do
    a="$work/diff-$shape-$n-a.heapsnap"
    b="$work/diff-$shape-$n-b.heapsnap"
    "$build/bin/synthetic_snapshot" "$a" --objects "$n" --shape "$shape" >/dev/null
    "$build/bin/synthetic_snapshot" "$b" --objects "$grown" --shape "$shape" >/dev/null
    sa=$(measure "$bin" summary "$a")
    sb=$(measure "$bin" summary "$b")
    both=$(awk -v a="${sa%% *}" -v b="${sb%% *}" -v ma="${sa##* }" -v mb="${sb##* }" \
           'BEGIN{printf "%.2f %d", a + b, (ma > mb ? ma : mb)}')
    diff=$(measure "$bin" diff "$a" "$b")
    check=$(measure "$bin" check "$b" --baseline "$a")
    echo "| $shape | $n → $grown | $(cell "$both") | $(cell "$diff") | $(cell "$check") |"
  done
done
