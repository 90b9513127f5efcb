"""heapsnap.testing and the pytest plugin, end to end: the fixture test files of
fixtures/pytest/ run by pytest in a subprocess under every interpreter that can run pytest
(Debian's pure-Python pytest, borrowed by the other interpreters), and heapsnap.testing's forms
(fixtures/no_leaks_forms.py) under every interpreter the capture was built for."""
import json
import os
import re
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import BUILD, FIXTURES, INTERPRETERS, heapsnap, interpreter_id, run

PACKAGE_DIR = os.path.join(BUILD, "lib", "heapsnap", "python")
PYTEST_FIXTURES = os.path.join(FIXTURES, "pytest")
DIST_PACKAGES = "/usr/lib/python3/dist-packages"
# Debian's pytest and its pure-Python dependencies (exceptiongroup and tomli for 3.8-3.10):
# only these, not the rest of dist-packages, which holds modules compiled for /usr/bin/python3.
PYTEST_PARTS = ["pytest", "_pytest", "py.py", "py", "pluggy", "iniconfig", "packaging", "attr",
                "attrs", "exceptiongroup", "tomli"]
TOKEN_FINGERPRINTS = {}  # the Token group's fingerprint, from the first interpreter tested
FINGERPRINT = re.compile(r"fingerprint ([0-9a-f]{16})\b")
SEEN_PATH = "sys.modules['leaky'].SEEN[*]"
SEEN_GROUP = SEEN_PATH + " -> leaky.Token"  # a group: the path's shape and the type


@pytest.fixture(scope="session")
def pytest_path(tmp_path_factory):
    """A directory with Debian's pytest and its dependencies, for PYTHONPATH."""
    path = tmp_path_factory.mktemp("pytest-path")
    for part in PYTEST_PARTS:
        source = os.path.join(DIST_PACKAGES, part)
        if os.path.exists(source):
            os.symlink(source, str(path / part))
    return str(path)


_PYTEST_UNAVAILABLE = {}


def pytest_unavailable(python, pytest_path):
    """Why pytest cannot run the plugin under `python` (None when it can)."""
    if python not in _PYTEST_UNAVAILABLE:
        probe = run([python, "-m", "pytest", "--version", "-p", "heapsnap.pytest_plugin"],
                    env=environment(pytest_path))
        _PYTEST_UNAVAILABLE[python] = (
            None if probe.returncode == 0 else
            "pytest does not run under %s: %s" % (python, (probe.stderr.strip().splitlines()
                                                          or ["exit %d" % probe.returncode])[-1]))
    return _PYTEST_UNAVAILABLE[python]


@pytest.fixture(params=INTERPRETERS, ids=[interpreter_id(p) for p in INTERPRETERS])
def pytest_python(request, pytest_path):
    reason = pytest_unavailable(request.param, pytest_path)
    if reason is not None:
        print(reason)
        pytest.skip(reason)
    return request.param


def environment(pytest_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = pytest_path + os.pathsep + PACKAGE_DIR
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written into fixtures/
    env.pop("HEAPSNAP_CLI", None)  # the plugin finds the build tree's heapsnap by itself
    return env


def run_pytest(python, pytest_path, tmp_path, test_file, *args):
    """Runs pytest on a fixture test file; returns {test name: (outcome, message)} from its
    JUnit XML, and the run's output."""
    report = str(tmp_path / "report.xml")
    result = run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
                  "--junitxml", report, test_file] + list(args),
                 cwd=PYTEST_FIXTURES, env=environment(pytest_path))
    output = result.stdout + result.stderr
    assert os.path.exists(report), output
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome = kind
                message = (element.get("message") or "") + "\n" + (element.text or "")
                break
        outcomes[case.get("name")] = (outcome, message)
    return outcomes, output


