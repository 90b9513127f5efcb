"""`heapsnap diff` and `heapsnap check` on snapshots of real programs (fixtures/growth/series.py)
taken over time, under every interpreter the capture was built for."""
import json
import os
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import BUILD, fixture, heapsnap, heapsnap_json, run


def python_env():
    return dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))


def series(python, tmp_path, scenario, iterations=4, name=None):
    """Runs the scenario; returns its snapshots (oldest first) and its facts."""
    prefix = str(tmp_path / (name or scenario))
    out = run([python, fixture("growth/series.py"), scenario, prefix, str(iterations)],
              env=python_env())
    assert out.returncode == 0, out.stderr
    with open(prefix + ".json") as f:
        facts = json.load(f)
    return ["%s.%d.heapsnap" % (prefix, i) for i in range(iterations)], facts


def check_args(snapshots):
    args = [snapshots[-1]]
    for s in snapshots[:-1]:
        args += ["--baseline", s]
    return args


def growing(diff, suffix):
    return [g for g in diff["growing"] if g["path_text"].endswith(suffix)]


def test_a_leak_grows_in_every_interval_and_fails_the_check(python, tmp_path):
    snaps, _ = series(python, tmp_path, "leak")
    diff = heapsnap_json("diff", *snaps)
    tokens = growing(diff, ".SESSIONS[*]['history'][*] -> __main__.Token")
    assert len(tokens) == 1, [g["path_text"] for g in diff["growing"]]
    token = tokens[0]
    assert token["counts"] == [500, 1000, 1500, 2000]
    assert token["count_delta"] == 1500 and token["bytes_delta"] > 0
    assert token["type"] == "__main__.Token"
    assert token["path"][-1] == "[*]" and "['history']" in token["path"]
    assert "['SESSIONS']['user" in token["example_path"]
    int(token["example"], 16)
    assert len(token["fingerprint"]) == 16
    by_type = {t["type"]: t for t in diff["types"]}
    assert by_type["__main__.Token"]["count_delta"] == 1500

    junit = tmp_path / "leaks.xml"
    result = heapsnap("check", *check_args(snaps), "--junit", junit, check=False)
    assert result.returncode == 1, result.stderr
    assert "FAIL growth" in result.stdout
    assert token["fingerprint"] in result.stdout
    assert ".SESSIONS[*]['history'][*]" in result.stdout
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    failures = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    names = [case.get("name") for case in failures]
    assert "growth" in names
    leak_case = [c for c in failures if c.get("name").startswith(token["fingerprint"])]
    assert len(leak_case) == 1
    text = leak_case[0].find("failure").text
    assert "500 -> 1,000 -> 1,500 -> 2,000" in text and "example: 0x" in text

    checked = json.loads(heapsnap("check", *check_args(snaps), "--json", check=False).stdout)
    assert checked["passed"] is False
    assert token["fingerprint"] in [f["fingerprint"] for f in checked["findings"]]


def test_fingerprints_are_the_same_in_another_run(python, tmp_path):
    """A fingerprint names a group in every run of the program, not one snapshot's objects."""
    first, _ = series(python, tmp_path, "leak", 2, name="first")
    second, _ = series(python, tmp_path, "leak", 3, name="second")
    a = {g["path_text"]: g["fingerprint"] for g in heapsnap_json("diff", *first)["growing"]}
    b = {g["path_text"]: g["fingerprint"] for g in heapsnap_json("diff", *second)["growing"]}
    assert a and a == b


@pytest.mark.parametrize("scenario", ["fill_once", "lru"])
def test_what_fills_once_does_not_grow(python, tmp_path, scenario):
    snaps, _ = series(python, tmp_path, scenario)
    diff = heapsnap_json("diff", *snaps)
    assert diff["growing"] == [], [g["path_text"] for g in diff["growing"]]
    result = heapsnap("check", *check_args(snaps))
    assert "passed" in result.stdout


def test_reused_addresses_are_not_growth(python, tmp_path):
    """5,000 Tokens freed and 5,000 allocated between snapshots, many of them at the very
    addresses just freed (hundreds at least): no growth, no survivors, no new Tokens."""
    snaps, facts = series(python, tmp_path, "reuse")
    assert max(facts["reused"]) >= 100, facts["reused"]  # the scenario does reuse addresses
    diff = heapsnap_json("diff", *snaps)
    assert diff["growing"] == [], [g["path_text"] for g in diff["growing"]]
    assert diff["containers"] == []
    assert "__main__.Token" not in {t["type"] for t in diff["types"] if t["count_delta"]}
    two = heapsnap_json("diff", snaps[0], snaps[-1])
    assert two["growing"] == []
    assert heapsnap("check", *check_args(snaps)).returncode == 0


def test_cpython_caches_are_known_retention(python, tmp_path):
    snaps, facts = series(python, tmp_path, "cpython_caches")
    checked = json.loads(heapsnap("check", *check_args(snaps), "--json").stdout)
    assert checked["passed"] is True, [f["path_text"] for f in checked["findings"]]
    rules = {k["rule"].split(" (")[0] for k in checked["known_retention"]}
    assert "path:sys.modules['re']._cache*" in rules
    assert "path:sys.modules['linecache'].cache*" in rules
    version = tuple(int(part) for part in facts["python"].split("."))
    typing_rule = ("path:sys.modules['typing']._caches*" if version >= (3, 12)
                   else "path:sys.modules['typing']._cleanups*")
    assert typing_rule in rules, rules
    text = heapsnap("check", *check_args(snaps)).stdout
    assert "Known retention" in text and "re's compiled-pattern cache" in text
    strict = heapsnap("check", *check_args(snaps), "--no-default-suppressions", check=False)
    assert strict.returncode == 1
    assert "sys.modules['re']._cache" in strict.stdout


