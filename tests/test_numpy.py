"""End to end, on the interpreters that can import numpy (Debian's python3-numpy and
python3-pandas are for /usr/bin/python3): numpy arrays are not tracked and have no
tp_traverse, so what a view's base, a dtype and an object array's elements keep alive comes
from numpy's own struct, read by the capture."""
import json
import os

import pytest

from conftest import BUILD, Objects, fixture, heapsnap_json, run


@pytest.fixture
def numpy_snapshot(python, tmp_path):
    facts_path = tmp_path / "facts.json"
    snapshot = tmp_path / "numpy.heapsnap"
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))
    result = run([python, fixture("datascience/numpy_views.py"), str(facts_path), str(snapshot)],
                 env=env)
    assert result.returncode == 0, result.stderr
    with open(facts_path) as f:
        facts = json.load(f)
    if not facts["numpy"]:
        pytest.skip("numpy is not importable under this interpreter")
    return facts, str(snapshot)


def retained(snapshot, object_id):
    paths = heapsnap_json("path", snapshot, "--id", str(object_id))["paths"]
    return paths[0]["target"]["retained_bytes"]


def test_snapshot_stays_exact(numpy_snapshot, tmp_path):
    _, snap = numpy_snapshot
    with open(tmp_path / "facts.json.after") as f:
        after = json.load(f)
    assert after["refcounts_unchanged"], after
    assert heapsnap_json("summary", snap)["inconsistent_objects"] == 0


def test_a_view_keeps_its_dropped_base(numpy_snapshot):
    facts, snap = numpy_snapshot
    objects = Objects(snap, [facts["view"], facts["base"]])
    edge = objects.edge(facts["view"], ".base")
    assert int(edge["target"], 16) == facts["base"]
    assert edge["kind"] == "strong"
    # sys.getsizeof counts the data buffer for the array that owns it, never for a view.
    assert objects[facts["base"]]["size"] == facts["base_getsizeof"] >= facts["base_nbytes"]
    assert objects[facts["view"]]["size"] == facts["view_getsizeof"] < 1000
    assert retained(snap, facts["view"]) >= facts["base_nbytes"]


def test_bases_dtypes_and_buffers(numpy_snapshot):
    facts, snap = numpy_snapshot
    ids = ["small_view", "view_of_view", "owned", "from_bytes"]
    objects = Objects(snap, [facts[name] for name in ids])
    # numpy points a view of a view at the array that owns the data.
    assert facts["view_of_view_base"] == facts["small_base"]
    assert objects.target(facts["view_of_view"], ".base") == facts["small_base"]
    assert objects.target(facts["small_view"], ".base") == facts["small_base"]
    assert objects.target(facts["from_bytes"], ".base") == facts["from_bytes_base"]
    assert objects.edge(facts["from_bytes"], ".base")["target_type"] == "bytes"
    assert objects.target(facts["owned"], ".dtype") == facts["owned_dtype"]
    assert not any(e["label"] == ".base" for e in objects[facts["owned"]]["edges"])
    assert objects[facts["owned"]]["size"] == facts["owned_getsizeof"]


def test_object_arrays_hold_their_items(numpy_snapshot):
    facts, snap = numpy_snapshot
    objects = Objects(snap, [facts["items"], facts["items_view"]])
    edge = objects.edge(facts["items"], "[5]")  # items[1, 2] in a (2, 3) array
    assert int(edge["target"], 16) == facts["item_1_2"]
    assert edge["kind"] == "strong"
    assert sum(1 for e in objects[facts["items"]]["edges"] if e["label"].startswith("[")) == 6
    # A view owns no element: its base does.
    view_edges = [e["label"] for e in objects[facts["items_view"]]["edges"]]
    assert ".base" in view_edges and not any(label.startswith("[") for label in view_edges)


def test_pandas_frame_retains_its_columns(numpy_snapshot):
    facts, snap = numpy_snapshot
    if not facts["pandas"]:
        pytest.skip("pandas is not importable under this interpreter")
    frame = retained(snap, facts["frame"])
    usage = facts["frame_memory_usage"]  # DataFrame.memory_usage(deep=True).sum()
    # Its arrays (a view's base included) and the strs of its object column, and little else.
    assert usage * 0.95 <= frame <= usage * 1.2, (frame, usage)
