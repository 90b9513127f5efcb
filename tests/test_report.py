"""`heapsnap report`: the HTML page, loaded in a real browser (headless Chromium, driven over the
DevTools protocol on a pipe, so every console message and uncaught exception is seen), with its
findings, its diff against baselines, --no-values snapshots, hostile text, and the progress the
report, diff and check commands show on a terminal.

Run alone, it writes a screenshot of a report:  python3 tests/test_report.py REPORT.html OUT.png
"""
import json
import os
import pty
import re
import struct
import subprocess
import sys
import zlib

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium_browser import CHROMIUM, Browser  # noqa: E402
from conftest import BUILD, INTERPRETERS, fixture, heapsnap, heapsnap_json, run  # noqa: E402

# The newest interpreter: a browser run is slow, and the page does not depend on the version.
PYTHON = INTERPRETERS[-1] if INTERPRETERS else None
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium is not installed (scripts/setup.sh installs it)")


# ---- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


# ---- a PNG, read without PIL -------------------------------------------------------------------

def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def assert_nontrivial_png(path):
    width, height, bpp, rows = png_pixels(path)
    assert width >= 800 and height >= 600, (width, height)
    colours, background = set(), 0
    samples = 0
    for y in range(0, height, 3):
        row = rows[y]
        for x in range(0, width, 3):
            pixel = row[x * bpp:x * bpp + 3]
            colours.add(pixel)
            samples += 1
            background += pixel in (b"\xf6\xf7\xf9", b"\xff\xff\xff")
    # Text, tables and coloured boxes: many colours, and far from all background.
    assert len(colours) > 200, len(colours)
    assert background < 0.97 * samples, (background, samples)


# ---- helpers -------------------------------------------------------------------------------------

def capture(tmp_path, program, name, *args, env=None, no_values=False):
    snap = tmp_path / (name + ".heapsnap")
    flags = ["--no-values"] if no_values else []
    heapsnap("capture", *flags, "-o", snap, "--", PYTHON, program, *args, env=env)
    return snap


def report(snap, out, *args):
    result = heapsnap("report", snap, "-o", out, *args)
    assert "report written to" in result.stderr
    html = open(out, encoding="utf-8").read()
    return html


def assert_self_contained(html):
    # Nothing is fetched: no remote or local URL in any attribute or style, and the page's
    # policy forbids loading anything (default-src 'none').
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html, re.I)
    assert "@import" not in html
    assert "default-src 'none'" in html


