"""`heapsnap leaks` on a fixture program per leak pattern, on every interpreter, and on programs
that look similar but do not leak."""
import pytest

from conftest import fixture, heapsnap, heapsnap_json

KINDS = {"unreachable_cycle", "closure", "mutable_default", "finalizer", "traceback", "accumulation",
         "external"}


def leaks(python, tmp_path, name):
    snap = tmp_path / (name + ".heapsnap")
    heapsnap("capture", "-o", snap, "--", python, fixture("leaks/%s.py" % name))
    report = heapsnap_json("leaks", snap)
    for f in report["findings"]:
        assert f["kind"] in KINDS
        assert {"objects", "retained_bytes", "types", "path", "title", "fix"} <= set(f)
    return snap, report


def of_kind(report, kind):
    return [f for f in report["findings"] if f["kind"] == kind]


def test_unreachable_cycles_are_grouped_by_shape(python, tmp_path):
    snap, report = leaks(python, tmp_path, "cycles")
    assert report["unreachable_objects"] >= 20000
    cycles = of_kind(report, "unreachable_cycle")
    assert len(cycles) == 1, [f["title"] for f in cycles]
    f = cycles[0]
    assert f["count"] == 10000
    assert f["types"]["Node"] == 20000
    assert f["types"]["bytearray"] == 20000  # what the cycles hold
    assert f["retained_bytes"] >= 20000 * 64
    assert "gc.enable()" in f["fix"]  # the program disabled the collector
    assert f["path"] == []
    text = heapsnap("leaks", snap).stdout
    assert "10,000 unreachable cycles of __main__.Node x2" in text


def test_closure_retaining_data(python, tmp_path):
    _, report = leaks(python, tmp_path, "closures")
    closures = of_kind(report, "closure")
    assert len(closures) == 1
    f = closures[0]
    assert f["function"] == "__main__.make_listener.<locals>.listener"
    assert f["variable"] == "data"
    assert f["location"].endswith("closures.py:7")
    assert f["count"] == 50
    assert f["retained_bytes"] > 50 * 1000 * 8
    assert "LISTENERS" in f["path_text"]
    assert f["path"][0] == "sys.modules"


def test_mutable_defaults(python, tmp_path):
    _, report = leaks(python, tmp_path, "mutable_default")
    found = {f["parameter"]: f for f in of_kind(report, "mutable_default")}
    assert found["seen"]["function"] == "__main__.remember"
    assert found["seen"]["container"] == "list"
    assert found["seen"]["length"] == 500
    assert found["counts"]["container"] == "dict"
    assert found["counts"]["length"] == 40
    assert found["seen"]["retained_bytes"] > found["counts"]["retained_bytes"] > 0
    assert found["seen"]["severity"] == "high"
    assert found["options"]["severity"] == "low"  # empty: at most a note
    assert found["options"]["length"] == 0
    assert report["findings"][-1]["parameter"] == "options"  # notes come last


def test_finalizer_blocked_garbage(python, tmp_path):
    _, report = leaks(python, tmp_path, "finalizers")
    reasons = {f["reason"]: f for f in of_kind(report, "finalizer")}
    assert reasons["resurrected"]["count"] == 20
    assert reasons["resurrected"]["types"]["Phoenix"] == 20
    assert reasons["cycle_with_finalizer"]["count"] == 30
    assert reasons["cycle_with_finalizer"]["types"]["WithDel"] == 60
    assert reasons["uncollectable"]["types"]["Saved"] == 20
    # Cycles with finalizers are not reported twice.
    assert not of_kind(report, "unreachable_cycle")


def test_stored_tracebacks(python, tmp_path):
    _, report = leaks(python, tmp_path, "traceback_leak")
    tracebacks = of_kind(report, "traceback")
    assert len(tracebacks) == 1
    f = tracebacks[0]
    assert f["exception"] == "ValueError"
    assert f["count"] == 30
    assert f["path_text"] == "sys.modules['__main__'].ERRORS[*]"  # the shape of all thirty
    # What all thirty keep, not only the examples shown.
    assert f["types"]["traceback"] >= 30 and f["types"]["frame"] >= 30
    assert f["types"]["ValueError"] == 30
    assert any("parse" in d and "rows" in d for d in f["details"]), f["details"]


