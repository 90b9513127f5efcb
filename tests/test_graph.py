"""`heapsnap graph`: retainer graphs of fixture programs, as DOT, SVG and PNG, on every
interpreter."""
import os
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import INTERPRETERS, fixture, heapsnap, heapsnap_json

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (scripts/setup.sh installs it)")

SVG = "{http://www.w3.org/2000/svg}"


def capture(python, tmp_path, script):
    snap = tmp_path / (os.path.basename(script) + ".heapsnap")
    heapsnap("capture", "-o", snap, "--", python, script)
    return snap


def edges(dot):
    """(from, to, label, attributes) of every edge of the DOT text heapsnap writes."""
    out = []
    for m in re.finditer(r'^  (n\d+) -> (n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', dot, re.M):
        out.append((m.group(1), m.group(2), m.group(3), m.group(4)))
    return out


def nodes(dot):
    """node name -> label of the DOT text heapsnap writes."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M)}


def path_to(dot, node):
    """The labels from a root down to `node`, along shortest-path edges (solid) where there are
    some, a folded node read with its steps."""
    by_to = {}
    for e in edges(dot):
        if e[1] not in by_to or ("dashed" in by_to[e[1]][3] and "dashed" not in e[3]):
            by_to[e[1]] = e
    labels = nodes(dot)
    text = ""
    for _ in range(len(labels) + 1):
        if node not in by_to:
            return labels[node].split("\\n")[0] + text
        e = by_to[node]
        text = e[2] + text
        node = e[0]
    raise AssertionError("cycle in the shortest paths of:\n" + dot)


def svg_texts(svg_path):
    root = ET.parse(svg_path).getroot()  # raises unless valid XML
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def test_order_from_its_shortest_path_and_the_alternative(python, tmp_path):
    """shop.py: each Order is in REGISTRY['by_number'] (shortest) and in its customer's orders."""
    snap = capture(python, tmp_path, fixture("shop.py"))
    dot = heapsnap("graph", snap, "--type", "Order", "--limit", "1").stdout
    assert dot.startswith("digraph retainers {")
    labels = nodes(dot)
    assert labels["n0"].startswith("__main__.Order\\n0x"), labels["n0"]
    assert re.fullmatch(r"sys\.modules\['__main__'\]\.REGISTRY\['by_number'\]\[\d+\]",
                        path_to(dot, "n0")), dot
    # The other path: the customer's .orders list, dashed, from the customer up to a root.
    alternatives = [e for e in edges(dot) if e[1] == "n0" and "dashed" in e[3]]
    assert [re.sub(r"\d+", "N", e[2]) for e in alternatives] == ["[N]"], dot
    assert re.fullmatch(r"sys\.modules\['__main__'\]\.REGISTRY\['customers'\]\['cy'\]\.orders",
                        path_to(dot, alternatives[0][0])), dot
    assert any(label.startswith("sys.modules\\n") for label in labels.values())


def test_closure_finding_with_svg(python, tmp_path):
    snap = capture(python, tmp_path, fixture("leaks/closures.py"))
    findings = heapsnap_json("leaks", snap)["findings"]
    closure = [f for f in findings if f["kind"] == "closure"]
    assert len(closure) == 1, findings
    dot = heapsnap("graph", snap, "--finding", closure[0]["fingerprint"]).stdout
    target = nodes(dot)["n0"]
    # The finding's example, a listener function held in LISTENERS, and what it holds.
    assert re.fullmatch(r"sys\.modules\['__main__'\]\.LISTENERS\[\d+\]", path_to(dot, "n0")), dot
    assert target.startswith("function\\n__main__.make_listener.<locals>.listener\\n0x"), target
    # --limit 3 (the default): three of the listeners, in one list.
    assert sum(1 for label in nodes(dot).values() if label.startswith("function\\n")) == 3, dot
    svg = tmp_path / "closure.svg"
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    result = heapsnap("graph", snap, "--finding", closure[0]["fingerprint"], "-o", svg)
    assert "written to" in result.stderr
    texts = svg_texts(svg)
    assert "function" in texts
    assert any(t.startswith("sys.modules") for t in texts), texts
    assert any(t == ".LISTENERS" for t in texts), texts


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shop")
    return capture(INTERPRETERS[0], tmp, fixture("shop.py"))


