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

import glob
import importlib
import os
import sys

__all__ = ["dump", "CaptureUnavailable", "native_module_name", "available_versions"]
__version__ = "0.1.0"


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
    for path in glob.glob(os.path.join(here, "_heapsnap_*")):
        stem = os.path.basename(path).split(".")[0]
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
            _native = importlib.import_module("heapsnap." + name)
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


def dump(path, *, values=True, max_preview_bytes=100):
    """Write a snapshot of this process's heap to ``path``.

    values: record bounded previews of str, bytes, int and float values (and dict keys that are
    not identifiers). Pass False for snapshots of processes that hold sensitive data.
    max_preview_bytes: the preview bound.

    Returns a dict with the numbers of objects, edges and roots written and the seconds the
    walk took. The file appears at ``path`` only once it is complete.
    """
    native = _load_native()
    objects, edges, roots, seconds = native.dump(
        os.fspath(path), bool(values), "dump", int(max_preview_bytes))
    return {"objects": objects, "edges": edges, "roots": roots, "seconds": seconds}


def _dump_at_exit(path, values, pid=None):
    """Used by ``heapsnap capture``: the snapshot written when the program exits (by the
    process that started under capture, not by children it forked)."""
    if pid is not None and os.getpid() != pid:
        return
    try:
        native = _load_native()
        native.dump(path, bool(values), "exit", 100)
    except Exception as error:  # the program has finished: report, never mask its exit code
        sys.stderr.write("heapsnap: the snapshot was not written: %s\n" % (error,))
