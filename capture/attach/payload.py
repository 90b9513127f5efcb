# The code `heapsnap capture --pid` runs in the target, on the thread the injector started,
# holding the GIL, with fresh globals (never __main__'s). The command line appends one call:
# _heapsnap_attach(python_dir, output, values, result_path, fork), the paths as bytes
# (os.fsdecode'd here, so that the command line needs no quoting).
#
# It imports heapsnap from the command line's installation (the path is on sys.path only for
# the import), which picks the capture module for the target's exact version or raises
# CaptureUnavailable, and writes the snapshot (a temporary file renamed into place, mode
# 0600), with reason "attach"; with fork, a child of the program writes it (fork_capture.h) while
# this thread waits for it without the GIL, and the program pauses for fork() only. It reports
# back through result_path, written under a temporary name and renamed: "ok OBJECTS EDGES
# SECONDS [PAUSE]", or "unavailable" / "error" and the message on the next line. It imports nothing the program has not (os and sys only), and never threading
# (a 3.8 program that never imported it would complain at exit, cpython #81597).


def _heapsnap_attach(python_dir, output, values, result_path, fork=False):
    import os
    import sys

    python_dir, output, result_path = map(os.fsdecode, (python_dir, output, result_path))

    def report(text):
        temporary = result_path + ".tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
        os.replace(temporary, result_path)

    try:
        added = python_dir not in sys.path
        if added:
            sys.path.insert(0, python_dir)
        try:
            import heapsnap
        finally:
            if added:
                sys.path.remove(python_dir)
        try:
            native = heapsnap._load_native()
        except heapsnap.CaptureUnavailable as error:
            report("unavailable\n%s\n" % (error,))
            return
        if fork:
            pid, pause = native.fork_dump(output, bool(values), "attach", 100)
            objects, edges, _, seconds, _ = native.fork_result(pid, -1.0)  # RuntimeError if failed
            report("ok %d %d %.6f %.6f\n" % (objects, edges, seconds, pause))
            return
        objects, edges, _, seconds = native.dump(output, bool(values), "attach", 100)
        report("ok %d %d %.6f\n" % (objects, edges, seconds))
    except BaseException as error:  # the target must go on whatever happened here
        report("error\n%s: %s\n" % (type(error).__name__, error))