def test_accumulation_point(python, tmp_path):
    snap, report = leaks(python, tmp_path, "accumulation")
    # 20,000 sessions under generated keys are one way of being held, not 20,000 lines.
    paths = heapsnap_json("path", snap, "--type", "Session")["paths"]
    assert [(p["shape"], p["count"]) for p in paths] == [("sys.modules['__main__'].CACHE[*]", 20000)]
    points = of_kind(report, "accumulation")
    assert len(points) == 1
    f = points[0]
    assert f["container"] == "dict"
    assert f["path_text"] == "sys.modules['__main__'].CACHE"
    assert f["types"]["Session"] == 20000
    assert f["length"] == 20000  # entries, not keys and values
    assert "holds 20,000 entries (mostly __main__.Session)" in f["title"]
    assert report["findings"][0]["kind"] == "accumulation"  # ranked first: it is the largest


def test_small_growing_container_is_found_and_thresholds_are_said(python, tmp_path):
    snap, report = leaks(python, tmp_path, "small_growth")
    live = report["thresholds"]["live_bytes"]
    points = [f for f in of_kind(report, "accumulation") if "handlers" in f["path_text"]]
    assert len(points) == 1, [f["title"] for f in report["findings"]]
    f = points[0]
    assert 0.02 * live < f["retained_bytes"] < 0.10 * live  # a small share: 10% would miss it
    assert f["length"] == 400
    assert "removeHandler" in f["fix"]  # a fix that fits a handler list
    assert report["thresholds"]["min_share_percent"] == 3
    assert report["thresholds"]["share_bytes"] == max(10240, int(0.03 * live))
    text = heapsnap("leaks", snap).stdout
    assert "3% of the live heap" in text and "--min-share" in text
    # A higher share leaves it out, and says so.
    strict = heapsnap_json("leaks", snap, "--min-share", "20")
    assert not [f for f in of_kind(strict, "accumulation") if "handlers" in f["path_text"]]
    assert strict["thresholds"]["min_share_percent"] == 20


def test_memory_held_only_by_c_code(python, tmp_path):
    snap = tmp_path / "held_by_c.heapsnap"
    heapsnap("capture", "-o", tmp_path / "exit.heapsnap", "--", python, fixture("leaks/held_by_c.py"),
             snap)
    report = heapsnap_json("leaks", snap)
    version = tuple(int(p) for p in heapsnap_json("summary", snap)["python"].split(".")[:2])
    if version < (3, 10):
        # Before 3.10 the atexit module's own state holds the callbacks, and its tp_traverse
        # reports them: a container that grows, held through sys.modules['atexit'].
        points = [f for f in of_kind(report, "accumulation") if "['atexit']" in f["path_text"]]
        assert len(points) == 1, [f["title"] for f in report["findings"]]
        assert points[0]["length"] >= 200 and "atexit.unregister" in points[0]["fix"]
        assert points[0]["types"]["Service"] == 200
        shapes = heapsnap_json("path", snap, "--type", "Service")["paths"]
        assert len(shapes) == 1 and shapes[0]["count"] == 200, [p["shape"] for p in shapes]
        return
    held = of_kind(report, "external")
    assert len(held) == 1, [f["title"] for f in report["findings"]]
    f = held[0]
    assert f["type"] == "method"
    assert f["count"] == 200 and f["references"] == 200
    assert f["retained_bytes"] > 200 * 20000
    assert f["types"]["Service"] == 200 and f["types"]["bytearray"] == 200
    assert "nobody in the heap accounts for" in f["title"]
    assert "200 bound methods __main__.Service.close (of __main__.Service objects)" in f["title"]
    assert f["function"] == "__main__.Service.close"
    assert "atexit.unregister" in f["fix"]
    assert report["findings"][0] is f or report["findings"][0]["kind"] == "external"


def test_programs_that_do_not_leak(python, tmp_path):
    _, report = leaks(python, tmp_path, "clean")
    assert report["findings"] == [], [f["title"] for f in report["findings"]]


