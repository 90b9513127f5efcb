# Loaded by `heapsnap capture` through PYTHONPATH, before the program runs: arranges for a
# snapshot at exit, then runs any sitecustomize the environment had. The program's own code is
# not changed. HEAPSNAP_OUTPUT is removed from the environment so that Python subprocesses of
# the program do not write over the same snapshot.
import os
import sys


def _heapsnap_boot():
    output = os.environ.pop("HEAPSNAP_OUTPUT", None)
    values = os.environ.pop("HEAPSNAP_VALUES", "1") != "0"
    if output is None:
        return
    try:
        import heapsnap
        heapsnap._load_native()
    except ImportError as error:
        sys.stderr.write("%s\n" % (error,))
        sys.stderr.flush()
        os._exit(2)
    import atexit
    # A child made by os.fork() inherits atexit handlers: only this process writes.
    atexit.register(heapsnap._dump_at_exit, output, values, os.getpid())


def _chain_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    import importlib.machinery
    import importlib.util
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_heapsnap_boot()
_chain_sitecustomize()
del _heapsnap_boot, _chain_sitecustomize