def data_block(html):
    m = re.search(r'<script type="application/json" id="heapsnap-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    assert not re.search(r"[<>&]", m.group(1))
    return json.loads(m.group(1))


# ---- tests ---------------------------------------------------------------------------------------

@needs_chromium
def test_report_of_a_leaky_program_in_a_browser(tmp_path, browser):
    snap = capture(tmp_path, fixture("example/app.py"), "app")
    out = tmp_path / "report.html"
    html = report(snap, out)
    assert_self_contained(html)
    data = data_block(html)
    leaks = heapsnap_json("leaks", snap)
    # The page holds what `leaks` finds, in its order, and what `summary` and `top` say.
    assert [f["title"] for f in data["findings"]] == [f["title"] for f in leaks["findings"]]
    assert len(leaks["findings"]) >= 4
    summary = heapsnap_json("summary", snap)
    assert data["summary"]["objects"] == summary["objects"]
    assert data["summary"]["unreachable"]["objects"] == summary["unreachable"]["objects"]
    top = heapsnap_json("top", snap, "--limit", "5")
    assert [o["id"] for o in data["top_objects"][:5]] == [o["id"] for o in top["objects"]]

    problems = browser.open(out)
    assert problems == []
    dom = browser.dom()
    # The script drew every finding: its title, its fix, its retainer graph.
    titles = browser.evaluate(
        "[...document.querySelectorAll('.finding-title')].map(e => e.textContent)")
    shown = [f["title"] for f in leaks["findings"]]
    assert sorted(titles) == sorted(shown)
    for f in leaks["findings"]:
        assert _text(f["fix"]) in dom
    graphs = browser.evaluate("document.querySelectorAll('.finding .graph svg').length")
    assert graphs == len(leaks["findings"])
    # The closure finding's graph runs from sys.modules to the closure.
    closure = [i for i, f in enumerate(data["findings"]) if f["kind"] == "closure"][0]
    graph = data["findings"][closure]["graph"]
    assert [n["text"] for n in graph["nodes"] if n.get("root")] == ["sys.modules"]
    assert sum(1 for n in graph["nodes"] if n.get("target")) == 3  # the first three examples
    assert "._LISTENERS" in [e[2] for e in graph["edges"]]
    assert graph["instances"] == 2000
    # The summary and the memory map are there, the map drawn as boxes one can click.
    assert browser.evaluate("document.querySelector('#summary .cards').children.length") == 5
    boxes = browser.evaluate("document.querySelectorAll('#icicle rect').length")
    assert boxes > 10
    before = browser.evaluate("document.querySelector('.crumbs').textContent")
    browser.evaluate("document.querySelectorAll('#icicle g')[1].dispatchEvent(new MouseEvent('click'))")
    after = browser.evaluate("document.querySelector('.crumbs').textContent")
    assert after != before and after.startswith(before), (before, after)
    # The first screen shows the summary and the first findings.
    visible = browser.evaluate(
        "[document.querySelector('#summary').getBoundingClientRect().top,"
        " document.querySelector('.finding-title').getBoundingClientRect().bottom]")
    assert 0 <= visible[0] and visible[1] < 1800, visible
    png = tmp_path / "report.png"
    browser.screenshot(png)
    assert_nontrivial_png(png)


def _text(s):
    """How text reads in the DOM's serialised HTML."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@needs_chromium
def test_report_against_baselines_shows_what_grew(tmp_path, browser):
    prefix = str(tmp_path / "s")
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))
    run([PYTHON, fixture("growth/series.py"), "leak", prefix, "3"], env=env, check=True)
    snaps = ["%s.%d.heapsnap" % (prefix, i) for i in range(3)]
    out = tmp_path / "growth.html"
    html = report(snaps[2], out, "--baseline", snaps[0], "--baseline", snaps[1])
    data = data_block(html)
    diff = heapsnap_json("diff", *snaps)
    assert diff["growing"], diff
    assert [g["fingerprint"] for g in data["diff"]["growing"]] == \
        [g["fingerprint"] for g in diff["growing"]][:len(data["diff"]["growing"])]
    assert data["diff"]["snapshots"] == snaps
    assert browser.open(out) == []
    dom = browser.dom()
    growing = browser.evaluate(
        "[...document.querySelectorAll('#diff .group-path')].map(e => e.textContent)")
    assert growing[0] == diff["growing"][0]["path_text"]
    assert any(g.endswith("-> __main__.Token") and "SESSIONS" in g for g in growing), growing
    assert diff["growing"][0]["fingerprint"] in dom
    assert browser.evaluate("document.querySelector('nav a[href=\"#diff\"]') !== null")
    # Without baselines the page has no diff.
    assert "diff" not in data_block(report(snaps[2], tmp_path / "alone.html"))


HOSTILE = r'''
import os
# Text a page must never run or render as markup, as keys, values and names.
EVIL = {"</script><script>document.title='pwned'</script>": "x" * 50000,
        "<img src=x onerror=\"document.title='pwned'\">": ["<b>bold</b>" * 5000],
        "\u2028\u2029{{DATA}}/*{{SCRIPT}}*/": bytearray(60000)}
SECRET_KEYS = {os.environ["REPORT_SECRET_KEY"]: bytearray(200000)}
BIG = os.environ["REPORT_SECRET_VALUE"] + "v" * 300000
class Sneaky:
    pass
Sneaky.__qualname__ = "</title><script>document.title='pwned'</script>"
HOLD = [Sneaky() for _ in range(2000)]
'''
SECRET_KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
SECRET_VALUE = "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a"


@needs_chromium
def test_hostile_text_and_no_values(tmp_path, browser):
    program = tmp_path / "hostile.py"
    program.write_text(HOSTILE)
    env = dict(os.environ, REPORT_SECRET_KEY=SECRET_KEY, REPORT_SECRET_VALUE=SECRET_VALUE)
    with_values = report(capture(tmp_path, program, "with", env=env), tmp_path / "with.html")
    # With values the page shows the secrets (so that the check below can fail)...
    assert SECRET_KEY in with_values and SECRET_VALUE in with_values
    assert browser.open(tmp_path / "with.html") == []
    assert browser.evaluate("document.title").startswith("heapsnap report")
    assert browser.evaluate("document.querySelectorAll('img, script:not([type]) ~ script').length") == 0
    assert browser.evaluate("document.querySelectorAll('script').length") == 2
    assert "</script><script>document.title" in browser.evaluate("document.body.textContent")

    without = report(capture(tmp_path, program, "without", env=env, no_values=True),
                     tmp_path / "without.html")
    # ...and none of them, nor any value the program held, without.
    assert SECRET_KEY not in without and SECRET_VALUE not in without
    assert "vvvvvvvvvv" not in without and "xxxxxxxxxx" not in without
    assert data_block(without)["summary"]["values"] is False
    assert browser.open(tmp_path / "without.html") == []
    # The key, as every output shows it.
    assert "[<str of %d chars>]" % len(SECRET_KEY) in browser.evaluate("document.body.textContent")
    assert "--no-values" in browser.evaluate("document.querySelector('#summary').textContent")


def test_secrets_fixture_leaves_nothing_in_a_no_values_report(tmp_path):
    """The capture tests' secrets, of every shape, are not in the report either."""
    from test_capture import ATTRIBUTE_NAME, TOKENS, secrets_env  # noqa: F401
    literal = ["ada@example.com", "hunter2-password", "token-abc123-secret", "987654321987"]
    snap = capture(tmp_path, fixture("secrets.py"), "secrets", env=secrets_env(), no_values=True)
    html = report(snap, tmp_path / "secrets.html")
    for secret in literal + list(TOKENS.values()):
        assert secret not in html, secret


def test_bad_input_and_output(tmp_path):
    missing = tmp_path / "missing.heapsnap"
    result = heapsnap("report", missing, "-o", tmp_path / "r.html", check=False)
    assert result.returncode == 2 and str(missing) in result.stderr, result.stderr
    assert not (tmp_path / "r.html").exists()
    bad = tmp_path / "bad.heapsnap"
    bad.write_bytes(b"not a snapshot")
    result = heapsnap("report", bad, "-o", tmp_path / "r.html", check=False)
    assert result.returncode == 2 and str(bad) in result.stderr, result.stderr
    snap = capture(tmp_path, fixture("exit_code.py"), "small", "0")
    target = tmp_path / "no" / "such" / "dir" / "r.html"
    result = heapsnap("report", snap, "-o", target, check=False)
    assert result.returncode == 2 and str(target) in result.stderr, result.stderr
    # Whole or nothing: a report replaces an older one only once written, and leaves no
    # temporary file.
    out = tmp_path / "r.html"
    out.write_text("old")
    heapsnap("report", snap, "-o", out)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("r.html")) == ["r.html"]
    result = heapsnap("report", snap, "-o", tmp_path / "x.html", "--baseline", missing, check=False)
    assert result.returncode == 2 and str(missing) in result.stderr


