"""What a hold costs (heapsnap.testing holds one snapshot's objects while the next run executes):
the capture with and without taking the hold, the release, and the RSS the hold adds, on a heap
of about 2 million objects (a million slotted instances and their ints). Best of 3.

    PYTHONPATH=build/lib/heapsnap/python python3 bench/hold_cost.py [FILE]
"""
import gc
import sys
import time

import heapsnap


class Node(object):
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a
        self.b = None


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    native = heapsnap._load_native()
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/hold_cost.heapsnap"
    data = [Node(i) for i in range(1000000)]
    gc.collect()
    best = {}
    for _ in range(3):
        start = time.perf_counter()
        native.dump(path, False, "dump", 100)
        plain = time.perf_counter() - start
        before = rss()
        start = time.perf_counter()
        hold = native.dump(path, False, "dump", 100, True)[4]
        held = time.perf_counter() - start
        grown = rss() - before
        start = time.perf_counter()
        count = native.release_hold(hold)
        release = time.perf_counter() - start
        for key, value in (("plain", plain), ("held", held), ("release", release)):
            best[key] = min(best.get(key, float("inf")), value)
        best["rss"], best["count"] = grown, count
    print("Python %s: %d objects held; capture %.3f s, with the hold %.3f s (%+.1f ms); "
          "release %.1f ms; hold %.1f bytes of RSS per object"
          % (sys.version.split()[0], best["count"], best["plain"], best["held"],
             (best["held"] - best["plain"]) * 1e3, best["release"] * 1e3,
             best["rss"] / best["count"]))
    del data


if __name__ == "__main__":
    main()
