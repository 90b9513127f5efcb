"""Golden tests of `path` and `top` on the shop fixture, on every interpreter: the same heap
gives the same paths whatever the version. Sizes and addresses differ between versions and
runs, so they are normalised before comparing."""
import os
import re

import pytest

from conftest import fixture, heapsnap, heapsnap_json

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def normalise(text):
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    text = re.sub(r"\b\d[\d,]*(\.\d+)? (B|KiB|MiB|GiB)\b", "<bytes>", text)
    lines = [re.sub(r" +", " ", line).rstrip() for line in text.splitlines()
             if not line.startswith("  e.g. ")]
    return "\n".join(lines) + "\n"


@pytest.fixture
def shop(python, tmp_path):
    snap = tmp_path / "shop.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("shop.py"))
    return snap


def check_golden(name, output):
    path = os.path.join(GOLDEN, name)
    if os.environ.get("HEAPSNAP_UPDATE_GOLDEN"):
        with open(path, "w") as f:
            f.write(normalise(output))
    with open(path) as f:
        assert normalise(output) == f.read()


@pytest.mark.parametrize("args,golden", [
    (["path", "--type", "Order"], "path_order.txt"),
    (["path", "--type", "__main__.Customer"], "path_customer.txt"),
    (["path", "--type", "Basket"], "path_basket.txt"),
    (["top", "--type", "Customer", "--limit", "3"], "top_customer.txt"),
])
def test_golden(shop, args, golden):
    check_golden(golden, heapsnap(args[0], shop, *args[1:]).stdout)


def test_path_json_contract(shop):
    data = heapsnap_json("path", shop, "--type", "Customer")
    assert len(data["paths"]) == 3
    first = data["paths"][0]
    assert first["root"] == "sys.modules"
    assert [s["label"] for s in first["steps"]] == ["['__main__']", ".REGISTRY", "['customers']",
                                                     "['cy']"]
    assert first["steps"][-1]["type"] == "Customer"
    assert first["target"]["type"] == "Customer"
    assert first["target"]["retained_bytes"] > 0
    sizes = [p["target"]["retained_bytes"] for p in data["paths"]]
    assert sizes == sorted(sizes, reverse=True)


def test_top_leaves_out_roots_and_modules_unless_asked(shop):
    import re
    objects = heapsnap_json("top", shop, "--limit", "20")["objects"]
    module_namespace = re.compile(r"^sys\.modules\['[^']*'\]\.__dict__$")
    assert not [o for o in objects if o["type"] == "module" or o["path"] == "sys.modules"
                or module_namespace.match(o["path"])], [o["path"] for o in objects]
    everything = heapsnap_json("top", shop, "--limit", "20", "--all")["objects"]
    assert [o for o in everything if o["type"] == "module" or module_namespace.match(o["path"])]


def test_top_json_contract(shop):
    data = heapsnap_json("top", shop, "--limit", "5")
    assert len(data["objects"]) == 5
    retained = [o["retained_bytes"] for o in data["objects"]]
    assert retained == sorted(retained, reverse=True)
    assert all(o["retained_bytes"] >= o["self_bytes"] for o in data["objects"])
    types = {t["type"]: t for t in heapsnap_json("top", shop, "--limit", "0")["types"]}
    # The orders are held by the index as well as by their customers: a customer keeps only
    # itself, its name and its order list alive.
    assert types["__main__.Customer"]["count"] == 3
    assert types["__main__.Order"]["retained_bytes"] >= types["__main__.Order"]["self_bytes"]


def test_summary_reports_garbage_and_retained(shop):
    data = heapsnap_json("summary", shop)
    assert data["unreachable"]["objects"] >= 10  # five Basket pairs (and their dicts < 3.11)
    assert data["unreachable"]["cycles"] >= 5  # the baskets, and whatever the interpreter left
    assert data["unreachable"]["retained_bytes"] >= data["unreachable"]["bytes"]
    assert all("retained_bytes" in t for t in data["types"])


def test_path_for_a_running_frame_local(python, tmp_path):
    facts_snapshot = tmp_path / "known.heapsnap"
    import json
    heapsnap("capture", "-o", tmp_path / "x.heapsnap", "--", python,
             fixture("known_objects.py"), tmp_path / "facts.json", facts_snapshot)
    facts = json.load(open(tmp_path / "facts.json"))
    text = heapsnap("path", facts_snapshot, "--id", facts["frame_local"]).stdout
    assert text.startswith("thread 'MainThread' running_function (")
    assert ": frame_local" in text
    # The running frame's local `user` is a shorter way to the order than the registry.
    order = heapsnap("path", facts_snapshot, "--id", facts["order7"]).stdout
    assert ": user.orders[7]" in order
