"""Snapshots are untrusted input: every command on files that once hung, overflowed, or blew up
in time or memory (tests/regressions/) ends with a result, or with exit code 2 and a message
naming the file, within a memory limit, printing a bounded amount."""
import gzip
import json
import os
import resource
import shutil

import pytest

from conftest import HEAPSNAP, ROOT, run

REGRESSIONS = os.path.join(ROOT, "tests", "regressions")
FILES = sorted(f for f in os.listdir(REGRESSIONS) if ".heapsnap" in f)
MEMORY_LIMIT = 2 << 30  # the worst of these needed 12 GiB before the fixes
OUTPUT_LIMIT = 2 << 20


def test_every_regression_is_here():
    # The list below is what tests/regressions/README.md describes: a file that is not checked
    # in must fail here, not shrink the tests that follow.
    assert set(FILES) == {
        "amplification-long-label-1MiB-x-400.heapsnap.gz",
        "hang-leaks-traceback-tb_next-2-cycle.heapsnap",
        "hang-leaks-traceback-tb_next-self-loop.heapsnap",
        "oom-path-type-chain-20k.heapsnap.gz",
        "slow-dominators-stress-100k.heapsnap.gz",
        "ubsan-analysis35-refcount-2pow63.heapsnap",
    }


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def snapshot(name, tmp_path):
    source = os.path.join(REGRESSIONS, name)
    if not name.endswith(".gz"):
        return source
    out = tmp_path / name[:-3]
    with gzip.open(source, "rb") as f, open(out, "wb") as g:
        shutil.copyfileobj(f, g)
    return str(out)


def heapsnap_bounded(*args):
    # The timeout only guards against a hang: speed is measured by the benchmarks.
    result = run([HEAPSNAP] + [str(a) for a in args], timeout=120, preexec_fn=limited)
    assert result.returncode in (0, 2), (args, result.returncode, result.stderr[-2000:])
    if result.returncode == 2:
        assert args[1] in result.stderr and "internal error" not in result.stderr, result.stderr
    assert len(result.stdout) < OUTPUT_LIMIT, (args, len(result.stdout))
    return result


@pytest.mark.parametrize("name", FILES)
def test_every_command_ends_on_hostile_files(name, tmp_path):
    snap = snapshot(name, tmp_path)
    top = heapsnap_bounded("top", snap, "--json")
    for command in (["summary"], ["summary", "--json"], ["leaks"], ["leaks", "--json"],
                    ["leaks", "--verbose"], ["top"], ["top", "--by", "self"]):
        heapsnap_bounded(command[0], snap, *command[1:])
    if top.returncode != 0:
        return
    data = json.loads(top.stdout)
    for t in data["types"][:3]:
        heapsnap_bounded("path", snap, "--type", t["type"])
        heapsnap_bounded("path", snap, "--type", t["type"], "--json", "--max", "0")
        heapsnap_bounded("objects", snap, "--type", t["type"], "--limit", "20")
        heapsnap_bounded("objects", snap, "--type", t["type"], "--limit", "20", "--json")
    for o in data["objects"][:3] + data["objects"][-3:]:
        heapsnap_bounded("path", snap, "--id", o["id"])
        heapsnap_bounded("path", snap, "--id", o["id"], "--json")
        heapsnap_bounded("objects", snap, "--id", o["id"])


def test_refcounts_no_process_has_are_refused(tmp_path):
    result = run([HEAPSNAP, "leaks", os.path.join(REGRESSIONS,
                                                  "ubsan-analysis35-refcount-2pow63.heapsnap")])
    assert result.returncode == 2
    assert "more than a Py_ssize_t holds" in result.stderr


@pytest.mark.parametrize("name", ["hang-leaks-traceback-tb_next-self-loop.heapsnap",
                                  "hang-leaks-traceback-tb_next-2-cycle.heapsnap"])
def test_looping_tracebacks_are_reported_once(name):
    result = heapsnap_bounded("leaks", os.path.join(REGRESSIONS, name), "--json")
    kinds = [f["kind"] for f in json.loads(result.stdout)["findings"]]
    assert kinds.count("traceback") == 1


def test_linked_list_paths_fold(tmp_path):
    snap = snapshot("oom-path-type-chain-20k.heapsnap.gz", tmp_path)
    data = json.loads(heapsnap_bounded("path", snap, "--type", "Node", "--json", "--max", "0").stdout)
    assert data["count"] == 20000
    assert len(data["paths"]) <= 4, [p["shape"] for p in data["paths"]]
    assert any(p["shape"].endswith(".next*") for p in data["paths"])
    # Each byte once: the nodes retain what the first retains, not the sum of 20,000 suffixes.
    assert data["retained_bytes"] == max(p["total_retained_bytes"] for p in data["paths"])


MAX_BYTES_PER_FILE_BYTE = 24  # the worst shape, minimal objects, measures about 17


def peak_rss_bytes(args):
    """Peak resident memory of one command, measured in a process of its own."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = run(["python3", "-c", probe, HEAPSNAP] + [str(a) for a in args]).stdout.split()
    assert out[0] == "0", (args, out)
    return int(out[1]) * 1024


@pytest.mark.parametrize("command", [["summary"], ["leaks"], ["top"], ["path", "--type", "int"]])
def test_memory_is_bounded_by_the_file(command, tmp_path):
    # A file can make an object cost as little as 8 bytes; what a command holds per object is
    # fixed (labels, values and strings once, cut when shown), so memory stays within a small
    # multiple of the file whatever it holds.
    snap = tmp_path / "tiny.heapsnap"
    generator = os.path.join(os.path.dirname(HEAPSNAP), "synthetic_snapshot")
    assert run([generator, snap, "--objects", "1000000", "--shape", "tiny"]).returncode == 0
    size = os.path.getsize(snap)
    peak = peak_rss_bytes([command[0], snap] + command[1:])
    assert peak < MAX_BYTES_PER_FILE_BYTE * size + (32 << 20), (peak, size, peak / size)