def on_terminal(*args):
    """Runs heapsnap with stderr on a pseudo-terminal; returns (exit code, what it wrote there)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([os.path.join(BUILD, "bin", "heapsnap")] + [str(a) for a in args],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(), seen.decode("utf-8", "replace")


def test_progress_on_a_terminal(tmp_path):
    prefix = str(tmp_path / "p")
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))
    run([PYTHON, fixture("growth/series.py"), "leak", prefix, "2"], env=env, check=True)
    first, second = prefix + ".0.heapsnap", prefix + ".1.heapsnap"
    code, seen = on_terminal("report", second, "--baseline", first, "-o", tmp_path / "p.html")
    assert code == 0, seen
    assert "heapsnap: snapshot 1/2 (%s): loading" % first in seen, seen
    assert "heapsnap: snapshot 2/2 (%s): " % second in seen, seen
    assert "report written to" in seen
    # The progress line is erased before the last message.
    assert seen.rstrip().split("\r")[-1].startswith("\x1b[Kheapsnap: report written to"), \
        repr(seen[-200:])
    code, seen = on_terminal("diff", first, second)
    assert code == 0 and "snapshot 2/2" in seen, seen
    code, seen = on_terminal("check", second, "--baseline", first)
    assert code == 1 and "snapshot 1/2" in seen, seen
    # Not on a terminal: nothing but the result.
    result = heapsnap("report", second, "-o", tmp_path / "q.html")
    assert result.stderr.startswith("heapsnap: report written to"), result.stderr


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 tests/test_report.py REPORT.html OUT.png")
    b = Browser(width=1280, height=int(os.environ.get("REPORT_SHOT_HEIGHT", "1500")))
    try:
        problems = b.open(sys.argv[1])
        if problems:
            sys.exit("the page reported problems: %s" % problems)
        b.screenshot(sys.argv[2])
    finally:
        b.close()
