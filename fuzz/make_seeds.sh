#!/usr/bin/env bash
# Writes the fuzz target's seed corpus: real snapshots, captured from fixture programs with the
# built heapsnap, small synthetic ones, and the snapshots that once broke heapsnap
# (tests/regressions/, unpacked).
# usage: fuzz/make_seeds.sh BUILD_DIR OUT_DIR   (BUILD_DIR has bin/heapsnap with the capture)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$1"
out="$2"
mkdir -p "$out"
python="${HEAPSNAP_FUZZ_PYTHON:-/usr/bin/python3}"
for fixture in example/app.py leaks/cycles.py leaks/closures.py; do
  name="$(echo "$fixture" | tr '/.' '__')"
  [[ -s "$out/$name.heapsnap" ]] ||
    "$build/bin/heapsnap" capture -o "$out/$name.heapsnap" -- "$python" "$root/fixtures/$fixture" \
      >/dev/null
done
for spec in "mixed 300" "chain 100" "mixed 3000"; do
  set -- $spec
  [[ -s "$out/synthetic-$1-$2.heapsnap" ]] ||
    "$build/bin/synthetic_snapshot" "$out/synthetic-$1-$2.heapsnap" --objects "$2" --shape "$1" \
      >/dev/null
done
for file in "$root"/tests/regressions/*.heapsnap*; do
  name="$(basename "$file" .gz)"
  case "$file" in
    *.gz) gzip -dc "$file" >"$out/$name" ;;
    *) cp "$file" "$out/$name" ;;
  esac
done