def test_text_report_and_verbose(python, tmp_path):
    snap, _ = leaks(python, tmp_path, "closures")
    text = heapsnap("leaks", snap).stdout
    assert "#1 " in text and "fix: " in text and "held by: sys.modules['__main__'].LISTENERS" in text
    verbose = heapsnap("leaks", snap, "--verbose").stdout
    assert "examples: 0x" in verbose


def test_bundled_example(python, tmp_path):
    snap = tmp_path / "example.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("example/app.py"))
    report = heapsnap_json("leaks", snap)
    kinds = {f["kind"] for f in report["findings"]}
    assert {"closure", "unreachable_cycle", "traceback", "mutable_default"} <= kinds
    # One finding per cause: the listener list that grows is the closures' container, said in
    # the closure finding, not a second finding with another fix.
    closure = of_kind(report, "closure")[0]
    assert any("accumulate in list sys.modules['__main__']._LISTENERS" in d
               for d in closure["details"]), closure["details"]
    assert not [f for f in of_kind(report, "accumulation") if "_LISTENERS" in f["path_text"]]
    # The stored exception's frame keeps a big list: one finding, the traceback, says so.
    assert not [f for f in of_kind(report, "accumulation") if "_LAST_ERROR" in f["path_text"]]
    stored = [f for f in of_kind(report, "traceback") if "_LAST_ERROR" in f["path_text"]][0]
    assert any("big_local" in d for d in stored["details"]), stored["details"]
    assert report["unreachable_objects"] >= 4000
    retained = [f["retained_bytes"] for f in report["findings"] if f["severity"] == "high"]
    assert retained == sorted(retained, reverse=True)


def test_library_structure_is_at_most_a_note(python, tmp_path):
    snap, report = leaks(python, tmp_path, "library_noise")
    high = [f for f in report["findings"] if f["severity"] == "high"]
    assert not high, [f["title"] for f in high]
    notes = {f["kind"] for f in report["findings"] if f["severity"] == "low"}
    assert "closure" in notes  # the decorator's wrappers: said, as a note
    assert "unreachable_cycle" in notes  # the dropped classes: said, as a note
    cycle = [f for f in report["findings"] if f["kind"] == "unreachable_cycle"][0]
    assert "classes made and dropped, such as " in cycle["title"]
    text = heapsnap("leaks", snap).stdout
    assert "closure (note)" in text


def test_fixes_fit_the_cause(python, tmp_path):
    _, report = leaks(python, tmp_path, "fitting_fixes")
    points = of_kind(report, "accumulation")

    def point(part):
        found = [f for f in points if part in f["path_text"] or part in f["container"]]
        assert found, (part, [f["title"] for f in report["findings"]])
        return found[0]

    assert "cached_property" in point("summary")["fix"]
    assert "add_done_callback(tasks.discard)" in point("TASKS")["fix"]
    assert "WeakMethod" in point("callbacks")["fix"]
    assert len({f["fix"] for f in points}) == len(points)  # no generic text for all three


def test_linked_chain_is_found_at_its_head(python, tmp_path):
    snap, report = leaks(python, tmp_path, "linked_history")
    chains = [f for f in of_kind(report, "accumulation") if f["title"].startswith("linked chain")]
    assert len(chains) == 1, [f["title"] for f in report["findings"]]
    f = chains[0]
    assert report["findings"][0] is f or report["findings"][0]["title"] == f["title"]
    # The last entry is also held by HISTORY.tail, so the head dominates all but that one.
    assert f["length"] == 19999 and f["container"] == "__main__.Entry"
    assert "sys.modules['__main__'].HISTORY.head.next*" in f["title"]
    assert f["path_text"] == "sys.modules['__main__'].HISTORY.head"
    assert f["types"]["Entry"] == 19999
    assert "deque(maxlen=" in f["fix"]


def test_a_cache_within_its_declared_limit_is_a_note(python, tmp_path):
    _, report = leaks(python, tmp_path, "bounded_cache")
    points = [f for f in of_kind(report, "accumulation") if "CACHE.data" in f["path_text"]]
    assert len(points) == 1, [f["title"] for f in report["findings"]]
    assert points[0]["severity"] == "low" and points[0]["length"] == 256
    assert "declares a limit of 256" in points[0]["title"]
    assert not [f for f in report["findings"] if f["severity"] == "high"]
