#!/usr/bin/env bash
# Installs what heapsnap needs to build and test, from Debian packages, if it is missing.
# Idempotent: a machine that has everything installs nothing. Needs root (or sudo) to install.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcli11-dev libprotobuf-dev protobuf-compiler libboost-graph-dev
  libgtest-dev libgmock-dev
  # scripts/lint.sh
  clang-format clang-tidy
  # clang and its runtimes (libFuzzer, sanitizers) for the fuzz target that scripts/test.sh runs
  clang libclang-rt-dev
  python3-dev python3-pytest
  # heapsnap capture --pid attaches to running processes with gdb
  gdb
  # pytest's pure-Python backports, so that the pyenv 3.8-3.10 interpreters can run Debian's
  # pytest too (tests/test_pytest_plugin.py runs heapsnap's pytest plugin under each)
  python3-exceptiongroup python3-tomli
  # heapsnap graph -o FILE.svg/.png runs Graphviz's dot
  graphviz
  # numpy and pandas for /usr/bin/python3: the tests of what numpy arrays keep alive
  python3-numpy python3-pandas
  # tests/test_report.py loads `heapsnap report`'s page in headless Chromium, and
  # tests/test_devtools_frontend.py loads exports with its bundled DevTools
  chromium
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# node and npm for tests/test_export.py, which installs memlab from npm to load the DevTools
# export. Checked by command, not by package: a NodeSource nodejs brings its own npm, and
# Debian's npm package would conflict with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "heapsnap setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
