# Loaded by `heapsnap capture` through PYTHONPATH, before the program runs: arranges for the
# snapshots asked for (heapsnap._arm_capture: at exit, on a signal, periodically), then runs any
# sitecustomize the environment had. The program's code is not changed, and the start-up
# leaves as little as it can for the program to see: the HEAPSNAP_* variables are removed
# from the environment (so that Python subprocesses of the program do not write over the same
# snapshot), PYTHONPATH and sys.path are as they would have been, this module is not left in
# sys.modules, it imports only heapsnap, its capture module, threading and atexit, and the
# garbage those imports make is collected before the program (or its own sitecustomize) runs.
import os
import sys


def _heapsnap_boot():
    output = os.environ.pop("HEAPSNAP_OUTPUT", None)
    on_signal = os.environ.pop("HEAPSNAP_ON_SIGNAL", None)
    every = os.environ.pop("HEAPSNAP_EVERY", None)
    at_exit = os.environ.pop("HEAPSNAP_AT_EXIT", None)
    fork = os.environ.pop("HEAPSNAP_FORK", None)
    if output is None and on_signal is None and every is None:
        return
    values = os.environ.pop("HEAPSNAP_VALUES", "1") != "0"
    status = os.environ.pop("HEAPSNAP_STATUS", None)
    try:
        if not output:
            output = "heapsnap-{pid}.heapsnap"
        output = os.path.abspath(output)  # the program may change its directory
        signal_number = _signal_number(on_signal)
        seconds = _seconds(every)
        at_exit = _switch("HEAPSNAP_AT_EXIT", at_exit, True)
        fork = _switch("HEAPSNAP_FORK", fork, False)
    except ValueError as error:
        _report(status, "unavailable")
        sys.stderr.write("heapsnap: the capture could not start, so the program was not run: "
                         "%s\n" % (error,))
        sys.stderr.flush()
        os._exit(2)
    pythonpath = os.environ.pop("HEAPSNAP_PYTHONPATH", None)
    if pythonpath is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = pythonpath
    boot_dir = os.path.dirname(os.path.abspath(__file__))
    had_threading = "threading" in sys.modules
    try:
        import heapsnap
        package_dir = os.path.dirname(os.path.abspath(heapsnap.__file__))
        _drop_path(boot_dir)
        _drop_path(os.path.dirname(package_dir))
        heapsnap._arm_capture(output, values, signal_number, seconds, fork, at_exit)
        sys.path_importer_cache.pop(package_dir, None)  # the finder of the capture module
    except (ImportError, ValueError) as error:
        _report(status, "unavailable")
        reason = str(error)
        if reason.startswith("heapsnap: "):
            reason = reason[len("heapsnap: "):]
        sys.stderr.write("heapsnap: the capture could not start, so the program was not run: "
                         "%s\n" % (reason,))
        sys.stderr.flush()
        os._exit(2)
    _report(status, "started")
    if not had_threading:
        # Importing threading defines classes that end up in cycles on some versions (the
        # pure-Python OrderedDict and partial replaced by their C versions, types._C): without
        # capture the program would start with no garbage.
        import gc
        gc.collect()


def _signal_number(text):
    """HEAPSNAP_ON_SIGNAL: a signal's name (USR2, SIGUSR2) or number; empty means SIGUSR2."""
    if text is None:
        return 0
    import _signal  # built in, and loaded already: not signal.py, which imports enum
    name = text.strip().upper() or "USR2"
    if name.isdigit():
        number = int(name)
    else:
        number = getattr(_signal, name if name.startswith("SIG") else "SIG" + name, None)
        if not isinstance(number, int) or name.startswith("SIG_"):
            raise ValueError("HEAPSNAP_ON_SIGNAL=%s is not a signal's name or number" % text)
    if number in (_signal.SIGKILL, getattr(_signal, "SIGSTOP", -1)) or not 0 < number < _signal.NSIG:
        raise ValueError("HEAPSNAP_ON_SIGNAL=%s: that signal cannot be caught" % text)
    return number


def _seconds(text):
    """HEAPSNAP_EVERY: a period in seconds, > 0."""
    if text is None:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError("HEAPSNAP_EVERY=%s is not a number of seconds above 0" % text)
    return seconds


def _switch(name, text, default):
    if text is None or text == "":
        return default
    if text in ("1", "0"):
        return text == "1"
    raise ValueError("%s=%s must be 1 or 0" % (name, text))


def _drop_path(directory):
    """Removes the entry heapsnap capture put first on sys.path for directory."""
    for i, entry in enumerate(sys.path):
        if os.path.abspath(entry or ".") == directory:
            del sys.path[i]
            sys.path_importer_cache.pop(entry, None)
            return


def _report(status, word):
    """Tells `heapsnap capture` whether the capture started, through the pipe it passed as
    HEAPSNAP_STATUS=fd:inode (the inode makes sure the fd is still that pipe), and closes it
    so that the program and its children do not inherit it."""
    if not status:
        return
    try:
        fd, inode = (int(part) for part in status.split(":"))
        if os.fstat(fd).st_ino != inode:
            return
        os.write(fd, (word + "\n").encode())
        os.close(fd)
    except (ValueError, OSError):
        pass


def _chain_sitecustomize():
    """Runs the sitecustomize this one hides, if there is one; returns whether there was."""
    here = os.path.dirname(os.path.abspath(__file__))
    # The import system's own modules, loaded before site: importlib.util would import more.
    external = sys.modules["_frozen_importlib_external"]
    bootstrap = sys.modules["_frozen_importlib"]
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = external.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return False
    module = bootstrap.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)
    return True


_heapsnap_boot()
if not _chain_sitecustomize():
    # As if there were no sitecustomize: site ignores an ImportError for this very name, and
    # the import system removes this module from sys.modules.
    del _heapsnap_boot, _drop_path, _report, _chain_sitecustomize, _signal_number, _seconds
    del _switch
    raise ImportError("no sitecustomize besides heapsnap's", name="sitecustomize")
del _heapsnap_boot, _drop_path, _report, _chain_sitecustomize, _signal_number, _seconds, _switch