def assert_leak(outcomes, test, path, output):
    outcome, message = outcomes[test]
    assert outcome == "failure", "%s: %s\n%s" % (test, outcomes[test], output)
    assert path in message, message
    assert FINGERPRINT.search(message), message
    # The counts per snapshot: one before the runs and one after each of the 3 (or more).
    assert re.search(r"counts per snapshot: \d+, \d+, \d+, \d+", message), message
    return set(FINGERPRINT.findall(message))


def test_marked_tests_are_checked(pytest_python, pytest_path, tmp_path):
    outcomes, output = run_pytest(pytest_python, pytest_path, tmp_path, "test_marked.py",
                                  "-p", "heapsnap.pytest_plugin")
    leak = assert_leak(outcomes, "test_per_call_leak", SEEN_GROUP, output)
    assert assert_leak(outcomes, "test_leak_in_fixture", SEEN_GROUP, output) == leak
    for clean in ("test_fill_once", "test_lru_below_runs", "test_pool_replaced", "test_clean",
                  "test_suppressed_leak", "test_leak_below_min_growth", "test_unmarked_leak"):
        assert outcomes[clean][0] == "passed", (clean, outcomes[clean], output)
    # A failing test is reported as its own failure, never as a leak.
    for failing, text in (("test_fails", "fails on purpose"),
                          ("test_fails_and_leaks", "fails and leaks on purpose")):
        outcome, message = outcomes[failing]
        assert outcome == "failure" and text in message, (failing, outcomes[failing])
        assert "heapsnap" not in message and "fingerprint" not in message, message


def test_every_test_is_checked_with_the_option(pytest_python, pytest_path, tmp_path):
    # No -p: pytest finds the plugin through the entry point of heapsnap's dist-info.
    outcomes, output = run_pytest(pytest_python, pytest_path, tmp_path, "test_all.py",
                                  "--heapsnap-leaks")
    assert_leak(outcomes, "test_leak", SEEN_GROUP, output)
    # pytest's bookkeeping (captured output, recorded warnings, fixture finalizers) is reset
    # between the repetitions: tests that make it grow are clean.
    for clean in ("test_clean", "test_uses_fixtures", "test_output", "test_prints",
                  "test_deprecated", "test_warns",
                  "test_opted_out", "test_turned_off", "test_parametrized[1]",
                  "test_parametrized[2]"):
        assert outcomes[clean][0] == "passed", (clean, outcomes[clean], output)
    assert outcomes["test_skipped"][0] == "skipped", outcomes["test_skipped"]
    assert outcomes["test_xfail"][0] == "skipped", outcomes["test_xfail"]
    outcome, message = outcomes["test_not_repeatable"]
    assert outcome == "failure" and "failed when repeated" in message, outcomes[
        "test_not_repeatable"]
    assert "fails on its second run only" in message, message


def test_saved_snapshots_reproduce_the_verdict(pytest_python, pytest_path, tmp_path):
    saved = tmp_path / "saved"
    outcomes, output = run_pytest(pytest_python, pytest_path, tmp_path, "test_marked.py",
                                  "-p", "heapsnap.pytest_plugin", "--heapsnap-save-dir",
                                  str(saved), "-k", "per_call_leak or fill_once")
    assert outcomes["test_per_call_leak"][0] == "failure", output
    assert outcomes["test_fill_once"][0] == "passed", output
    folders = sorted(os.listdir(str(saved)))
    assert folders == ["test_marked.py_test_fill_once", "test_marked.py_test_per_call_leak"]
    leak_dir = saved / "test_marked.py_test_per_call_leak"
    snapshots = [str(leak_dir / ("run-%d.heapsnap" % i)) for i in range(4)]
    assert str(leak_dir) in outcomes["test_per_call_leak"][1]
    for snapshot in snapshots:
        heapsnap("summary", snapshot)
    args = ["check", snapshots[3]]
    for snapshot in snapshots[:3]:
        args += ["--baseline", snapshot]
    verdict = heapsnap(*(args + ["--json"]), check=False)
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr
    paths = [f["path_text"] for f in json.loads(verdict.stdout)["findings"]]
    assert SEEN_GROUP in paths, paths
    fill_dir = saved / "test_marked.py_test_fill_once"
    args = ["check", str(fill_dir / "run-3.heapsnap")]
    for i in range(3):
        args += ["--baseline", str(fill_dir / ("run-%d.heapsnap" % i))]
    assert heapsnap(*args, check=False).returncode == 0


