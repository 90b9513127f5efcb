"""End to end, on every interpreter: references that C types report through tp_traverse are
named after the C field that holds them (tp_members, and the layouts heapsnap knows for
lru_cache, threading.local and asyncio's C Future and Task), never tp_traverse#k."""
import json
import os

import pytest

from conftest import BUILD, Objects, fixture, heapsnap_json, run


@pytest.fixture
def c_fields(python, tmp_path):
    facts_path = tmp_path / "facts.json"
    snapshot = tmp_path / "c_fields.heapsnap"
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))
    result = run([python, fixture("c_fields.py"), str(facts_path), str(snapshot)], env=env)
    assert result.returncode == 0, result.stderr
    with open(facts_path) as f:
        return json.load(f), str(snapshot)


def path_labels(snapshot, object_id):
    paths = heapsnap_json("path", snapshot, "--id", str(object_id))["paths"]
    assert paths, "no path to %#x" % object_id
    return [step["label"] for step in paths[0]["steps"]]


def unnamed(objects, object_id):
    return [e["label"] for e in objects[object_id]["edges"]
            if e["label"].startswith("<tp_traverse#")]


def test_snapshot_stays_exact(c_fields, tmp_path):
    _, snap = c_fields
    with open(tmp_path / "facts.json.after") as f:
        after = json.load(f)
    assert after["refcounts_unchanged"], after
    assert heapsnap_json("summary", snap)["inconsistent_objects"] == 0


def test_members_name_the_fields(c_fields):
    facts, snap = c_fields
    objects = Objects(snap, [facts["partial"], facts["defaults"], facts["import_error"]])
    assert objects.target(facts["partial"], ".func") == facts["partial_func"]
    assert objects.target(facts["partial"], ".args") == facts["partial_args"]
    assert objects.target(facts["partial"], ".keywords") == facts["partial_keywords"]
    assert objects.edge(facts["partial"], ".func")["kind"] == "traverse"
    assert objects.edge(facts["defaults"], ".default_factory")["target_type"] == "type"
    assert objects.target(facts["import_error"], ".name") == facts["import_error_name"]
    for name in ("partial", "defaults", "import_error"):
        assert unnamed(objects, facts[name]) == [], name


def test_lru_cache_entries_read_as_a_mapping(c_fields):
    facts, snap = c_fields
    objects = Objects(snap, [facts["bounded"], facts["unbounded"]])
    assert objects.target(facts["bounded"], ".__wrapped__") == facts["bounded_func"]
    assert objects.target(facts["bounded"], "['ada']") == facts["bounded_result"]
    assert objects.edge(facts["bounded"], "[7]")["target_type"] == "Payload"
    assert objects.edge(facts["bounded"], "<key 'ada'>")["kind"] == "traverse"
    assert objects.edge(facts["unbounded"], ".cache")["target_type"] == "dict"
    for name in ("bounded", "unbounded"):
        assert unnamed(objects, facts[name]) == [], name
        # Only references tp_traverse reported are named: none is added.
        assert all(e["kind"] == "traverse" for e in objects[facts[name]]["edges"]), name
    # A str key is written by reference to the key object, as in dicts: no label string.
    with open(snap, "rb") as f:
        assert b"'ada'" not in f.read()
    # Results held only by a cache: bounded caches keep them in their links, unbounded ones
    # in the cache dict.
    assert path_labels(snap, facts["bounded_result"])[-2:] == ["['bounded']", "['ada']"]
    assert path_labels(snap, facts["unbounded_result"])[-3:] == ["['unbounded']", ".cache",
                                                                 "['bob']"]
    summary = path_labels(snap, facts["report_summary"])
    assert summary[-2] == ".summary" and summary[-1].startswith("[(<Report 0x"), summary


def test_thread_local_dicts_are_named_by_thread(c_fields):
    facts, snap = c_fields
    labels = path_labels(snap, facts["worker_buffer"])
    assert labels[-4:] == ["['CONTEXT']", ".localdicts", "[<thread 'worker-1'>]", "['buffer']"]
    objects = Objects(snap, [facts["context"], facts["state"]])
    dicts = objects.target(facts["context"], ".localdicts")
    assert unnamed(objects, facts["context"]) == []
    threads = Objects(snap, [dicts])
    assert threads.target(dicts, "[<thread 'MainThread'>]") == facts["main_dict"]
    assert threads.target(dicts, "[<thread 'worker-1'>]") == facts["worker_dict"]
    # A subclass of threading.local, as asyncio and many libraries use.
    state_dicts = objects.target(facts["state"], ".localdicts")
    assert Objects(snap, [state_dicts]).target(
        state_dicts, "[<thread 'MainThread'>]") == facts["state_dict"]


def test_asyncio_task_and_future_fields(c_fields):
    facts, snap = c_fields
    if not facts["c_asyncio"]:
        pytest.skip("asyncio's C Task is not in use")
    objects = Objects(snap, [facts["task"], facts["future"]])
    assert objects.target(facts["task"], "._coro") == facts["task_coro"]
    assert objects.target(facts["task"], "._loop") == facts["task_loop"]
    assert objects.target(facts["task"], "._callback0") == facts["task_callback"]
    assert objects.edge(facts["task"], "._fut_waiter")["target_type"] == "Future"
    assert objects.target(facts["future"], "._result") == facts["future_result"]
    for name in ("task", "future"):
        assert unnamed(objects, facts[name]) == [], name
    labels = path_labels(snap, facts["coro_payload"])
    assert "._coro" in labels and labels[-1] == ".<local payload>", labels


def test_asyncio_helpers_lead_to_their_task(c_fields):
    """What the event loop holds of a task: its scheduled step, the wake-up it registered with
    the future it waits for (a C wrapper before 3.12, a builtin method after), and what
    `await future` iterates."""
    facts, snap = c_fields
    if not facts["c_asyncio"]:
        pytest.skip("asyncio's C Task is not in use")
    objects = Objects(snap, [facts["fut_waiter"], facts["step"], facts["future_iter"]])
    wakeup = objects.target(facts["fut_waiter"], "._callback0")
    assert Objects(snap, [wakeup]).target(wakeup, ".__self__") == facts["task"]
    assert objects.target(facts["step"], ".__self__") == facts["pending"]
    assert objects.target(facts["future_iter"], ".future") == facts["future"]
    for name in ("step", "future_iter"):
        assert unnamed(objects, facts[name]) == [], name


def test_large_lru_cache_is_labelled_exactly(c_fields):
    facts, snap = c_fields
    objects = Objects(snap, [facts["big"]])
    edges = objects[facts["big"]]["edges"]
    labels = [e["label"] for e in edges]
    assert sum(1 for label in labels if label.startswith("['k")) == 20000
    assert sum(1 for label in labels if label.startswith("<key 'k")) == 20000
    assert objects.target(facts["big"], "['k12345']") == facts["big_result"]
    assert unnamed(objects, facts["big"]) == []
    assert all(e["kind"] == "traverse" for e in edges)