def test_garbage_cycle_hangs_under_its_root(shop):
    dot = heapsnap("graph", shop, "--type", "Basket", "--limit", "1").stdout
    labels = nodes(dot)
    assert labels["n0"].startswith("__main__.Basket\\n"), labels
    assert path_to(dot, "n0") == "<unreachable garbage>", dot
    # Its peer's namespace dict refers to it (garbage has no path, so the dict is not read
    # through as `.peer`: that needs the dict's own referrer).
    into = [e for e in edges(dot) if e[1] == "n0" and "dashed" in e[3]]
    assert [e[2] for e in into] == ["['peer']"], dot
    assert labels[into[0][0]].startswith("dict\\n"), dot


def test_by_id_and_output_files(shop, tmp_path):
    paths = heapsnap_json("path", shop, "--type", "Customer")["paths"]
    ada = paths[0]["target"]["id"]
    dot_file = tmp_path / "ada.dot"
    heapsnap("graph", shop, "--id", ada, "-o", dot_file)
    text = dot_file.read_text()
    assert ("\\n%s, retains " % ada) in nodes(text)["n0"]
    assert path_to(text, "n0") == paths[0]["text"]
    assert heapsnap("graph", shop, "--id", ada).stdout == text  # stdout: the same DOT
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    png = tmp_path / "ada.png"
    heapsnap("graph", shop, "--id", ada, "-o", png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_errors_exit_2_and_write_nothing(shop, tmp_path):
    out = tmp_path / "x.svg"
    r = heapsnap("graph", shop, "--type", "Order", "-o", tmp_path / "x.pdf", check=False)
    assert r.returncode == 2 and ".dot, .gv, .svg or .png" in r.stderr
    r = heapsnap("graph", shop, "--finding", "0123456789abcdef", check=False)
    assert r.returncode == 2 and "no leak finding has the fingerprint 0123456789abcdef" in r.stderr
    r = heapsnap("graph", shop, check=False)
    assert r.returncode == 2 and "--id, --type or --finding" in r.stderr
    r = heapsnap("graph", tmp_path / "missing.heapsnap", "--type", "Order", check=False)
    assert r.returncode == 2 and "missing.heapsnap" in r.stderr
    # No dot on PATH: a clear error, and no file.
    empty = tmp_path / "bin"
    empty.mkdir()
    r = heapsnap("graph", shop, "--type", "Order", "-o", out, check=False,
                 env=dict(os.environ, PATH=str(empty)))
    assert r.returncode == 2, r.stderr
    assert "Graphviz's dot program is needed" in r.stderr and str(out) in r.stderr
    assert not out.exists()
    # dot that fails: its message, and no file.
    fake = empty / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    r = heapsnap("graph", shop, "--type", "Order", "-o", out, check=False,
                 env=dict(os.environ, PATH="%s:%s" % (empty, os.environ["PATH"])))
    assert r.returncode == 2, r.stderr
    assert "dot -Tsvg failed (exit code 1): Error: syntax error in line 1" in r.stderr
    assert not out.exists()


HOSTILE = r'''
import gc

class Evil:
    pass

KEY = 'k"]; n99 [label="pwned"]; \\l\n<b>&amp;</b>\x1b[31m\udcff'
HOLDER = {KEY: Evil()}
HOLDER[KEY].note = "a\"b\\c\nd<e>&f"
'''


@needs_dot
def test_hostile_labels_stay_text(tmp_path):
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE)
    snap = capture(INTERPRETERS[0], tmp_path, script)
    dot = heapsnap("graph", snap, "--type", "Evil").stdout
    assert "pwned" not in [label for label in nodes(dot).values()]
    assert not re.search(r"^  n99", dot, re.M)
    dot.encode("utf-8")  # valid UTF-8: decoding did not fail
    svg = tmp_path / "hostile.svg"
    heapsnap("graph", snap, "--type", "Evil", "-o", svg)
    texts = svg_texts(svg)
    assert "__main__.Evil" in texts
    key = [t for t in texts if t.startswith("['k")]
    assert key == ["['k\"]; n99 [label=\"pwned\"]; \\\\l\\x0a<b>&amp;</b>\\x1b[31m\\xed\\xb3\\xbf']"] \
        or len(key) == 1, texts
    assert "&amp;" in key[0] and "<b>" in key[0], key
