"""heapsnap.testing: fail when a piece of code leaks, and say which path holds what it leaked.

A body that can be repeated runs ``warmup`` times, then ``runs`` more times with a snapshot of
the heap after each (and one before the first), and the snapshots are checked by the
``heapsnap`` program (``heapsnap check``): a leak is a group of objects with the same retainer
path shape (``sys.modules['app'].SEEN[*] -> Token``) that grew by at least ``min_growth`` in
every run. A cache that fills once, or an LRU cache capped below ``runs``, does not grow in
every run and passes.

Three forms, all running the body ``warmup + runs`` times::

    from heapsnap.testing import no_leaks

    @no_leaks()                      # a decorator: each call of the function repeats it
    def test_handler():
        handle(request())

    no_leaks(runs=5).run(handle, request())   # a call: run(fn, *args, **kwargs)

    with no_leaks() as check:        # a block: Python cannot re-run a with block by itself,
        for _ in check:              # so the repetition is a for loop over the check
            handle(request())

A leak raises LeakError (an AssertionError) naming each growing group: its path, type, count
in each snapshot and fingerprint. Pass ``save_dir`` to keep the snapshots for ``heapsnap check``,
``heapsnap diff`` and ``heapsnap path``; otherwise they are written to a temporary directory and
removed.

Between runs the heap settles: gc.collect() until it frees nothing (a few rounds at most),
sys._clear_internal_caches() (3.13+) and sys._clear_type_cache(). While a run executes, every
object of the snapshot before it is held alive (a hold, taken by the capture right after its
walk), so that no object the run creates can get the address of one that existed before; the
hold is released before the next snapshot, whose refcounts are then exactly the program's.
"""

import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile

import heapsnap

__all__ = ["no_leaks", "LeakError", "LeakCheckError", "find_cli"]

# gc.collect() rounds at most: finalizers may free more on each round, but a heap that still
# frees objects after this many is not settling.
_SETTLE_ROUNDS = 5
# Groups named in a LeakError's message (one leak often grows a whole subtree of groups; the
# exception's findings and heapsnap check list them all).
_SHOWN_FINDINGS = 10


class LeakError(AssertionError):
    """Some group of objects grew in every run. ``findings`` and ``known_retention`` are the
    lists of ``heapsnap check --json``; ``snapshots`` the files checked (removed unless saved)."""

    def __init__(self, message, findings, known_retention, snapshots):
        AssertionError.__init__(self, message)
        self.findings = findings
        self.known_retention = known_retention
        self.snapshots = snapshots


class LeakCheckError(RuntimeError):
    """The check itself could not be done: no heapsnap program, or it refused its input."""


def find_cli():
    """The heapsnap program that checks the snapshots: $HEAPSNAP_CLI if set, else the one of
    this installation (PREFIX/bin/heapsnap for the package in PREFIX/lib/heapsnap/python, in
    the build tree and in an install alike), else the first on PATH."""
    env = os.environ.get("HEAPSNAP_CLI")
    if env:
        if not os.access(env, os.X_OK):
            raise LeakCheckError("HEAPSNAP_CLI=%s is not an executable program" % env)
        return env
    package = os.path.dirname(os.path.abspath(heapsnap.__file__))
    prefix = package
    for _ in range(4):  # PREFIX/lib/heapsnap/python/heapsnap
        prefix = os.path.dirname(prefix)
    beside = os.path.join(prefix, "bin", "heapsnap")
    if os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which("heapsnap")
    if on_path:
        return on_path
    raise LeakCheckError(
        "heapsnap.testing needs the heapsnap program to check its snapshots: it is not at %s "
        "nor on PATH (set HEAPSNAP_CLI to its path)" % beside)


def _settle():
    clear_internal = getattr(sys, "_clear_internal_caches", None)  # 3.13+: tier-2 executors
    if clear_internal is not None:
        clear_internal()
    sys._clear_type_cache()
    for _ in range(_SETTLE_ROUNDS):
        if gc.collect() == 0:
            break


