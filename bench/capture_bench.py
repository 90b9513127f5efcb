"""Capture speed against a full gc.collect() of the same heap.

The collector walks the same graph the capture walks (every tracked object, tp_traverse of
each), so its time is the natural yardstick. Goal: a capture (labels, sizes, file written) in
at most 2x a full collection for heaps of 1M+ objects.

usage: python capture_bench.py [--shape slots-chain|mixed|c-fields] [--nodes N] [--repeat R]
                               [--out DIR]
Run with PYTHONPATH pointing at the build's lib/heapsnap/python (bench/run_capture_bench.sh
does this for every interpreter). Prints one JSON line.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time

import heapsnap


class SlotNode:
    __slots__ = ("next", "value", "label")


class Record:
    def __init__(self, i):
        self.id = i
        self.name = "record-%d" % i
        self.tags = ["t%d" % (i % 7), "t%d" % (i % 11)]
        self.score = i * 0.5


def build(shape, nodes):
    if shape == "slots-chain":
        # The notes' reference heap: 1M __slots__ nodes in a chain, ~3M edges.
        head = None
        for i in range(nodes):
            n = SlotNode()
            n.next = head
            n.value = i
            n.label = None
            head = n
        return head
    if shape == "c-fields":
        # C objects whose references are named from their fields (tp_members, the layouts of
        # extension_types.c): partials, a bounded lru_cache's entries, asyncio Futures.
        import asyncio
        import functools
        loop = asyncio.new_event_loop()
        cached = functools.lru_cache(maxsize=nodes)(lambda i: [i])
        heap = {"partials": [], "futures": [], "cache": cached, "loop": loop}
        for i in range(nodes // 5):
            heap["partials"].append(functools.partial(print, [i], sep=str(i)))
            cached(i)
            if i % 4 == 0:
                f = loop.create_future()
                f.set_result([i])
                heap["futures"].append(f)
        return heap
    # mixed: instances with attributes, lists, strs, floats, dicts keyed by str and int.
    registry = {"by_id": {}, "by_name": {}}
    for i in range(nodes // 5):
        r = Record(i)
        registry["by_id"][i] = r
        registry["by_name"][r.name] = r
    return registry


def memory():
    """(current RSS, peak RSS) in bytes, from /proc."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="slots-chain", choices=["slots-chain", "mixed", "c-fields"])
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", default="/tmp")
    args = p.parse_args()
    gc.collect()
    gc.disable()
    heap = build(args.shape, args.nodes)
    tracked = len(gc.get_objects())
    rss_before, _ = memory()
    stats = {}
    # Each capture writes a new file, as a first snapshot does: replacing an existing file of
    # tens of MB costs another 5-80 ms on ext4 (rename over a file forces its blocks to be
    # allocated, auto_da_alloc), which is the file system's work, not the capture's. Old files
    # are removed outside the timed part.
    paths = []

    def capture():
        path = os.path.join(args.out, "bench-%d-%d.heapsnap" % (os.getpid(), len(paths)))
        paths.append(path)
        stats.update(heapsnap.dump(path))

    def timed_capture():
        t = time.perf_counter()
        capture()
        elapsed = time.perf_counter() - t
        for old in paths[:-1]:
            if os.path.exists(old):
                os.remove(old)
        return elapsed

    # Alternated, so that the machine's slow and fast spells (a shared VM's neighbours) fall on
    # both alike.
    collect_all, capture_all = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        gc.collect()
        collect_all.append(time.perf_counter() - t)
        capture_all.append(timed_capture())
    collect = statistics.median(collect_all)
    capture_time = statistics.median(capture_all)
    _, peak = memory()
    size = os.path.getsize(paths[-1])
    os.remove(paths[-1])
    print(json.dumps({
        "python": "%d.%d.%d" % sys.version_info[:3],
        "shape": args.shape,
        "gc_tracked": tracked,
        "objects": stats["objects"],
        "edges": stats["edges"],
        "file_bytes": size,
        "gc_collect_s": round(collect, 4),
        "capture_s": round(capture_time, 4),
        "walk_s": round(stats["seconds"], 4),
        "ratio": round(capture_time / collect, 2),
        "heap_rss_mb": round(rss_before / 2**20, 1),
        "capture_extra_peak_mb": round(max(0, peak - rss_before) / 2**20, 1),
        "gc_collect_runs": [round(t, 4) for t in collect_all],
        "capture_runs": [round(t, 4) for t in capture_all],
    }))
    del heap


if __name__ == "__main__":
    main()
