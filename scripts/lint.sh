#!/usr/bin/env bash
# Lints heapsnap's own C and C++ code: clang-format (the checked-in .clang-format) and
# clang-tidy (the checked-in .clang-tidy, every warning an error) over every source of ours in
# the build's compile database, one run per file (the capture's files are compiled once per
# interpreter; the first entry stands for all). Needs a configured build (scripts/build.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
cd "$root"

sources=$(git ls-files -- '*.cc' '*.h' '*.c' | grep -E '^(base|format|capture|analyze|export|cli|bench|fuzz)/')
echo "lint: clang-format on $(echo "$sources" | wc -l) files"
clang-format --dry-run --Werror $sources

# One compile command per file, ours only.
database="$build/lint"
mkdir -p "$database"
python3 - "$build/compile_commands.json" "$database/compile_commands.json" "$root" <<'PY'
import json, sys
entries, seen = [], set()
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if f in seen or not f.startswith(sys.argv[3] + "/") or "/build" in f[len(sys.argv[3]):]:
        continue
    seen.add(f)
    # gcc's link-time optimization flags (the capture's) mean nothing to clang-tidy.
    for key in ("command", "arguments"):
        if key in e and isinstance(e[key], str):
            e[key] = " ".join(a for a in e[key].split() if not a.startswith(("-flto", "-fno-fat-lto")))
        elif key in e:
            e[key] = [a for a in e[key] if not a.startswith(("-flto", "-fno-fat-lto"))]
    entries.append(e)
json.dump(entries, open(sys.argv[2], "w"))
PY
files=$(python3 -c 'import json,sys; print("\n".join(e["file"] for e in json.load(open(sys.argv[1]))))' \
  "$database/compile_commands.json")
echo "lint: clang-tidy on $(echo "$files" | wc -l) files"
echo "$files" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$database" --quiet --warnings-as-errors='*' \
  2> >(grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' >&2)
echo "lint: clean"
