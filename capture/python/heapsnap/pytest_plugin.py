"""heapsnap's pytest plugin: fail the tests that leak, with the path that holds what they leaked.

    @pytest.mark.no_leaks(warmup=1, runs=3, min_growth=1, suppress=["type:Token"])
    def test_handler(): ...

    pytest --heapsnap-leaks                    # every test, the marker's options where given
    pytest --heapsnap-leaks --heapsnap-save-dir snapshots/   # keep them: one folder per test

A checked test runs its whole protocol (setup, call, teardown: fixtures included) warmup + runs
times under heapsnap.testing.no_leaks, then once more the usual way, which is what pytest
reports. A test whose group of objects grew in every run fails with the path, the counts per
snapshot and the fingerprint. Only tests that pass are judged: a test that fails or is skipped
is reported as such, never as a leak; one that passes alone but fails when repeated fails with
the repetition's error (a test checked for leaks must be repeatable).

Opt out under --heapsnap-leaks with ``@pytest.mark.no_leak_check(reason="...")`` or
``@pytest.mark.no_leaks(False)``.

Found by pytest without configuration (the entry point ``heapsnap.pytest_plugin`` in the
``pytest11`` group, from heapsnap-VERSION.dist-info beside the package); from a build tree
``-p heapsnap.pytest_plugin`` works too.
"""

import os
import re
import warnings

import pytest

_OPTIONS = ("warmup", "runs", "min_growth", "suppress", "default_suppressions", "values")


def pytest_addoption(parser):
    group = parser.getgroup("heapsnap", "heapsnap leak checks")
    group.addoption("--heapsnap-leaks", action="store_true", default=False,
                    help="check every test for leaks (repeats each test's setup, call and "
                         "teardown; see @pytest.mark.no_leaks for the options)")
    group.addoption("--heapsnap-save-dir", metavar="DIR", default=None,
                    help="keep the snapshots of the checked tests in DIR, one folder per test")
    group.addoption("--heapsnap-repeat-only", action="store_true", default=False,
                    help="repeat the checked tests as a leak check would, but take no "
                         "snapshots and check nothing (to measure what the repetition costs)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "no_leaks(enabled=True, warmup=1, runs=3, min_growth=1, suppress=(), "
        "default_suppressions=True, values=False): fail the test if a group of objects grows "
        "in every one of `runs` repetitions (heapsnap.testing.no_leaks); no_leaks(False) turns "
        "the check off under --heapsnap-leaks")
    config.addinivalue_line(
        "markers", "no_leak_check(reason=''): never check this test for leaks (heapsnap)")
    if config.getoption("heapsnap_leaks") and not config.getoption("heapsnap_repeat_only"):
        import heapsnap
        try:
            heapsnap._load_native()
        except heapsnap.CaptureUnavailable as error:
            raise pytest.UsageError("--heapsnap-leaks: %s" % error)
    config.pluginmanager.register(LeakChecker(config), "heapsnap-leak-checker")


class _NotRepeatable(Exception):
    """A repetition of the test did not pass: the check stops, the test is not judged."""

    def __init__(self, reports, run):
        Exception.__init__(self)
        self.reports = reports
        self.run = run


class LeakChecker(object):
    def __init__(self, config):
        self.config = config
        self.repeat_only = config.getoption("heapsnap_repeat_only")
        self.all_tests = config.getoption("heapsnap_leaks") or self.repeat_only
        self.save_dir = config.getoption("heapsnap_save_dir")
        self.verdicts = {}  # nodeid -> the failure text to put on the call report

    def options_for(self, item):
        """The no_leaks options of a test, or None when it is not checked."""
        if item.get_closest_marker("no_leak_check") is not None:
            return None
        marker = item.get_closest_marker("no_leaks")
        if marker is None:
            return {} if self.all_tests else None
        if marker.args and not marker.args[0]:
            return None
        if len(marker.args) > 1 or (marker.args and marker.args[0] is not True):
            raise pytest.UsageError("%s: no_leaks takes only keywords (and False to turn it off)"
                                    % item.nodeid)
        unknown = sorted(set(marker.kwargs) - set(_OPTIONS) - {"enabled"})
        if unknown:
            raise pytest.UsageError("%s: no_leaks has no option %s (it has: %s)"
                                    % (item.nodeid, ", ".join(unknown), ", ".join(_OPTIONS)))
        if not marker.kwargs.get("enabled", True):
            return None
        return {k: v for k, v in marker.kwargs.items() if k in _OPTIONS}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        options = self.options_for(item)
        if options is None:
            return None  # pytest runs the test as usual
        from _pytest.runner import runtestprotocol

        import heapsnap
        from heapsnap import testing

        if self.save_dir is not None:
            options["save_dir"] = os.path.join(self.save_dir, _folder_name(item.nodeid))
        check = testing.no_leaks(**options)
        user_properties = list(item.user_properties)
        doctest_globs = _doctest_globs(item)
        run = [0]

        def once():
            run[0] += 1
            # The warnings plugin records every warning of the whole protocol in one list: each
            # run records into a list of its own, dropped with it (the usual run afterwards
            # reports the test's warnings).
            with warnings.catch_warnings(record=True):
                reports = runtestprotocol(item, log=False, nextitem=nextitem)
            # What pytest keeps on the item from one run to the next (captured output, user
            # properties, doctest globals) goes back to how it was.
            item._report_sections = []
            item.user_properties[:] = user_properties
            _drop_repeated_fixture_finalizers(item)
            if doctest_globs is not None:
                item.dtest.globs.update(doctest_globs)
            if not all(r.passed for r in reports):
                raise _NotRepeatable(reports, run[0])

        try:
            if self.repeat_only:
                for _ in range(check.warmup + check.runs):
                    once()
            else:
                with check:
                    for _ in check:
                        once()
        except _NotRepeatable as stopped:
            failed = [r for r in stopped.reports if r.failed]
            if failed:
                self.verdicts[item.nodeid] = (
                    "not_repeatable", stopped.run, check.warmup + check.runs, failed[0])
        except testing.LeakError as leak:
            self.verdicts[item.nodeid] = ("leak", str(leak))
        except (testing.LeakCheckError, heapsnap.CaptureUnavailable) as error:
            self.verdicts[item.nodeid] = ("error", "heapsnap could not check for leaks: %s"
                                          % (error,))
        return None  # pytest now runs the test once more, as usual, and reports it

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if call.when != "call" or item.nodeid not in self.verdicts:
            return
        verdict = self.verdicts.pop(item.nodeid)
        report = outcome.get_result()
        if not report.passed or hasattr(report, "wasxfail"):
            return  # failing (or xfail) now: its own failure says more than the check would
        if verdict[0] == "not_repeatable":
            _, number, total, failed = verdict
            report.longrepr = (
                "heapsnap: the test passes once but failed when repeated for its leak check "
                "(%s of run %d of %d; mark it no_leak_check if it cannot be repeated):\n%s"
                % (failed.when, number, total, failed.longreprtext))
        else:
            report.longrepr = verdict[1]
        report.outcome = "failed"

    def pytest_runtest_logfinish(self, nodeid, location):
        self.verdicts.pop(nodeid, None)

    def pytest_report_header(self, config):
        if self.all_tests:
            return "heapsnap: %s every test%s" % (
                "repeating" if self.repeat_only else "checking for leaks",
                "" if self.save_dir is None else ", snapshots in %s" % self.save_dir)
        return None


def _folder_name(nodeid):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:200] or "test"


