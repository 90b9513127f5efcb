#!/usr/bin/env bash
# heapsnap's pytest plugin on a real test suite: how many tests --heapsnap-leaks flags, and its
# wall time against plain pytest running every test as many times (--heapsnap-repeat-only: the
# same repetition, no snapshots, no check) and against one plain run.
# usage: bench/run_pytest_leaks_bench.sh CHECKOUT [TEST_PATH] [WORKDIR]
#   CHECKOUT: a checkout of a pure-Python library with a pytest suite (its code stays there);
#   TEST_PATH: what to give pytest inside it (default: tests); WORKDIR: reports and snapshots.
#   PYTHON (default /usr/bin/python3) runs pytest; extra pytest options in PYTEST_ARGS.
# Prints a Markdown table for BENCHMARKS.md and lists the flagged tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
checkout="$(cd "$1" && pwd)"
tests="${2:-tests}"
work="$(mkdir -p "${3:-$build/bench/pytest-leaks}" && cd "${3:-$build/bench/pytest-leaks}" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
export PYTHONPATH="$build/lib/heapsnap/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

run() {  # name, then pytest options; prints the wall seconds
  local name="$1"
  shift
  local start end
  start=$(date +%s.%N)
  (cd "$checkout" && "$python" -m pytest -q -p no:cacheprovider --junitxml "$work/$name.xml" \
    ${PYTEST_ARGS:-} "$@" "$tests" >"$work/$name.log" 2>&1) || true
  end=$(date +%s.%N)
  python3 -c "print('%.1f' % ($end - $start))"
}

plain=$(run plain -p no:heapsnap.pytest_plugin)
repeated=$(run repeated --heapsnap-repeat-only)
checked=$(run checked --heapsnap-leaks)
python3 - "$work" "$plain" "$repeated" "$checked" "$python" <<'PY'
import sys, xml.etree.ElementTree as ET
work, plain, repeated, checked, python = sys.argv[1:]

def outcomes(name):
    found = {}
    for case in ET.parse("%s/%s.xml" % (work, name)).getroot().iter("testcase"):
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None),
                    "passed")
        message = case.find(kind).get("message", "") if kind != "passed" else ""
        found[case.get("classname") + "::" + case.get("name")] = (kind, message)
    return found

base, check = outcomes("plain"), outcomes("checked")
passing = [t for t, (k, _) in base.items() if k == "passed"]
flagged = [t for t in passing if check.get(t, ("?",))[0] != "passed"]
print("| suite | tests | passing alone | flagged by --heapsnap-leaks | plain, once | "
      "plain, each test 5x | --heapsnap-leaks (5x + 4 snapshots + check) |")
print("|---|---|---|---|---|---|---|")
print("| %s | %d | %d | %d | %s s | %s s | %s s |"
      % (python, len(base), len(passing), len(flagged), plain, repeated, checked))
with open("%s/flagged.txt" % work, "w") as f:
    for t in flagged:
        print("flagged: %s: %s" % (t, check[t][1].splitlines()[0] if check[t][1] else check[t][0]))
        f.write(t + "\n")
PY
# The flagged tests again, keeping their snapshots (for heapsnap check, diff and path).
if [[ -s "$work/flagged.txt" ]]; then
  echo "snapshots of the flagged tests: $work/snapshots"
  (cd "$checkout" && "$python" -m pytest -q -p no:cacheprovider --heapsnap-leaks \
    --heapsnap-save-dir "$work/snapshots" ${PYTEST_ARGS:-} -k "$(sed -E 's/.*:://; s/\[.*//' \
    "$work/flagged.txt" | sort -u | paste -sd'|' | sed 's/|/ or /g')" "$tests" \
    >"$work/flagged.log" 2>&1) || true
fi
