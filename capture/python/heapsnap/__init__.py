"""heapsnap: exact heap snapshots of CPython programs, analysed offline.

    import heapsnap
    heapsnap.dump("app.heapsnap")                # everything, with value previews
    heapsnap.dump("app.heapsnap", values=False)  # no str/bytes/int/float contents

Then, from a shell: ``heapsnap summary app.heapsnap``.

The snapshot holds every gc-tracked object, everything they reference, every thread's running
frames, exact refcounts and labelled references. The capture disables the collector for the
walk, allocates no Python object and runs no Python code while walking, and restores the
collector afterwards, so the program's heap is the same after a dump as before it.
"""

# Only modules every interpreter has loaded before site runs: importing heapsnap (and the
# start-up of `heapsnap capture`) must not import modules the program did not ask for, some
# of which leave garbage behind (enum, re and functools define classes that become cycles).
import os
import sys

__all__ = ["dump", "wait_forked", "CaptureUnavailable", "native_module_name",
           "available_versions"]
__version__ = "@PROJECT_VERSION@"  # filled in by the build from CMakeLists.txt


class CaptureUnavailable(ImportError):
    """No capture module was built for the running interpreter."""


def native_module_name(hexversion=None):
    """The capture module's name for an interpreter: one module per exact CPython version,
    because the capture reads private interpreter structures."""
    return "_heapsnap_%08x" % (sys.hexversion if hexversion is None else hexversion)


def _version_of(hexversion):
    major, minor, micro = hexversion >> 24, (hexversion >> 16) & 0xFF, (hexversion >> 8) & 0xFF
    level = (hexversion >> 4) & 0xF
    serial = hexversion & 0xF
    suffix = {0xA: "a%d" % serial, 0xB: "b%d" % serial, 0xC: "rc%d" % serial}.get(level, "")
    return "%d.%d.%d%s" % (major, minor, micro, suffix)