def test_suppressions_file_matches_and_reports_unused_rules(python, tmp_path):
    snaps, _ = series(python, tmp_path, "leak")
    rules = tmp_path / "leaks.supp"
    rules.write_text("# the sessions are the app's own business\n"
                     "path:*.SESSIONS[*]['history']*   # tokens, their ints and strs\n"
                     "type:nothing.Matches\n")
    result = heapsnap("check", *check_args(snaps), "--suppress", rules)
    assert "passed" in result.stdout
    assert "UNUSED" in result.stdout and "type:nothing.Matches" in result.stdout
    checked = json.loads(heapsnap("check", *check_args(snaps), "--suppress", rules,
                                  "--json").stdout)
    assert checked["findings"] == []
    assert {s["rule"].split(" (")[0] for s in checked["suppressed"]} == {
        "path:*.SESSIONS[*]['history']*"}
    uses = {s["rule"]: s for s in checked["suppressions"] if not s["builtin"]}
    assert uses["type:nothing.Matches"]["matches"] == 0
    assert uses["path:*.SESSIONS[*]['history']*"]["matches"] >= 3
    assert uses["path:*.SESSIONS[*]['history']*"]["origin"].endswith("leaks.supp:2")


def test_function_rules_and_fail_on(python, tmp_path):
    """A mutable default that grows: `--fail-on mutable_default` fails on it, and a
    `function:` rule naming the function suppresses both the finding and the growth."""
    snaps, _ = series(python, tmp_path, "defaults")
    failed = json.loads(heapsnap("check", *check_args(snaps), "--fail-on", "mutable_default",
                                 "--json", check=False).stdout)
    assert failed["passed"] is False
    kinds = {(f["assertion"], f["kind"]) for f in failed["findings"]}
    assert ("fail-on mutable_default", "mutable_default") in kinds, kinds
    assert ("growth", "group") in kinds
    growth = [f for f in failed["findings"] if f["assertion"] == "growth"]
    assert any("<default seen=>" in f["path_text"] for f in growth), growth
    rules = tmp_path / "remember.supp"
    rules.write_text("function:__main__.remember\n")
    passed = json.loads(heapsnap("check", *check_args(snaps), "--fail-on", "mutable_default",
                                 "--suppress", rules, "--json").stdout)
    assert passed["passed"] is True and passed["findings"] == []
    assert {s["kind"] for s in passed["suppressed"]} >= {"group", "mutable_default"}


def test_bounds(python, tmp_path):
    snaps, _ = series(python, tmp_path, "leak", 2)
    base = check_args(snaps)
    # Each bound replaces the growth rule for its types: the Tokens, their ints and strs, and
    # (before 3.11) their __dict__s.
    assert heapsnap("check", *base, "--max-growth", "__main__.Token=500",
                    "--max-growth", "int=1000", "--max-growth", "str=1000",
                    "--max-growth", "dict=1000").returncode == 0
    tight = heapsnap("check", *base, "--max-growth", "__main__.Tok*=499", check=False)
    assert tight.returncode == 1
    assert "FAIL max-growth __main__.Tok*: __main__.Tok* objects: +500" in tight.stdout
    assert heapsnap("check", *base, "--max-growth", "*=100000",
                    "--max-growth-bytes", "10M").returncode == 0
    small = heapsnap("check", *base, "--max-growth", "*=100000", "--max-growth-bytes", "1K",
                     check=False)
    assert small.returncode == 1 and "FAIL max-growth-bytes" in small.stdout
    assert heapsnap("check", snaps[-1], "--max-unreachable", "1000").returncode == 0


def test_three_snapshot_form_is_the_series_of_three(python, tmp_path):
    snaps, _ = series(python, tmp_path, "leak", 3)
    named = heapsnap_json("diff", "--baseline", snaps[0], "--target", snaps[1],
                          "--final", snaps[2])
    assert named == heapsnap_json("diff", *snaps)


def test_bad_input_is_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.heapsnap"
    bad.write_bytes(b"not a snapshot at all")
    junit = tmp_path / "out.xml"
    result = heapsnap("check", bad, "--max-unreachable", "0", "--junit", junit, check=False)
    assert result.returncode == 2 and "bad.heapsnap" in result.stderr
    assert not junit.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith("out.xml")]
    for args in (["diff", bad], ["check", bad], ["check", bad, "--max-growth", "x=1"],
                 ["check", bad, "--baseline", bad, "--max-growth", "x"],
                 ["check", bad, "--baseline", bad, "--fail-on", "nonsense"],
                 ["check", bad, "--max-unreachable", "0", "--suppress", tmp_path / "none.supp"],
                 ["diff", bad, "--baseline", bad, "--target", bad, "--final", bad]):
        result = heapsnap(*args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("heapsnap: ") or "Error" in result.stderr, result.stderr
    rules = tmp_path / "broken.supp"
    rules.write_text("type:ok\nleak:foo\n")
    result = heapsnap("check", bad, "--max-unreachable", "0", "--suppress", rules, check=False)
    assert result.returncode == 2 and "broken.supp:2: unknown rule kind 'leak'" in result.stderr


def test_default_suppressions_are_listed():
    out = heapsnap("check", "--list-default-suppressions").stdout
    assert "path:sys.modules['re']._cache*" in out
    assert "Python 3.12+" in out and "Python up to 3.11" in out
