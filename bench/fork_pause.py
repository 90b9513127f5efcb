"""The program's pause and extra memory: a stop-the-world capture against a fork capture
(heapsnap.dump(fork=True)) of the same heap.

Stop-the-world: the program is stopped for the whole capture (walk, labels, file). Fork: it is
stopped for fork() only (copying the page tables); a child writes the snapshot while the
program goes on. The goal (issue 12): a pause at least 10x shorter on heaps of 1M+ objects.

Memory: a fork shares the program's pages with the child until either writes one. While the
child runs, the program keeps working on a working set of its heap (--touch: a fraction of its
objects rewritten per pass), as a service would; every 10 ms this samples both processes' Pss
(/proc/PID/smaps_rollup: shared pages counted half in each), and the extra memory is the peak
of Pss(parent) + Pss(child) over the program's Pss before the fork. The stop-the-world
capture's extra memory is the rise of the program's peak RSS (VmHWM) during it.

usage: python fork_pause.py [--shape slots-chain|mixed] [--nodes N] [--repeat R] [--touch F]
                            [--out DIR]
Run with PYTHONPATH pointing at the build's lib/heapsnap/python (bench/run_fork_bench.sh).
Prints one JSON line.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time

import heapsnap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_bench import build, memory  # noqa: E402


def pss(pid):
    """Pss in bytes from /proc/PID/smaps_rollup, or None once the process is gone."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def working_set(heap, shape):
    """Objects the program rewrites while the child runs."""
    if shape == "slots-chain":
        nodes = []
        node = heap
        while node is not None:
            nodes.append(node)
            node = node.next
        return nodes
    return list(heap["by_id"].values())


def touch(objects, fraction, step):
    count = int(len(objects) * fraction)
    start = (step * count) % max(1, len(objects))
    for o in objects[start:start + count]:
        if hasattr(o, "score"):
            o.score += 1.0
        else:
            o.label = step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="slots-chain")
    parser.add_argument("--nodes", type=int, default=1000000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--touch", type=float, default=0.01)
    parser.add_argument("--out", default="/tmp")
    args = parser.parse_args()
    heap = build(args.shape, args.nodes)
    objects = working_set(heap, args.shape)
    gc.collect()
    path = os.path.join(args.out, "fork-bench-%d.heapsnap" % os.getpid())

    stop_pauses, stop_extra = [], []
    for _ in range(args.repeat):
        _, peak_before = memory()
        start = time.perf_counter()
        result = heapsnap.dump(path)
        stop_pauses.append(time.perf_counter() - start)
        stop_extra.append(max(0, memory()[1] - peak_before))
        written = result["objects"]
        os.unlink(path)

    fork_pauses, fork_calls, fork_extra, child_seconds = [], [], [], []
    for _ in range(args.repeat):
        before = pss(os.getpid())
        start = time.perf_counter()
        started = heapsnap.dump(path, fork=True)
        fork_calls.append(time.perf_counter() - start)
        fork_pauses.append(started["pause_seconds"])
        peak, step = 0, 0
        while True:
            try:
                outcome = heapsnap.wait_forked(started["pid"], timeout=0.01)
                break
            except TimeoutError:
                pass
            touch(objects, args.touch, step)
            step += 1
            parent, child = pss(os.getpid()), pss(started["pid"])
            if parent is not None and child is not None:
                peak = max(peak, parent + child - before)
        assert outcome["objects"] > 0
        fork_extra.append(peak)
        child_seconds.append(outcome["child_seconds"])
        os.unlink(path)

    stop = statistics.median(stop_pauses)
    fork = statistics.median(fork_pauses)
    print(json.dumps({
        "python": "%d.%d.%d" % sys.version_info[:3], "shape": args.shape,
        "objects": written, "rss_mb": memory()[0] / 1e6,
        "stop_pause_s": stop, "fork_pause_s": fork,
        "fork_call_s": statistics.median(fork_calls),
        "ratio": stop / fork if fork else float("inf"),
        "child_s": statistics.median(child_seconds),
        "stop_extra_mb": max(stop_extra) / 1e6, "fork_extra_mb": max(fork_extra) / 1e6,
        "touch": args.touch,
    }))


if __name__ == "__main__":
    main()