def test_testing_forms(python, tmp_path):
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR, PYTHONDONTWRITEBYTECODE="1")
    result = run([python, os.path.join(FIXTURES, "no_leaks_forms.py"), str(tmp_path)], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    for leaking in ("decorated_leak", "context_manager_leak"):
        assert out[leaking]["outcome"] == "leak", out[leaking]
        assert SEEN_GROUP in out[leaking]["message"], out[leaking]["message"]
        assert FINGERPRINT.search(out[leaking]["message"]), out[leaking]["message"]
    # The same group, the same fingerprint, whichever form found it and under every interpreter
    # (pre-3.11 instances have a __dict__ of their own, which grows too: a second group).
    assert out["decorated_leak"]["fingerprints"] == out["context_manager_leak"]["fingerprints"]
    token = [f for f, line in zip(out["decorated_leak"]["fingerprints"],
                                  re.findall(r"^  (\S.*)$", out["decorated_leak"]["message"], re.M))
             if line == SEEN_GROUP]
    assert len(token) == 1, out["decorated_leak"]["message"]
    assert TOKEN_FINGERPRINTS.setdefault("Token", token[0]) == token[0], (
        "the fingerprint of %s differs between interpreters" % SEEN_GROUP)
    for clean in ("decorated_clean", "context_manager_clean", "run_form", "pool_replaced"):
        assert out[clean]["outcome"] == "passed", (clean, out[clean])
    assert out["decorated_clean_result"] == 1
    assert {"findings", "known_retention", "passed"} <= set(out["context_manager_clean_result"])
    assert out["run_result"] == 25  # the 5th call's argument squared: warmup 2 + runs 3
    # Saved snapshots are loadable by the CLI, and the message says where they are.
    saved = out["context_manager_leak"]["snapshots"]
    assert len(saved) == 4 and str(tmp_path) in out["context_manager_leak"]["message"]
    for snapshot in saved:
        heapsnap("summary", snapshot)
    assert out["context_manager_without_loop"]["outcome"] == "RuntimeError"
    assert "for _ in check" in out["context_manager_without_loop"]["message"]
    # The body's own error propagates, and the hold it ran under is released.
    assert out["body_raises"]["outcome"] == "KeyError"
    assert out["body_raises_runs"] == 3 and out["body_raises_victim_freed"] is True
    assert out["bad_options"]["outcome"] == "ValueError"


def token_addresses(snapshot):
    objects = heapsnap("objects", snapshot, "--type", "leaky.Token", "--limit", "0", "--json")
    return {o["id"] for o in json.loads(objects.stdout)["objects"]}


def test_hold_keeps_addresses_from_being_reused(python, tmp_path):
    """replace_pool() frees 2,000 Tokens, then makes 2,000 new ones: CPython would put the new
    ones at the old addresses. Under the hold, no Token of a snapshot shares an address with a
    Token of the snapshot before (every Token was replaced); the check passes."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR, PYTHONDONTWRITEBYTECODE="1")
    result = run([python, os.path.join(FIXTURES, "no_leaks_forms.py"), str(tmp_path)], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["pool_replaced"]["outcome"] == "passed"
    snapshots = [str(tmp_path / "pool_replaced" / ("run-%d.heapsnap" % i)) for i in range(4)]
    addresses = [token_addresses(s) for s in snapshots]
    pool_tokens = 2000
    for before, after in zip(addresses, addresses[1:]):
        assert len(after) >= pool_tokens and len(after) == len(before)
        # Only the Tokens that were not replaced (the other fixtures' leaky tables) are the
        # same objects at the same addresses.
        assert len(before & after) <= len(after) - pool_tokens, (
            "%d Tokens share an address with the snapshot before" % len(before & after))