def _drop_repeated_fixture_finalizers(item):
    """pytest registers a fixture's teardown again each time a test uses it: a function fixture
    that uses a wider one adds a functools.partial of its FixtureDef.finish to the wider one's
    finalizers, and every use of a module- or session-scoped fixture adds a lambda finishing it
    to its node's finalizers in the setup state. Nothing removes them before the wider scope
    ends, so pytest's bookkeeping grows by one entry per run. Between repetitions, the entries
    that finish a fixture already finished (they would do nothing) and all but the last of those
    that finish the same fixture are dropped (finishing it once is the whole effect)."""
    lists = []
    infos = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(infos, "name2fixturedefs", {}).values():
        for definition in definitions:
            if getattr(definition, "scope", "function") != "function":
                lists.append(getattr(definition, "_finalizers", None))
    stack = getattr(getattr(item.session, "_setupstate", None), "stack", None)
    if isinstance(stack, dict):
        lists.extend(entry[0] for entry in stack.values() if isinstance(entry, tuple) and entry)
    for finalizers in lists:
        if not isinstance(finalizers, list) or len(finalizers) < 2:
            continue
        kept, finished = [], set()
        for finalizer in reversed(finalizers):
            fixture = _fixture_finished_by(finalizer)
            if fixture is not None:
                if fixture.cached_result is None or id(fixture) in finished:
                    continue
                finished.add(id(fixture))
            kept.append(finalizer)
        if len(kept) != len(finalizers):
            finalizers[:] = kept[::-1]


def _fixture_finished_by(finalizer):
    """The FixtureDef a finalizer of pytest's finishes, or None for any other finalizer."""
    finish = getattr(finalizer, "func", None)  # functools.partial(fixturedef.finish, request=r)
    owner = getattr(finish, "__self__", None)
    if getattr(finish, "__name__", None) == "finish" and hasattr(owner, "cached_result"):
        return owner
    code = getattr(finalizer, "__code__", None)  # lambda: fixturedef.finish(request=r)
    closure = getattr(finalizer, "__closure__", None)
    if code is not None and closure and "fixturedef" in code.co_freevars:
        owner = closure[code.co_freevars.index("fixturedef")].cell_contents
        if hasattr(owner, "cached_result") and hasattr(owner, "finish"):
            return owner
    return None


def _doctest_globs(item):
    # Doctests clear their globals after running (clear_globs): a copy puts them back.
    dtest = getattr(item, "dtest", None)
    globs = getattr(dtest, "globs", None)
    return dict(globs) if isinstance(globs, dict) else None
