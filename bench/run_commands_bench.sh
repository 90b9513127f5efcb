#!/usr/bin/env bash
# Every command's time and peak memory on synthetic heaps of the shapes that once made some
# command quadratic: long chains, chains whose nodes' payloads are held twice (dominators),
# deep trees, wide dicts and huge garbage, beside the mixed heap. Each cell is the best of
# RUNS runs (default 3), "timeout" past LIMIT seconds (default 120).
#
# usage: bench/run_commands_bench.sh [WORKDIR] [SIZES...]     (default sizes: 200000 1000000)
#   NEW=/path/to/heapsnap      the binary to measure (default: the build's)
#   OLD=/path/to/old/heapsnap  also runs that binary, alternating with the new one
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
work="${1:-$build/bench}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(200000 1000000)
runs="${RUNS:-3}"
limit="${LIMIT:-120}"
mkdir -p "$work"
binaries=("new=${NEW:-$build/bin/heapsnap}")
[ -n "${OLD:-}" ] && binaries+=("old=$OLD")

measure() {  # binary, args...: prints "seconds peak_kb" of the best run, or "timeout"
  local best="" out
  for _ in $(seq "$runs"); do
    if /usr/bin/time -o "$work/.time" -f "%e %M" timeout "$limit" "$@" >/dev/null 2>&1; then
      out=$(tail -1 "$work/.time")
      if [ -z "$best" ] || awk -v a="${out%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
        best="$out"
      fi
    else
      echo "timeout"
      return
    fi
  done
  echo "$best"
}

echo "| heap | objects | binary | summary | top | path --type | path --id | objects --type | leaks |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  for shape in mixed chain chain-shared deep-tree wide garbage; do
    file="$work/$shape-$n.heapsnap"
    "$build/bin/synthetic_snapshot" "$file" --objects "$n" --shape "$shape" >/dev/null
    type=Node
    case "$shape" in deep-tree) type=Tree ;; wide) type=Record ;; garbage) type=Pair ;; esac
    id=$("$build/bin/heapsnap" top "$file" --limit 1 --json |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["id"])')
    for entry in "${binaries[@]}"; do
      name="${entry%%=*}"
      bin="${entry#*=}"
      row="| $shape | $n | $name |"
      for command in "summary" "top" "path --type $type" "path --id $id" \
                     "objects --type $type --limit 100" "leaks"; do
        set -- $command
        r=$(measure "$bin" "$1" "$file" "${@:2}")
        if [ "$r" = "timeout" ]; then
          row="$row > ${limit} s |"
        else
          row="$row $(awk -v s="${r%% *}" -v k="${r##* }" 'BEGIN{printf "%.2f s, %d MB", s, k/1024}') |"
        fi
      done
      echo "$row"
    done
    rm -f "$file"
  done
done