class no_leaks(object):  # noqa: N801 (used like a function: @no_leaks(), with no_leaks())
    """Checks that a repeatable body leaks nothing (see the module's documentation).

    warmup: runs before the first snapshot (lazy initialisation, caches filling once).
    runs: runs measured, each followed by a snapshot; a group leaks if it grew in every one.
    min_growth: how much a group must grow in every run to count (objects per run).
    suppress: suppression rules, one per string (or lines of one string), in heapsnap check's
        syntax: ``type:NAME``, ``path:GLOB`` (on the rendered path), ``function:QUALNAME``,
        ``fingerprint:HEX``; ``#`` starts a comment.
    default_suppressions: apply heapsnap's built-in rules for CPython's own fill-once
        retention (groups they match are reported as known retention, not as leaks).
    save_dir: keep the snapshots (run-0.heapsnap ... run-N.heapsnap) and the suppression file
        there; otherwise they go to a temporary directory that is removed.
    values: record value previews in the snapshots (False by default: path texts then show
        only the names of the program, e.g. dict keys written in its code, never data such as
        generated keys, which makes the groups and fingerprints the same from run to run and
        keeps data out of saved snapshots).
    """

    def __init__(self, warmup=1, runs=3, min_growth=1, suppress=(), default_suppressions=True,
                 save_dir=None, values=False):
        if isinstance(suppress, str):
            suppress = [suppress]
        if int(warmup) < 0 or int(runs) < 2 or int(min_growth) < 1:
            raise ValueError("no_leaks needs warmup >= 0, runs >= 2 (growth in every run means "
                             "something only with two runs or more) and min_growth >= 1")
        self.warmup = int(warmup)
        self.runs = int(runs)
        self.min_growth = int(min_growth)
        self.suppress = list(suppress)
        self.default_suppressions = bool(default_suppressions)
        self.save_dir = None if save_dir is None else os.fspath(save_dir)
        self.values = bool(values)
        # What the last check found: heapsnap check's JSON (passed, findings, known_retention).
        self.result = None
        self._iteration = None
        self._done = False

    def _copy(self):
        return no_leaks(self.warmup, self.runs, self.min_growth, self.suppress,
                        self.default_suppressions, self.save_dir, self.values)

    # ---- the forms ----

    def __call__(self, function):
        """As a decorator: each call of the function runs it warmup + runs times under a check
        of its own, and returns what the last run returned."""
        template = self

        @functools.wraps(function)
        def checked(*args, **kwargs):
            return template._copy().run(function, *args, **kwargs)

        return checked

    def run(self, function, *args, **kwargs):
        """Calls function(*args, **kwargs) warmup + runs times and checks; returns the last
        call's result."""
        result = None
        with self:
            for _ in self:
                result = function(*args, **kwargs)
        return result

    def __enter__(self):
        if self._iteration is not None:
            raise RuntimeError("a no_leaks check runs once; make a new one")
        self._iteration = self._repeat()
        return self

    def __iter__(self):
        if self._iteration is None:  # `for _ in no_leaks():` without a with block
            self._iteration = self._repeat()
        return self._iteration

    def __exit__(self, exc_type, exc, tb):
        iteration, self._iteration = self._iteration, None
        iteration.close()  # releases the hold and removes the temporary snapshots
        if exc_type is None and not self._done:
            raise RuntimeError("with no_leaks() as check: the body must repeat itself with "
                               "`for _ in check:` (Python cannot re-run a with block)")
        return False

    # ---- the procedure ----

    def _repeat(self):
        """Yields once per run of the body; takes the snapshots in between, then checks."""
        native = heapsnap._load_native()  # raises CaptureUnavailable before the body runs
        for _ in range(self.warmup):
            yield
        directory = self._directory()
        # Everything the procedure keeps across runs exists before the first snapshot, so that
        # the procedure itself grows nothing.
        paths = [os.path.join(directory, "run-%d.heapsnap" % i) for i in range(self.runs + 1)]
        values = self.values
        hold = None
        try:
            _settle()
            hold = native.dump(paths[0], values, "no_leaks", 100, True)[4]
            for i in range(1, self.runs + 1):
                yield
                native.release_hold(hold)
                hold = None
                _settle()
                hold = native.dump(paths[i], values, "no_leaks", 100, True)[4]
            native.release_hold(hold)
            hold = None
            self._done = True
            self.result = self._check(directory, paths)
        finally:
            if hold is not None:
                native.release_hold(hold)
            if self.save_dir is None:
                shutil.rmtree(directory, ignore_errors=True)

    def _directory(self):
        if self.save_dir is None:
            return tempfile.mkdtemp(prefix="heapsnap-no-leaks-")
        os.makedirs(self.save_dir, exist_ok=True)
        return self.save_dir

    def command(self, directory, paths):
        """The heapsnap check command line for these snapshots (the program's path first)."""
        args = [find_cli(), "check", paths[-1]]
        for path in paths[:-1]:
            args += ["--baseline", path]
        args += ["--min-growth", str(self.min_growth), "--json"]
        if self.suppress:
            rules = os.path.join(directory, "suppressions.txt")
            with open(rules, "w") as f:
                f.write("\n".join(self.suppress) + "\n")
            args += ["--suppress", rules]
        if not self.default_suppressions:
            args.append("--no-default-suppressions")
        return args

    def _check(self, directory, paths):
        args = self.command(directory, paths)
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        if done.returncode not in (0, 1):
            raise LeakCheckError("heapsnap check failed (exit %d): %s\ncommand: %s"
                                 % (done.returncode, done.stderr.strip(), _shell(args)))
        try:
            result = json.loads(done.stdout)
        except ValueError:
            raise LeakCheckError("heapsnap check wrote no JSON (exit %d): %s\n%s"
                                 % (done.returncode, done.stdout[:2000], done.stderr.strip()))
        if done.returncode == 1 or not result.get("passed", False):
            raise LeakError(self._message(result, args, done), result.get("findings", []),
                            result.get("known_retention", []),
                            paths if self.save_dir is not None else [])
        return result

    def _message(self, result, args, done):
        findings = result.get("findings", [])
        lines = ["heapsnap: %d group%s of objects grew by %d or more in every one of %d runs "
                 "(after %d warm-up run%s):"
                 % (len(findings), "" if len(findings) == 1 else "s", self.min_growth, self.runs,
                    self.warmup, "" if self.warmup == 1 else "s")]
        for f in findings[:_SHOWN_FINDINGS]:
            lines.append("  %s" % _path_with_type(f))
            lines.append("    counts per snapshot: %s (%+d objects, %+d bytes)"
                         % (", ".join(str(c) for c in f.get("counts", [])),
                            f.get("count_delta", 0), f.get("bytes_delta", 0)))
            lines.append("    fingerprint %s, e.g. object %s%s"
                         % (f.get("fingerprint"), f.get("example"),
                            " at %s" % f["example_path"] if f.get("example_path") else ""))
        if len(findings) > _SHOWN_FINDINGS:
            lines.append("  ... and %d more groups (heapsnap check lists them all)"
                         % (len(findings) - _SHOWN_FINDINGS))
        if not findings:
            lines.append(done.stdout.strip() or done.stderr.strip())
        known = result.get("known_retention", [])
        if known:
            lines.append("  and %d group%s of known CPython retention (not counted): %s"
                         % (len(known), "" if len(known) == 1 else "s",
                            ", ".join(sorted(set(k.get("rule", "?") for k in known)))))
        unused = [r.get("rule") for r in result.get("suppressions", [])
                  if not r.get("builtin") and not r.get("matches")]
        if unused:
            lines.append("  suppression rules that matched nothing: %s" % "; ".join(unused))
        if self.save_dir is not None:
            lines.append("Snapshots in %s; check them again with:" % self.save_dir)
            lines.append("  " + _shell(["heapsnap"] + [a for a in args[1:] if a != "--json"]))
            if findings:
                lines.append("  heapsnap path %s --id %s"
                             % (_shell([args[2]]), findings[0].get("example")))
        else:
            lines.append("(no_leaks(save_dir=...) or pytest --heapsnap-save-dir DIR keeps the "
                         "snapshots)")
        return "\n".join(lines)


def _path_with_type(finding):
    text = finding.get("path_text") or " ".join(finding.get("path", [])) or "?"
    type_name = finding.get("type", "")
    if type_name and not text.endswith(type_name):
        text += " -> " + type_name
    return text


def _shell(args):
    import shlex  # only when a message is written
    return " ".join(shlex.quote(str(a)) for a in args)
