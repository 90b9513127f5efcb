"""`heapsnap export --format devtools`, loaded by Chrome DevTools' own heap snapshot code: the
DevTools frontend bundled in Chromium (devtools://devtools/bundled/), whose heap snapshot
worker module is imported into the devtools_app page of a headless Chromium and fed the export
as the Memory panel feeds it (HeapSnapshotLoader: write the text in chunks, close, then
buildSnapshot, with the second thread's work done over a MessageChannel as DevTools' own
tests do). DevTools must see every object, the same total and the same retained sizes, and
its Summary view (the classes, their counts and retained sizes) must be heapsnap's.

One thing DevTools does that memlab (test_export.py) does not: it gives the self size of a
"hidden" node (the export's cells and running frames) to the one object that owns it
(JSHeapSnapshot.calculateShallowSizes), so such a cell shows 0 bytes and, say, a closure's
tuple shows its own size plus its cells'. Retained sizes are not changed by it.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium_browser import CHROMIUM, Browser  # noqa: E402
from conftest import INTERPRETERS, fixture, heapsnap, heapsnap_json  # noqa: E402

FRONTEND = "devtools://devtools/bundled/devtools_app.html"
WORKER = "devtools://devtools/bundled/entrypoints/heap_snapshot_worker/heap_snapshot_worker.js"
CHUNK = 1 << 19  # characters per HeapSnapshotLoader.write, as DevTools gets them in chunks
# heapsnap's objects the export writes as V8 "hidden" nodes.
HIDDEN_TYPES = ("cell", "<running frame>")

# Loads what was written into the loader and returns what DevTools computed.
BUILD_AND_READ = r"""(async () => {
  const HS = globalThis.heapSnapshotWorker;
  globalThis.loader.close();
  const channel = new MessageChannel();
  new HS.HeapSnapshot.SecondaryInitManager(channel.port2);
  const snapshot = await globalThis.loader.buildSnapshot(channel.port1);
  globalThis.loader = null;
  const nodes = [];
  for (let it = snapshot.allNodes(); it.hasNext(); it.next()) {
    const n = it.item();
    nodes.push([n.type(), n.name().slice(0, 100), n.selfSize(), n.retainedSize()]);
  }
  // The Summary view: one row per class (objects of a type; strings, numbers, closures...).
  const classes = {};
  const aggregates = snapshot.aggregatesWithFilter({});
  const node = snapshot.rootNode();
  for (const key in aggregates) {
    const a = aggregates[key];
    node.nodeIndex = a.idxs[0];
    classes[a.name] = {type: node.type(), count: a.count, self: a.self, retained: a.maxRet};
  }
  return {nodeCount: snapshot.nodeCount, totalSize: snapshot.totalSize,
          statistics: snapshot.getStatistics(), nodes, classes,
          problems: globalThis.loaderEvents.filter(e => !/Update/.test(e[0]))};
})()"""


@pytest.fixture(scope="module")
def devtools():
    """A headless Chromium on DevTools' own page, with its heap snapshot worker module."""
    if CHROMIUM is None:
        print("chromium is not installed (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    b = Browser()
    try:
        b.call("Page.navigate", {"url": FRONTEND}, session=True)
        b.wait_for("Page.loadEventFired")
        exports = b.evaluate("import(%s).then(m => (globalThis.heapSnapshotWorker = m, "
                             "Object.keys(m)))" % json.dumps(WORKER))
        assert "HeapSnapshotLoader" in exports and "HeapSnapshot" in exports, (
            "%s exports %s: this Chromium's DevTools frontend moved its heap snapshot code"
            % (WORKER, exports))
        yield b
    finally:
        b.close()


def load_in_devtools(browser, path):
    browser.evaluate("globalThis.loaderEvents = []; globalThis.loader = new heapSnapshotWorker"
                     ".HeapSnapshotLoader.HeapSnapshotLoader({sendEvent: (name, arg) => "
                     "loaderEvents.push([String(name), String(arg)])}); 0")
    with open(path, encoding="utf-8") as f:
        while True:
            text = f.read(CHUNK)
            if not text:
                break
            browser.evaluate("loader.write(%s), 0" % json.dumps(text))
    return browser.evaluate(BUILD_AND_READ)


@pytest.mark.parametrize("program", ["leaks/closures.py", "leaks/cycles.py",
                                     "leaks/held_by_c.py"])
@pytest.mark.parametrize("python", [INTERPRETERS[0], INTERPRETERS[-1]],
                         ids=["oldest", "newest"])
def test_devtools_sees_the_same_objects_and_retained_sizes(python, tmp_path, devtools, program):
    snap = tmp_path / "app.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture(program))
    export = tmp_path / "app.heapsnapshot"
    heapsnap("export", snap, "--format", "devtools", "-o", export)

    seen = load_in_devtools(devtools, export)
    assert seen["problems"] == [], "DevTools found the snapshot broken: %s" % seen["problems"]
    nodes = seen["nodes"]
    assert seen["nodeCount"] == len(nodes)

    # Every object of the snapshot, its running frames included, and the synthetic nodes.
    summary = heapsnap_json("summary", snap)
    every = heapsnap_json("top", snap, "--all", "--limit", "0")["objects"]
    assert len(every) == summary["objects"] + summary["running_frames"]
    objects = [n for n in nodes if n[0] != "synthetic"]
    assert len(objects) == len(every)
    hidden = [n for n in objects if n[0] == "hidden"]
    assert len(hidden) == sum(o["type"] in HIDDEN_TYPES for o in every)

    # The total DevTools shows (Statistics view; the root's retained size) is every byte.
    total = sum(o["self_bytes"] for o in every)
    assert seen["totalSize"] == total
    assert seen["statistics"]["total"] == total
    assert sum(n[2] for n in nodes) == total

    # Every visible object's retained size, as DevTools computes it, is heapsnap's (the whole
    # multiset: no id links the two). Hidden nodes lose what DevTools gives their owner.
    assert sorted(n[3] for n in objects if n[0] != "hidden") == \
        sorted(o["retained_bytes"] for o in every if o["type"] not in HIDDEN_TYPES)

    # The largest objects by retained size, each found in DevTools with heapsnap's retained
    # size, its type as name (objects) and its own size (plus that of hidden nodes it owns).
    top = heapsnap_json("top", snap, "--limit", "10")["objects"]
    assert top
    for o in top:
        found = [n for n in objects if n[3] == o["retained_bytes"] and n[2] >= o["self_bytes"]
                 and (n[1] == o["type"] or n[0] != "object")]
        assert found, "DevTools has no node of %s retaining %d bytes (self %d)" % (
            o["type"], o["retained_bytes"], o["self_bytes"])

    # The Summary view: each class of objects DevTools lists is a type of heapsnap's, with the
    # same count and retained size.
    types = {t["type"]: t for t in summary["types"]}
    classes = {name: c for name, c in seen["classes"].items() if c["type"] == "object"}
    assert classes
    for name, c in classes.items():
        t = types.get(name)
        assert t, "DevTools lists a class %s that heapsnap does not" % name
        assert (c["count"], c["retained"]) == (t["count"], t["retained_bytes"]), (name, c, t)
        assert c["self"] >= t["bytes"], (name, c, t)
    # Its other rows gather node types: (string) is str, (compiled code) code; and every
    # node DevTools gives a size to is in one row.
    for row, name in (("(string)", "str"), ("(compiled code)", "code")):
        c, t = seen["classes"][row], types[name]
        assert (c["count"], c["self"], c["retained"]) == \
            (t["count"], t["bytes"], t["retained_bytes"]), (row, c, t)
    assert sum(c["count"] for c in seen["classes"].values()) == sum(1 for n in nodes if n[2])

    # The garbage of the cycles fixture is under its own synthetic node, with what it retains.
    if program == "leaks/cycles.py":
        garbage = [n for n in nodes if n[0] == "synthetic" and n[1] == "(unreachable garbage)"]
        assert len(garbage) == 1
        assert garbage[0][3] == summary["unreachable"]["retained_bytes"]
        assert classes["__main__.Node"]["count"] == 20000