def available_versions():
    """Python versions this installation has a capture module for."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    for name in os.listdir(here):
        if not name.startswith("_heapsnap_"):
            continue
        stem = name.split(".")[0]
        try:
            found.append(_version_of(int(stem[len("_heapsnap_"):], 16)))
        except ValueError:
            continue
    return sorted(set(found), key=lambda v: [int("".join(c for c in p if c.isdigit()) or 0)
                                             for p in v.split(".")])


_native = None


def _load_native():
    global _native
    if _native is None:
        name = native_module_name()
        implementation = sys.implementation.name
        if implementation != "cpython":
            raise CaptureUnavailable("heapsnap captures CPython only, not %s" % implementation)
        try:
            __import__(__name__ + "." + name)
            _native = sys.modules[__name__ + "." + name]
        except ImportError as error:
            built = ", ".join(available_versions()) or "none"
            raise CaptureUnavailable(
                "heapsnap: no capture module for Python %s (%s); this installation has modules "
                "for: %s. Rebuild heapsnap with -DHEAPSNAP_PYTHONS=%s (%s)"
                % (_version_of(sys.hexversion), sys.executable, built, sys.executable, error)
            ) from None
    return _native


# Load the capture module now, so that the first dump() does not import anything (an import
# inside dump() would leave new module objects behind in the program being measured).
try:
    _load_native()
except CaptureUnavailable:
    pass  # dump() raises it again with the explanation


def dump(path, *, values=True, max_preview_bytes=100, fork=False):
    """Write a snapshot of this process's heap to ``path``.

    values: record bounded previews of str, bytes, int and float values, and the text of every
    str dict key. Pass False for snapshots of processes that hold sensitive data: then only
    keys that are names of the program (interned strs, as the names in code are) keep their
    text, every other one is written as <str of N chars>.
    max_preview_bytes: the preview bound.
    fork: take the snapshot in a child process and return at once. The process forks here (a
    plain fork(): Python's os.register_at_fork hooks do not run, nor does any Python code in
    the child); the child walks its copy-on-write image of the heap, writes the file and
    leaves with _exit. The program pauses only for the fork. Returns {"pid", "pause_seconds"};
    ``wait_forked(pid)`` waits for the child and returns what a plain dump() returns.

    Returns a dict with the numbers of objects, edges and roots written and the seconds the
    walk took. The file appears at ``path`` only once it is complete, with mode 0600.
    """
    native = _load_native()
    if fork:
        pid, pause = native.fork_dump(os.fspath(path), bool(values), "fork",
                                      int(max_preview_bytes))
        return {"pid": pid, "pause_seconds": pause}
    objects, edges, roots, seconds = native.dump(
        os.fspath(path), bool(values), "dump", int(max_preview_bytes))
    return {"objects": objects, "edges": edges, "roots": roots, "seconds": seconds}


def wait_forked(pid, timeout=None):
    """Waits for the child of ``dump(..., fork=True)`` that has this pid (at most ``timeout``
    seconds) and returns the numbers dump() returns, plus "child_seconds" (from the fork to the
    child's end). Raises TimeoutError if it is still writing, RuntimeError with the reason if
    it failed (its file is then not there)."""
    native = _load_native()
    result = native.fork_result(int(pid), -1.0 if timeout is None else float(timeout))
    if result is None:
        raise TimeoutError("heapsnap: the snapshot of child %d is still being written" % pid)
    objects, edges, roots, seconds, child_seconds = result
    return {"objects": objects, "edges": edges, "roots": roots, "seconds": seconds,
            "child_seconds": child_seconds}


def _arm_capture(path, values, signal=0, every=0.0, fork=False, at_exit=True):
    """Used by ``heapsnap capture`` (and the HEAPSNAP_* environment): arranges the snapshots
    the command asked for. ``path`` may hold ``{pid}``.

    Triggers (signal, every): snapshots while the program runs, numbered app.1.heapsnap,
    app.2.heapsnap... (capture/src/triggers.h); with fork, each one is a fork capture. A child
    the program makes with os.fork() (a pre-fork server's workers) gets triggers of its own,
    writing app.PID.1.heapsnap... so that a signal sent to a worker snapshots that worker.

    At exit (at_exit): the snapshot taken when the main module has finished, before threads
    are joined and before atexit handlers run; numbered after the triggered ones if any.
    Py_FinalizeEx calls threading._shutdown (which joins the non-daemon threads and runs the
    callbacks of threading._register_atexit, such as concurrent.futures' shutdown) and only
    then the atexit handlers, on every version 3.8-3.13, whether the program ended normally,
    by sys.exit or by an uncaught exception. So the snapshot is taken by a wrapper of
    threading._shutdown, before it does anything. If the program replaced
    threading._shutdown itself (gevent does), an atexit handler registered now, which runs
    after all the program's own handlers, takes the snapshot instead. Only the process that
    started under capture writes it: not children made by os.fork(), which inherit both. The
    triggers are stopped first (waiting for a snapshot being written), in every process."""
    import atexit
    import threading

    native = _load_native()
    pid = os.getpid()
    output = path.replace("{pid}", str(pid))
    triggered = bool(signal or every)
    if triggered:
        native.arm_triggers(output, bool(values), 100, int(signal), float(every), bool(fork))

        def rearm_in_child():
            try:
                child = os.getpid()
                base = (path.replace("{pid}", str(child)) if "{pid}" in path
                        else native.per_process_path(output, child))
                native.arm_triggers(base, bool(values), 100, int(signal), float(every),
                                    bool(fork))
            except Exception as error:
                sys.stderr.write("heapsnap: no snapshots in child %d: %s\n"
                                 % (os.getpid(), error))

        os.register_at_fork(after_in_child=rearm_in_child)
    taken = []

    def snapshot():
        if taken:
            return
        taken.append(True)
        if triggered:
            native.disarm_triggers()
        if not at_exit or os.getpid() != pid:
            return
        target = native.next_triggered_path() if triggered else output
        try:
            native.dump(target, bool(values), "exit", 100)
        except Exception as error:  # the program has finished: report, never mask its exit code
            sys.stderr.write("heapsnap: the snapshot was not written: %s\n" % (error,))

    shutdown = threading._shutdown

    def _shutdown():
        snapshot()
        return shutdown()

    threading._shutdown = _shutdown
    atexit.register(snapshot)
